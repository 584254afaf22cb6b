// Runs one testee under the suite: wsx serve --echo under the fuzzing client (server role), or
// a client driver under the fuzzing server (client role), each into its own report directory.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { listeningUrl, NODE, WSX_CLI } from '../shared/cli.js';
import { within } from '../shared/wait.js';
import { ACCEPTED } from './accepted.js';
import { MAX_MESSAGE_SIZE } from './drivers/fuzzing-loop.js';
import { casesFor, type RunnerOptions, type Testee } from './options.js';
import { runWrapper, type Suite } from './suite.js';
import { type RunSummary, readRun, summarizeAgent } from './summary.js';

/** How each testee is named in the table and filed in index.json. */
const NAMES: Readonly<Record<Testee, { readonly row: string; readonly agent: string }>> = {
  server: { row: 'server: wsx serve --echo', agent: 'wsx-serve' },
  cli: { row: 'client: wsx connect --echo', agent: 'wsx-connect-cli' },
  connect: { row: 'client: connect()', agent: 'wsx-connect-api' },
  websocket: { row: 'client: WebSocket', agent: 'wsx-websocket' },
};

const DRIVERS: Readonly<Record<Exclude<Testee, 'server'>, string>> = {
  cli: 'cli-client.js',
  connect: 'connect-client.js',
  websocket: 'websocket-client.js',
};

export interface TesteeRun extends RunnerOptions {
  readonly suite: Suite;
}

export async function runTestee(testee: Testee, run: TesteeRun): Promise<RunSummary> {
  const { row, agent } = NAMES[testee];
  const dir = join(run.outDir, testee);
  let status: number;
  try {
    status =
      testee === 'server' ? await serverRole(agent, dir, run) : await clientRole(testee, agent, dir, run);
  } catch (error) {
    // wsx serve did not start, or no port was free: this row fails, the others still run.
    return { ...summarizeAgent(row, undefined), error: (error as Error).message };
  }
  const summary = readRun(row, dir, agent, ACCEPTED[testee]);
  // The wrapper's status says whether the run itself went through (124: it timed out).
  if (status !== 0 && summary.error === undefined) {
    return { ...summary, error: `the suite's wrapper exited with ${status} (reports in ${dir})` };
  }
  return summary;
}

async function serverRole(agent: string, dir: string, run: TesteeRun): Promise<number> {
  const server = spawn(
    NODE,
    [
      WSX_CLI,
      'serve',
      '--echo',
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--max-payload',
      String(MAX_MESSAGE_SIZE),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = once(server, 'exit');
  try {
    const url = await listeningUrl(server, 30_000);
    return await runWrapper(
      run.suite,
      'run-fuzzingclient.sh',
      [url.replace(/\/$/, ''), agent, dir, JSON.stringify(casesFor(run, 'server'))],
      run.timeoutSeconds,
    );
  } finally {
    if (server.exitCode === null && server.signalCode === null) {
      server.kill('SIGTERM');
      await within(15_000, 'wsx serve to stop', exited).catch(() => server.kill('SIGKILL'));
    }
  }
}

async function clientRole(
  testee: Exclude<Testee, 'server'>,
  agent: string,
  dir: string,
  run: TesteeRun,
): Promise<number> {
  const port = await freePort();
  const driver = new URL(`./drivers/${DRIVERS[testee]}`, import.meta.url).pathname;
  return runWrapper(
    run.suite,
    'run-fuzzingserver.sh',
    [
      String(port),
      dir,
      JSON.stringify(casesFor(run, testee)),
      '--',
      NODE,
      driver,
      `ws://127.0.0.1:${port}`,
      agent,
    ],
    run.timeoutSeconds,
  );
}

/**
 * A port free on loopback now, for the fuzzing server (which takes a port number, not 0). Another
 * process could take it before the suite binds it; the wrapper then says it could not listen.
 */
async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const address = probe.address();
  probe.close();
  await once(probe, 'close');
  if (address === null || typeof address === 'string') throw new Error('no TCP port from the probe');
  return address.port;
}
