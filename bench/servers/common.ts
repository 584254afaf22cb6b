/**
 * Shared plumbing for the benchmark peers: port from argv/env, the ready
 * line, a gc-on-request hook for the idle-memory workload, and clean exit.
 *
 * Protocol with bench/run.ts:
 *   - the server prints `READY port=<port> pid=<pid>` once listening;
 *   - on SIGUSR2 it runs a full GC (when started with --expose-gc) and
 *     prints `GC rss=<bytes>`;
 *   - SIGTERM/SIGINT exit immediately.
 */

/** The broadcast trigger: a text message starting with this makes the server send it to everyone. */
export const BROADCAST_PREFIX = 'broadcast:';
const PREFIX_BYTES = Buffer.from(BROADCAST_PREFIX);

export function isTrigger(data: Uint8Array, isBinary: boolean): boolean {
  if (isBinary || data.length < PREFIX_BYTES.length) return false;
  for (let i = 0; i < PREFIX_BYTES.length; i++) if (data[i] !== PREFIX_BYTES[i]) return false;
  return true;
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
  process.on('SIGUSR2', () => {
    if (gc) {
      gc();
      gc();
    }
    process.stdout.write(`GC rss=${process.memoryUsage.rss()}\n`);
  });
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => process.exit(0));
}
