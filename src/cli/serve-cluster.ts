import cluster, { type Worker } from 'node:cluster';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { ipcTopicRelay } from '../index.js';
import type { ServeOptions } from './serve-options.js';

/**
 * The primary of `wsx serve --workers N`: forks N workers running the same command (node:cluster
 * shares the one listening port between them, `--port 0` included), relays topics between them,
 * prints the URL once all of them listen, restarts a worker that dies, and on SIGINT/SIGTERM
 * asks every worker to close its sockets with 1001, then exits once they have.
 */

/** A worker tells the primary that it listens. */
export interface ListeningReport {
  readonly wsx: 'listening';
  readonly url: string;
  readonly host: string;
}

/**
 * The port every worker listens on, chosen by the primary for `--port 0`: node:cluster shares
 * `listen(0)` between the workers forked together, but gives a worker forked later (a
 * replacement) a port of its own; with a port number, the replacement joins the others.
 */
export const PORT_ENV = 'WSX_SERVE_WORKER_PORT';

/** A free port on `host` now (the workers bind it a moment later). */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** The primary asks a worker to shut down gracefully. */
interface ShutdownRequest {
  readonly wsx: 'shutdown';
  readonly signal: string;
}

export function isShutdownRequest(message: unknown): message is ShutdownRequest {
  return typeof message === 'object' && message !== null && (message as ShutdownRequest).wsx === 'shutdown';
}

function isListeningReport(message: unknown): message is ListeningReport {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as ListeningReport).wsx === 'listening' &&
    typeof (message as ListeningReport).url === 'string'
  );
}

/** Restarts beyond this many in a minute wait for the minute to pass: a crash loop must not spin. */
const MAX_RESTARTS_PER_MINUTE = 10;
const FIRST_RESTART_DELAY_MS = 100;
const MAX_RESTART_DELAY_MS = 10_000;
/** Workers take up to 5 s to close their sockets; past this, those left are killed. */
const SHUTDOWN_DEADLINE_MS = 10_000;

export async function servePrimary(options: ServeOptions): Promise<void> {
  const port = options.port === 0 ? await freePort(options.host) : options.port;
  // Payloads go between processes as bytes. With a shared broker for topics (Redis), the
  // workers would use it directly and this relay would be left out.
  const relay = options.redis === undefined ? ipcTopicRelay(cluster) : null;
  cluster.setupPrimary({ serialization: 'advanced' });

  const alive = new Set<Worker>();
  const listening = new Set<Worker>();
  /** When recent restarts happen(ed), for the per-minute cap. */
  const restarts: number[] = [];
  const restartTimers = new Set<NodeJS.Timeout>();
  let url: string | null = null;
  let stopping = false;
  let exitCode = 0;

  const fork = () => {
    const worker = cluster.fork({ [PORT_ENV]: String(port) });
    alive.add(worker);
    worker.on('message', (message: unknown) => {
      if (!isListeningReport(message)) return;
      listening.add(worker);
      if (url === null && listening.size === options.workers) {
        url = message.url;
        announce(url, message.host, options);
      } else if (url !== null && message.url !== url) {
        process.stderr.write(`wsx: worker ${worker.id} listens on ${message.url}, not ${url}\n`);
      }
    });
  };

  const finish = (code: number) => {
    relay?.close();
    process.exit(code);
  };

  const stop = (signal: string, code: number) => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    for (const timer of restartTimers) clearTimeout(timer);
    process.stderr.write(`wsx: ${signal}, stopping ${alive.size} worker(s)\n`);
    if (alive.size === 0) finish(code);
    for (const worker of alive) {
      try {
        worker.send({ wsx: 'shutdown', signal } satisfies ShutdownRequest);
      } catch {
        // Its channel is already closed: it is on its way out, and its exit ends the wait.
      }
    }
    const deadline = setTimeout(() => {
      process.stderr.write(
        `wsx: ${alive.size} worker(s) still running after ${SHUTDOWN_DEADLINE_MS} ms: killed\n`,
      );
      for (const worker of alive) worker.process.kill('SIGKILL');
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
  };

  cluster.on('exit', (worker, code, signal) => {
    alive.delete(worker);
    listening.delete(worker);
    if (stopping) {
      if (alive.size === 0) finish(exitCode);
      return;
    }
    const how = signal === null ? `exited with ${code}` : `was killed by ${signal}`;
    if (url === null) {
      // A worker that cannot start (a port in use, a bad certificate) would fail again.
      process.stderr.write(`wsx: worker ${worker.id} ${how} before listening; stopping\n`);
      stop('startup failure', 1);
      return;
    }
    const now = Date.now();
    while (restarts.length > 0 && restarts[0] <= now - 60_000) restarts.shift();
    let delay = Math.min(FIRST_RESTART_DELAY_MS * 2 ** restarts.length, MAX_RESTART_DELAY_MS);
    if (restarts.length >= MAX_RESTARTS_PER_MINUTE) delay = Math.max(delay, restarts[0] + 60_000 - now);
    restarts.push(now + delay);
    process.stderr.write(
      `wsx: worker ${worker.id} (pid ${worker.process.pid}) ${how}; starting another in ${delay} ms ` +
        `(${restarts.length} restart(s) in the last minute)\n`,
    );
    const timer = setTimeout(() => {
      restartTimers.delete(timer);
      if (!stopping) fork();
    }, delay);
    restartTimers.add(timer);
  });

  process.once('SIGINT', () => stop('SIGINT', 0));
  process.once('SIGTERM', () => stop('SIGTERM', 0));
  for (let i = 0; i < options.workers; i++) fork();
}

/** The URL line tests and scripts wait for, and a warning when anyone may publish. */
export function announce(url: string, host: string, options: ServeOptions): void {
  process.stdout.write(`wsx listening on ${url}\n`);
  if (!options.echo && options.publishToken === undefined && !isLoopback(host)) {
    process.stderr.write(
      'wsx: POST /publish/:topic is open to anyone who can reach this address; set --publish-token\n',
    );
  }
}

function isLoopback(host: string): boolean {
  return host === '::1' || host.startsWith('127.') || host === '::ffff:127.0.0.1';
}
