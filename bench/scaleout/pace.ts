/**
 * The publishing side of a node, the same for every implementation: a node process gets its
 * commands from the runner over IPC, and node A runs the publish loop.
 *
 *   rate > 0   fixed offered rate: every millisecond, publish what is due since the start;
 *   rate = 0   saturation: keep `window` messages not yet delivered to every subscriber in
 *              flight; the runner forwards the load processes' delivery count, so the
 *              publisher goes exactly as fast as the subscribers receive.
 */
import { type NodeCommand, type NodeReply, payload } from './common.js';

export interface NodeHooks {
  /** Publishes one payload to the bench topic on every node. */
  publish(data: string): void;
  /** The adapter's counters, if any. */
  stats(): unknown;
}

function reply(message: NodeReply): void {
  process.send!(message);
}

export function serveCommands(port: number, hooks: NodeHooks): void {
  let seq = 0;
  let delivered = 0;
  const gc = (globalThis as { gc?: () => void }).gc;

  function run(rate: number, ms: number, window: number): void {
    const start = performance.now();
    const first = seq;
    const base = delivered;
    const tick = (): void => {
      const elapsed = performance.now() - start;
      if (elapsed >= ms) {
        reply({ kind: 'published', count: seq - first, ms: elapsed });
        return;
      }
      if (rate > 0) {
        const due = Math.floor((elapsed * rate) / 1000);
        while (seq - first < due) hooks.publish(payload(seq++));
        setTimeout(tick, 1);
      } else {
        while (seq - first - (delivered - base) < window) hooks.publish(payload(seq++));
        // Wait for the next delivery report, but come back soon in case it already moved.
        setTimeout(tick, 1);
      }
    };
    tick();
  }

  process.on('message', (message: NodeCommand) => {
    switch (message.cmd) {
      case 'rss':
        gc?.();
        gc?.();
        {
          const m = process.memoryUsage();
          reply({ kind: 'rss', rss: m.rss, heap: m.heapUsed + m.external + m.arrayBuffers });
        }
        break;
      case 'publish':
        run(message.rate, message.ms, message.window);
        break;
      case 'delivered':
        delivered = message.messages;
        break;
      case 'stats':
        reply({ kind: 'stats', stats: hooks.stats() });
        break;
    }
  });
  // A clean exit, so that a CPU profile (the runner's --cpu-prof) gets written.
  process.on('SIGTERM', () => process.exit(0));
  reply({ kind: 'ready', port });
}
