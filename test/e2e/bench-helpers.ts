// Running `wsx bench` and the servers it loads, as real processes on loopback.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { after } from 'node:test';
import { type CliRun, listeningUrl, NODE, runCli, WSX_CLI } from '../shared/cli.js';
import { within } from '../shared/wait.js';

const children: ChildProcess[] = [];
after(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

export interface Served {
  readonly url: string;
  readonly pid: number;
  readonly http: string;
}

/** `wsx serve --port 0 ...args`, once it listens. Killed when the test file ends. */
export async function serve(args: readonly string[] = []): Promise<Served> {
  const child = spawn(NODE, [WSX_CLI, 'serve', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const url = await listeningUrl(child, 10_000);
  const { host } = new URL(url);
  return { url, pid: child.pid!, http: `http://${host}` };
}

export interface BenchRun {
  readonly status: number | null;
  readonly out: string;
  readonly err: string;
}

/**
 * Runs `wsx bench ARGS` to its end. The guard is generous: the machine may be loaded, and
 * a run forks workers, opens connections and drains before it reports.
 */
export async function bench(args: string | readonly string[], guardMs = 90_000): Promise<BenchRun> {
  // A string is split at spaces; an array keeps arguments that hold spaces whole.
  const argv = typeof args === 'string' ? args.split(' ') : args;
  const run: CliRun = runCli(['bench', ...argv]);
  children.push(run.child);
  run.child.stdin!.end();
  const [status] = await within(guardMs, `wsx bench ${argv.join(' ')}`, once(run.child, 'close'));
  return { status: status as number | null, out: run.out(), err: run.err() };
}

/** The fields of `--json` output the tests read. */
export interface BenchResult {
  readonly mode: string;
  readonly workers: number;
  readonly connections?: number;
  readonly messages?: number;
  readonly messagesPerSecond?: number;
  readonly handshakes?: number;
  readonly handshakesPerSecond?: number;
  readonly subscribers?: number;
  readonly publishes?: number;
  readonly deliveries?: number;
  readonly expectedDeliveries?: number;
  readonly text?: boolean;
  readonly deflate: boolean;
  readonly latency: Readonly<Record<'count' | 'min' | 'p50' | 'p90' | 'p99' | 'p99.9' | 'max', number>> & {
    readonly unit: string;
  };
  readonly errors: number;
  readonly errorKinds: Readonly<Record<string, number>>;
  readonly errorSamples: readonly string[];
  readonly server: {
    readonly pid: number;
    readonly rssBeforeKiB: number | null;
    readonly rssEndKiB: number | null;
    readonly perConnectionKiB: number | null;
    readonly cpuPercent: number | null;
  } | null;
  readonly seconds: number;
}

/** The JSON object of a `--json` run: stdout holds it alone, on one line. */
export function resultOf(run: BenchRun): BenchResult {
  const lines = run.out.split('\n').filter((line) => line !== '');
  if (lines.length !== 1)
    throw new Error(`expected one line of JSON on stdout, got: ${run.out}\nstderr: ${run.err}`);
  return JSON.parse(lines[0]);
}

/** The latency percentiles of a result, in order, for checking that they are. */
export function percentiles(result: BenchResult): number[] {
  const latency = result.latency;
  return [latency.min, latency.p50, latency.p90, latency.p99, latency['p99.9'], latency.max];
}

export function ordered(values: readonly number[]): boolean {
  return values.every((value, i) => i === 0 || value >= values[i - 1]);
}

/**
 * The result of a run that must have gone cleanly: exit 0, no error, `count` latencies (one per
 * operation counted) in order from min to max.
 */
export function cleanResult(run: BenchRun, count: number): BenchResult {
  assert.equal(run.status, 0, run.err);
  const result = resultOf(run);
  assert.equal(result.errors, 0, JSON.stringify(result.errorSamples));
  assert.deepEqual(result.errorKinds, {});
  assert.equal(result.latency.count, count);
  assert.ok(ordered(percentiles(result)), JSON.stringify(result.latency));
  return result;
}
