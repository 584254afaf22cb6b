// What every client testee does for Autobahn's fuzzing server: ask how many cases there are,
// run each one (the surface under test connects and echoes until the server closes), then ask
// the server to write its reports. Only the per-case part differs between the surfaces.
import { connect } from '../../../src/index.js';

/**
 * The largest message the testees accept: 9.1.6 and 9.2.6 send 16 MiB messages, and the
 * limit must not be what a case measures.
 */
export const MAX_MESSAGE_SIZE = 64 * 1024 * 1024;

/** Runs one case: connects to `url`, echoes every message, resolves once the connection is closed. */
export type CaseRunner = (url: string) => Promise<void>;

/** Command line of a driver: `node DRIVER BASE_URL AGENT`. */
export function driverArguments(argv: readonly string[]): { base: string; agent: string } {
  const [base, agent] = argv.slice(2);
  if (base === undefined || agent === undefined) {
    process.stderr.write('usage: node DRIVER ws://127.0.0.1:PORT AGENT\n');
    process.exit(2);
  }
  return { base: base.replace(/\/+$/, ''), agent };
}

export async function runAllCases(base: string, agent: string, runCase: CaseRunner): Promise<void> {
  const reply = await textAndClose(`${base}/getCaseCount`);
  const count = Number(reply);
  if (!Number.isSafeInteger(count) || count < 0)
    throw new Error(`getCaseCount answered ${JSON.stringify(reply)}`);
  const who = encodeURIComponent(agent);
  for (let n = 1; n <= count; n++) {
    await runCase(`${base}/runCase?case=${n}&agent=${who}`);
  }
  await textAndClose(`${base}/updateReports?agent=${who}`);
  process.stdout.write(`${agent}: ran ${count} cases\n`);
}

/** The last text message a control URL sends before it closes ('' when none). */
async function textAndClose(url: string): Promise<string> {
  let text = '';
  return new Promise<string>((resolve, reject) => {
    connect(url, {
      handlers: {
        message: (_socket, data, isBinary) => {
          if (!isBinary) text = data.toString('utf8');
        },
        close: () => resolve(text),
      },
    }).catch(reject);
  });
}

/** Runs a driver's main function; an error is printed and fails the process. */
export function runDriver(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  });
}
