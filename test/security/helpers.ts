// Helpers for the hostile-input suite: a wsx server in a child process (fixtures/server.ts)
// whose memory and event-loop delay can be read at any time, a legitimate client that keeps
// echoing while a hostile one runs, a raw client that performs the upgrade by hand and then
// writes whatever bytes a test wants, and a frame encoder written from RFC 6455 §5.2.
import { type ChildProcess, fork } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { type Socket as NetSocket, connect as netConnect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { connect, type Socket } from '../../src/index.js';
import { readFrames, type WireFrame } from '../shared/frames.js';
import { sleep, tick, within } from '../shared/wait.js';
import type { FixtureCommand, FixtureEvent, FixtureOptions, ServerStats } from './fixtures/server.js';

export type { FixtureEvent, ServerStats };
export { readFrames, sleep, tick, type WireFrame, within };

const FIXTURE = fileURLToPath(new URL('./fixtures/server.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** Figures measured by the suite, one JSON object per line (test-artifacts/ is not committed). */
export const FIGURES_FILE = `${ROOT}test-artifacts/security-figures.jsonl`;

export const MiB = 1024 * 1024;
export const KiB = 1024;

// ---- the server under attack, in its own process ----

export interface ServerHandle {
  readonly port: number;
  readonly process: ChildProcess;
  /** Every event the fixture reported, in order. */
  readonly events: FixtureEvent[];
  stats(): Promise<ServerStats>;
  /** Forces a GC in the server (it runs with --expose-gc), then reads its figures. */
  settledStats(): Promise<ServerStats>;
  resetEventLoopDelay(): void;
  /** Has the server publish one 64-byte text message to `topic` in each of `ticks` ticks; resolves with the deliveries. */
  publishEachTick(topic: string, ticks: number): Promise<number>;
  /** Asks the server to close every open socket of `path` with `code`. */
  closeAll(path: string, code: number, reason?: string): void;
  /** Waits for an event matching `predicate` (already reported or still to come). */
  waitFor<E extends FixtureEvent>(predicate: (event: FixtureEvent) => event is E, ms: number): Promise<E>;
  waitFor(predicate: (event: FixtureEvent) => boolean, ms: number): Promise<FixtureEvent>;
  /** Whether the server process is still alive (a crash would end it). */
  alive(): boolean;
  stop(): Promise<void>;
}

export async function startServer(options: FixtureOptions = {}): Promise<ServerHandle> {
  const child = fork(FIXTURE, [JSON.stringify(options)], {
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const events: FixtureEvent[] = [];
  const waiters = new Set<{
    predicate: (event: FixtureEvent) => boolean;
    resolve: (e: FixtureEvent) => void;
  }>();
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  child.on('message', (message) => {
    const event = message as FixtureEvent;
    events.push(event);
    for (const waiter of waiters) {
      if (waiter.predicate(event)) {
        waiters.delete(waiter);
        waiter.resolve(event);
      }
    }
  });
  let seq = 0;
  const waitFor = (predicate: (event: FixtureEvent) => boolean, ms: number): Promise<FixtureEvent> => {
    const found = events.find(predicate);
    if (found !== undefined) return Promise.resolve(found);
    return within(
      ms,
      'a server event',
      new Promise<FixtureEvent>((resolve) => {
        waiters.add({ predicate, resolve });
      }),
    );
  };
  const command = (c: FixtureCommand) => child.send(c);
  const stats = async (): Promise<ServerStats> => {
    const mine = ++seq;
    const waiting = new Promise<FixtureEvent>((resolve) => {
      waiters.add({ predicate: (e) => e.type === 'stats' && e.seq === mine, resolve });
    });
    command({ cmd: 'stats', seq: mine });
    const event = await within(5000, 'server stats', waiting);
    return (event as Extract<FixtureEvent, { type: 'stats' }>).stats;
  };
  const listening = (await waitFor((e) => e.type === 'listening', 10_000)) as Extract<
    FixtureEvent,
    { type: 'listening' }
  >;
  return {
    port: listening.port,
    process: child,
    events,
    stats,
    async settledStats() {
      command({ cmd: 'gc' });
      return stats();
    },
    async publishEachTick(topic, ticks) {
      const mine = ++seq;
      const done = waitFor((e) => e.type === 'published' && e.seq === mine, 30_000);
      command({ cmd: 'publish', seq: mine, topic, ticks });
      return ((await done) as Extract<FixtureEvent, { type: 'published' }>).delivered;
    },
    resetEventLoopDelay: () => command({ cmd: 'reset-eld' }),
    closeAll: (path, code, reason = '') => command({ cmd: 'close-all', path, code, reason }),
    waitFor: waitFor as ServerHandle['waitFor'],
    alive: () => !exited && child.exitCode === null,
    async stop() {
      if (exited) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await gone;
    },
  };
}

// ---- a legitimate client that keeps using the server ----

export interface EchoFigures {
  sent: number;
  received: number;
  /** Round-trip times in milliseconds. */
  p50: number;
  max: number;
  /** Messages still unanswered when the monitor stopped. */
  outstanding: number;
}

export interface EchoMonitor {
  readonly socket: Socket;
  /** Stops sending, waits for outstanding echoes (10 s at most), closes, and returns the figures. */
  stop(): Promise<EchoFigures>;
}

/** Connects to /echo with wsx's client and sends a small message every `everyMs`, timing each echo. */
export async function startEchoMonitor(port: number, everyMs = 20): Promise<EchoMonitor> {
  const sentAt = new Map<string, number>();
  const rtts: number[] = [];
  const socket = await connect(`ws://127.0.0.1:${port}/echo`, {
    handshakeTimeout: 5000,
    handlers: {
      message(_socket, data) {
        const key = data.toString('utf8');
        const at = sentAt.get(key);
        if (at === undefined) return;
        sentAt.delete(key);
        rtts.push(performance.now() - at);
      },
    },
  });
  let n = 0;
  const timer = setInterval(() => {
    const key = `legit-${n++}`;
    sentAt.set(key, performance.now());
    socket.sendText(key);
  }, everyMs);
  return {
    socket,
    async stop() {
      clearInterval(timer);
      // Echo times are figures only; that the echoes come back at all is what tests check.
      for (let i = 0; i < 500 && sentAt.size > 0; i++) await sleep(20);
      socket.close(1000);
      const sorted = [...rtts].sort((a, b) => a - b);
      const pick = (q: number) =>
        sorted.length === 0 ? Number.NaN : sorted[Math.floor(q * (sorted.length - 1))];
      return {
        sent: n,
        received: rtts.length,
        p50: round(pick(0.5)),
        max: round(pick(1)),
        outstanding: sentAt.size,
      };
    },
  };
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

// ---- raw clients ----

export const SAMPLE_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

export function acceptFor(key: string): string {
  return createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
}

/** A valid upgrade request for `path`, with extra header lines. */
export function upgradeRequest(path: string, extra: ReadonlyArray<readonly [string, string]> = []): string {
  let text =
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${SAMPLE_KEY}\r\nSec-WebSocket-Version: 13\r\n`;
  for (const [name, value] of extra) text += `${name}: ${value}\r\n`;
  return `${text}\r\n`;
}

export function tcpConnect(port: number): Promise<NetSocket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Opens TCP, performs the upgrade by hand, and resolves once the 101 head has arrived. */
export async function rawUpgrade(
  port: number,
  path: string,
  extra: ReadonlyArray<readonly [string, string]> = [],
): Promise<{ socket: NetSocket; head: string; rest: Buffer }> {
  const socket = await tcpConnect(port);
  socket.setNoDelay(true);
  return within(
    5000,
    `the 101 response for ${path}`,
    new Promise((resolve, reject) => {
      let buffered = Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        const end = buffered.indexOf('\r\n\r\n');
        if (end === -1) return;
        socket.off('data', onData);
        socket.off('error', reject);
        socket.pause();
        const head = buffered.subarray(0, end).toString('latin1');
        if (!head.startsWith('HTTP/1.1 101')) {
          socket.destroy();
          reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
          return;
        }
        resolve({ socket, head, rest: buffered.subarray(end + 4) });
      };
      socket.on('data', onData);
      socket.on('error', reject);
      socket.write(upgradeRequest(path, extra));
    }),
  );
}

/**
 * Sends raw bytes and collects everything until the server closes the connection, or until
 * `ms` passes (then `timedOut` is set and the connection is destroyed).
 */
export async function exchange(
  port: number,
  request: string | Buffer,
  ms = 5000,
): Promise<{ response: string; timedOut: boolean; reset: boolean; elapsed: number }> {
  const socket = await tcpConnect(port);
  const started = performance.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let reset = false;
    const timer = setTimeout(() => {
      socket.destroy();
      finish(true);
    }, ms);
    const finish = (timedOut: boolean) => {
      clearTimeout(timer);
      resolve({
        response: Buffer.concat(chunks).toString('latin1'),
        timedOut,
        reset,
        elapsed: performance.now() - started,
      });
    };
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => {
      reset = true;
    });
    socket.on('close', () => finish(false));
    socket.write(request, () => socket.end());
  });
}

/** The status code of the first response line in `response` (0 when there is none). */
export function statusOf(response: string): number {
  const match = /^HTTP\/1\.1 (\d{3})/.exec(response);
  return match === null ? 0 : Number(match[1]);
}

// ---- frames, from RFC 6455 §5.2 ----

export const Op = { Continuation: 0, Text: 1, Binary: 2, Close: 8, Ping: 9, Pong: 10 } as const;

/** One frame as a client sends it: masked with a random key unless `mask` is null. */
export function clientFrame(
  opcode: number,
  payload: Uint8Array | string = '',
  options: { fin?: boolean; rsv1?: boolean; mask?: Uint8Array | null; declaredLength?: number } = {},
): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload);
  const length = options.declaredLength ?? data.length;
  const mask = options.mask === undefined ? randomBytes(4) : options.mask;
  const head: number[] = [((options.fin ?? true) ? 0x80 : 0) | (options.rsv1 ? 0x40 : 0) | opcode];
  const maskBit = mask === null ? 0 : 0x80;
  if (length < 126) head.push(maskBit | length);
  else if (length < 0x10000) head.push(maskBit | 126, length >> 8, length & 0xff);
  else {
    head.push(maskBit | 127);
    const big = BigInt(length);
    for (let shift = 56n; shift >= 0n; shift -= 8n) head.push(Number((big >> shift) & 0xffn));
  }
  if (mask !== null) {
    head.push(...mask);
    for (let i = 0; i < data.length; i++) data[i] ^= mask[i & 3];
  }
  return Buffer.concat([Buffer.from(head), data]);
}

/** Collects the frames a raw client receives, and whether the server closed TCP. */
export class FrameCollector {
  readonly frames: WireFrame[] = [];
  closed = false;
  errored = false;
  private pending: Buffer;
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly socket: NetSocket,
    leftover: Buffer = Buffer.alloc(0),
  ) {
    this.pending = Buffer.alloc(0);
    this.take(leftover);
    socket.on('data', (chunk: Buffer) => this.take(chunk));
    socket.on('error', () => {
      this.errored = true;
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.resume();
  }

  private take(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const { frames, rest } = readFrames(this.pending);
    this.pending = Buffer.from(rest);
    for (const frame of frames) this.frames.push(frame);
    this.wake();
  }

  private wake(): void {
    for (const waker of this.waiters) waker();
  }

  /** Waits until `condition()` holds (checked after each read and at close). */
  async until(condition: () => boolean, ms: number, what: string): Promise<void> {
    if (condition()) return;
    let waker!: () => void;
    const done = new Promise<void>((resolve) => {
      waker = () => {
        if (condition()) resolve();
      };
      this.waiters.add(waker);
    });
    try {
      await within(ms, what, done);
    } finally {
      this.waiters.delete(waker);
    }
  }

  closeFrame(): { code: number; reason: string } | undefined {
    const close = this.frames.find((f) => f.opcode === Op.Close);
    if (close === undefined) return undefined;
    if (close.payload.length < 2) return { code: 1005, reason: '' };
    return { code: close.payload.readUInt16BE(0), reason: close.payload.subarray(2).toString('utf8') };
  }
}

// ---- figures ----

/** Records a figure for the report: printed as a test diagnostic and appended to FIGURES_FILE. */
export function recordFigures(t: object, name: string, figures: Record<string, unknown>): void {
  const line = `${name}: ${JSON.stringify(figures)}`;
  const context = t as { diagnostic?: (message: string) => void };
  if (typeof context.diagnostic === 'function') context.diagnostic(line);
  else console.log(`# ${line}`);
  try {
    mkdirSync(`${ROOT}test-artifacts`, { recursive: true });
    appendFileSync(FIGURES_FILE, `${JSON.stringify({ name, at: new Date().toISOString(), ...figures })}\n`);
  } catch {
    // Figures are informative; a read-only tree must not fail the suite.
  }
}

export const toMiB = (bytes: number): number => round(bytes / MiB);

/** The growth between two server samples, in MiB, and the event-loop delay of the second. */
export function growth(before: ServerStats, after: ServerStats): Record<string, number> {
  return {
    rssGrowthMiB: toMiB(after.rss - before.rss),
    heapGrowthMiB: toMiB(after.heapUsed - before.heapUsed),
    arrayBuffersGrowthMiB: toMiB(after.arrayBuffers - before.arrayBuffers),
    eldMeanMs: after.eld.mean,
    eldP99Ms: after.eld.p99,
    eldMaxMs: after.eld.max,
  };
}

/**
 * Sends a request and resolves with the status of the response head and the time it took,
 * then destroys the connection. Status 0 means the server closed without a response head.
 */
export async function requestHead(
  port: number,
  request: string | Buffer,
  ms = 5000,
): Promise<{ status: number; head: string; elapsed: number }> {
  const socket = await tcpConnect(port);
  socket.setNoDelay(true);
  const started = performance.now();
  return within(
    ms,
    'a response head',
    new Promise((resolve) => {
      let text = '';
      const done = (status: number, head: string) => {
        socket.destroy();
        resolve({ status, head, elapsed: performance.now() - started });
      };
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1');
        const end = text.indexOf('\r\n\r\n');
        if (end !== -1) done(statusOf(text), text.slice(0, end));
      });
      socket.on('error', () => {});
      socket.on('close', () => done(statusOf(text), text));
      socket.write(typeof request === 'string' ? Buffer.from(request, 'latin1') : request);
    }),
  );
}

/**
 * Writes `data` in chunks of `size` bytes, waiting for `drain` when the socket's buffer is
 * full, and stops early if the socket closes or fails. Resolves with the bytes written.
 */
export async function writeAll(socket: NetSocket, data: Buffer, size = 64 * KiB): Promise<number> {
  let written = 0;
  let stopped = false;
  const stop = () => {
    stopped = true;
  };
  socket.once('close', stop);
  socket.once('error', stop);
  try {
    for (let pos = 0; pos < data.length && !stopped && !socket.destroyed; pos += size) {
      const chunk = data.subarray(pos, Math.min(pos + size, data.length));
      written += chunk.length;
      if (!socket.write(chunk)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            socket.off('drain', done);
            socket.off('close', done);
            resolve();
          };
          socket.on('drain', done);
          socket.on('close', done);
        });
      }
    }
  } finally {
    socket.off('close', stop);
    socket.off('error', stop);
  }
  return written;
}
