// ws's own test suite (ws 8.21, mocha) run against wsx/ws. Every test must pass, or be listed
// in expected-failures.json with the reason; a listed test that passes fails this run too, so
// the list stays true. `node .build/test/ws-suite/run.js --list` shows the current state.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { Peer } from '../shared/peer.js';
import { compare, readList, runSuite, suiteDir, suiteFound, summary } from './run.js';

const dir = suiteDir();
const suite = new Peer(
  "ws's test suite",
  suiteFound(dir),
  `put ws 8.21's test/ folder at ${dir}, or set WS_TEST_SUITE_DIR`,
);

describe("ws's test suite against wsx/ws", () => {
  // The whole suite is one test: several minutes on a loaded 2-core machine (mocha bounds each
  // of ws's tests at 10 s), past the runner's default of two.
  const missing = () => {
    throw new Error(`${suite.reason}: CI installs it, so this test fails rather than skips`);
  };
  const options = { skip: suite.skip, timeout: 15 * 60_000 };
  it(
    'passes every test of ws public API except the listed ones, each with its reason',
    options,
    suite.available ? check : missing,
  );
  async function check(t: TestContext): Promise<void> {
    const list = await readList();
    const outcomes = await runSuite(dir, undefined, list);
    const counts = summary(dir, outcomes);
    t.diagnostic(
      `passed ${counts.passed}, failed with a listed reason ${counts.failed}, ` +
        `skipped by ws's own conditions ${counts.skipped}, not applicable (tests of ws internals) ${counts.internal}; ` +
        `passed only when run again alone ${counts.retried}`,
    );
    for (const [key, reason] of Object.entries(list))
      assert.ok(reason.trim() !== '' && !reason.startsWith('TODO'), key);
    const { unexpected, nowPassing, stale } = compare(outcomes, list);
    assert.deepEqual(
      unexpected.map((o) => `${o.key}: ${o.error}`),
      [],
      'tests that fail and are not in expected-failures.json',
    );
    assert.deepEqual(
      nowPassing.map((o) => o.key),
      [],
      'listed tests that pass now: remove them from expected-failures.json',
    );
    assert.deepEqual(stale, [], 'listed tests that the suite does not have');
    assert.ok(counts.passed > 250, `only ${counts.passed} tests passed`);
  }
});
