/**
 * Shared plumbing for the benchmark peers: port from argv/env, the ready
 * line, a gc-on-request hook for the idle-memory workload, and clean exit.
 *
 * Protocol with bench/run.ts:
 *   - the server prints `READY port=<port> pid=<pid>` once listening;
 *   - on SIGUSR2 it runs a full GC (when started with --expose-gc) and
 *     prints `GC rss=<bytes> heap=<bytes> total=<bytes> external=<bytes>` (V8's heapUsed,
 *     heapTotal and external after the GC); with
 *     BENCH_HEAP_SNAPSHOT_DIR set, it writes a heap snapshot there first and adds
 *     `snapshot=<path>` (bench/idle-heap.ts reads it);
 *   - on SIGHUP it prints `COUNT <n>`: the messages it has echoed (and, for wsx, the
 *     deliveries of its broadcasts) so far, for `bench/message-cost.sh`;
 *   - SIGTERM/SIGINT exit immediately.
 */

import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';

/** The broadcast trigger: a text message starting with this makes the server send it to everyone. */
export const BROADCAST_PREFIX = 'broadcast:';
const PREFIX_BYTES = Buffer.from(BROADCAST_PREFIX);

export function isTrigger(data: Uint8Array, isBinary: boolean): boolean {
  if (isBinary || data.length < PREFIX_BYTES.length) return false;
  for (let i = 0; i < PREFIX_BYTES.length; i++) if (data[i] !== PREFIX_BYTES[i]) return false;
  return true;
}

let done = 0;

/** Counts `n` messages (or deliveries) the server has handled, reported on SIGHUP. */
export function counted(n = 1): void {
  done += n;
}

/** On SIGHUP, prints `COUNT <n>`: what `counted` added up so far (bench/message-cost.sh reads it). */
export function reportCountOnHangup(): void {
  process.on('SIGHUP', () => process.stdout.write(`COUNT ${done}\n`));
}

export function portFromArgs(): number {
  for (const a of process.argv.slice(2)) {
    if (a.startsWith('--port=')) return Number(a.slice(7));
  }
  return Number(process.env.PORT ?? 0);
}

export const HOST = '127.0.0.1';

export function ready(port: number, extra = ''): void {
  process.stdout.write(`READY port=${port} pid=${process.pid}${extra ? ` ${extra}` : ''}\n`);
}

export function installHooks(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  const snapshotDir = process.env.BENCH_HEAP_SNAPSHOT_DIR;
  let snapshots = 0;
  process.on('SIGUSR2', () => {
    if (gc) {
      gc();
      gc();
    }
    const usage = process.memoryUsage();
    const heap = usage.heapUsed;
    let snapshot = '';
    if (snapshotDir) {
      const path = `${snapshotDir}/${process.pid}-${++snapshots}.heapsnapshot`;
      snapshot = ` snapshot=${writeHeapSnapshot(path)}`;
    }
    const spaces = getHeapSpaceStatistics()
      .map((h) => `${h.space_name}:${h.space_used_size}/${h.physical_space_size}`)
      .join(',');
    const more = `total=${usage.heapTotal} external=${usage.external} spaces=${spaces}`;
    process.stdout.write(`GC rss=${process.memoryUsage.rss()} heap=${heap} ${more}${snapshot}\n`);
  });
  reportCountOnHangup();
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => process.exit(0));
}
