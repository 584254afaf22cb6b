// Tests that need a program installed on the machine (tinyproxy, Chromium, Python's
// websockets). Outside CI, where a peer may be missing, its tests are skipped one by one, so
// that the summary counts them as skipped, with the reason and the install command; node:test
// does not count the tests of a skipped `describe`. Under CI (CI set), whose script installs
// every peer, a missing peer fails each of its tests with that reason instead.
//
// WSX_TEST_HIDE_PEERS, a comma-separated list of peer names, makes those peers count as
// missing, to see both paths on a machine that has them.
import { it, type TestContext } from 'node:test';

const hidden = new Set(
  (process.env.WSX_TEST_HIDE_PEERS ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== ''),
);

export class Peer {
  /** Whether the peer is there (and not hidden): hooks that start it check this first. */
  readonly available: boolean;
  /** Why its tests cannot run here, with the command that installs it. */
  readonly reason: string;

  constructor(
    readonly name: string,
    found: boolean,
    install: string,
  ) {
    this.available = found && !hidden.has(name);
    this.reason = `${name} is not installed (${install})`;
  }

  /** The `skip` option of a test that needs the peer: the reason when it is missing outside CI. */
  get skip(): string | false {
    return this.available || process.env.CI ? false : this.reason;
  }

  /** `it` for a test that needs the peer: skipped without it outside CI, failed without it under CI. */
  it(name: string, fn: (t: TestContext) => void | Promise<void>, options: { timeout?: number } = {}): void {
    const reason = this.reason;
    it(
      name,
      { skip: this.skip, ...options },
      this.available
        ? fn
        : () => {
            throw new Error(`${reason}: CI installs it (.ci/run), so its tests fail rather than skip`);
          },
    );
  }
}
