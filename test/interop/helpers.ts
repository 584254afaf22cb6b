// Shared plumbing for the interop tests: spawning the wsx CLI and the Python peers, reading their
// output line by line, and bounding every wait with a timeout so that a broken peer fails a test
// instead of hanging the run.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import WebSocket, { type ClientOptions, type RawData } from 'ws';
import { Peer } from '../shared/peer.js';
import { within } from '../shared/wait.js';

/** The node binary that runs wsx: the runner sets WSX_NODE so CI can test under another Node. */
export const NODE = process.env.WSX_NODE ?? process.execPath;

/**
 * The wsx CLI under test: the built dist/cli/main.js. WSX_CLI points the tests at another build
 * of the same CLI (an installed package, say) without editing them.
 */
export const WSX_CLI =
  process.env.WSX_CLI ?? fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));

/** Debian's python3, the only interpreter here with python3-websockets installed. */
export const PYTHON = '/usr/bin/python3';

/** Path of a Python helper script kept beside the TypeScript sources (tsc does not copy it). */
export function pythonScript(name: string): string {
  return fileURLToPath(new URL(`../../../test/interop/${name}`, import.meta.url));
}

/** Upper bound for one wait: generous, since it only turns a hang into a failure. */
export const WAIT_MS = 20_000;

export function withTimeout<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  return within(ms, what, promise);
}

const PYTHON_WEBSOCKETS = probePythonWebsockets();

function probePythonWebsockets(): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import websockets; print(websockets.__version__)'], {
    encoding: 'utf8',
    timeout: WAIT_MS,
  });
  return probe.status === 0 ? probe.stdout.trim() : undefined;
}

/** The Python interop tests' peer: skipped without it outside CI, failed without it under CI. */
export const pythonWebsockets = new Peer(
  'python3-websockets',
  PYTHON_WEBSOCKETS !== undefined,
  `apt-get install python3-websockets; ${PYTHON} must import websockets`,
);

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface LineWaiter {
  match: (line: string) => boolean;
  resolve: (line: string) => void;
  reject: (error: Error) => void;
}

const live = new Set<Proc>();

/** A spawned process whose stdout is read as lines; stderr is kept for failure messages. */
export class Proc {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  stderr = '';
  private readonly pending: string[] = [];
  private readonly waiters: LineWaiter[] = [];
  private partial = '';
  private exit: Exit | undefined;

  constructor(
    readonly name: string,
    command: string,
    args: readonly string[],
  ) {
    this.child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    live.add(this);
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => this.onData(chunk));
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    // A peer that exits early must not crash the test process with EPIPE on its stdin.
    this.child.stdin!.on('error', () => {});
    this.exited = new Promise<Exit>((resolve) => {
      this.child.on('error', (error) => {
        this.stderr += `spawn failed: ${error.message}\n`;
      });
      this.child.on('close', (code, signal) => {
        live.delete(this);
        this.exit = { code, signal };
        if (this.partial !== '') this.onLine(this.partial);
        for (const waiter of this.waiters.splice(0)) {
          waiter.reject(new Error(`${this.name} exited (${describeExit(this.exit)}) ${this.diagnostics()}`));
        }
        resolve(this.exit);
      });
    });
  }

  /** Takes the first unread stdout line that `match` accepts, waiting for it if needed. */
  takeLine(what: string, match: (line: string) => boolean = () => true, ms = WAIT_MS): Promise<string> {
    const index = this.pending.findIndex(match);
    if (index >= 0) return Promise.resolve(this.pending.splice(index, 1)[0]);
    if (this.exit) {
      return Promise.reject(
        new Error(`${this.name} exited (${describeExit(this.exit)}) ${this.diagnostics()}`),
      );
    }
    let waiter: LineWaiter | undefined;
    const line = new Promise<string>((resolve, reject) => {
      waiter = { match, resolve, reject };
      this.waiters.push(waiter);
    });
    return withTimeout(line, `${what} from ${this.name}`, ms).catch((error: Error) => {
      // A wait that gave up must not take a line meant for a later one.
      const index = this.waiters.indexOf(waiter!);
      if (index >= 0) this.waiters.splice(index, 1);
      throw new Error(`${error.message} ${this.diagnostics()}`);
    });
  }

  /** Takes the next unread stdout line that parses as a JSON object accepted by `match`. */
  async takeJson(
    what: string,
    match: (value: Record<string, unknown>) => boolean = () => true,
    ms = WAIT_MS,
  ): Promise<Record<string, unknown>> {
    const line = await this.takeLine(what, (l) => match(parseObject(l)), ms);
    return parseObject(line);
  }

  /** Waits for the process to end; the timeout only guards against a hang. */
  waitForExit(ms = WAIT_MS): Promise<Exit> {
    return withTimeout(this.exited, `${this.name} to exit`, ms).catch((error: Error) => {
      throw new Error(`${error.message} ${this.diagnostics()}`);
    });
  }

  /** Everything read so far, for assertion messages. */
  diagnostics(): string {
    const stderr = this.stderr.trim();
    const unread = this.pending.join('\n');
    return `[unread stdout: ${unread === '' ? '(none)' : unread}] [stderr: ${stderr === '' ? '(none)' : stderr}]`;
  }

  /** Sends `signal` unless the process has already ended. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.exit === undefined) this.child.kill(signal);
  }

  private onData(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop()!;
    for (const part of parts) this.onLine(part.endsWith('\r') ? part.slice(0, -1) : part);
  }

  private onLine(line: string): void {
    const index = this.waiters.findIndex((w) => w.match(line));
    if (index >= 0) this.waiters.splice(index, 1)[0].resolve(line);
    else this.pending.push(line);
  }
}

function parseObject(line: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export function describeExit(exit: Exit): string {
  return exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
}

/** Kills every process these helpers spawned that is still running (for `after` hooks). */
export async function killAll(): Promise<void> {
  const procs = [...live];
  for (const proc of procs) proc.kill();
  await Promise.all(procs.map((proc) => proc.waitForExit().catch(() => undefined)));
}

/** Runs the wsx CLI with `args`. */
export function wsx(name: string, args: readonly string[]): Proc {
  if (!existsSync(WSX_CLI)) throw new Error(`${WSX_CLI} not found: build wsx first (npm run build)`);
  return new Proc(name, NODE, [WSX_CLI, ...args]);
}

/** Runs a Python helper script from test/interop with Debian's python3. */
export function python(name: string, script: string, args: readonly string[]): Proc {
  return new Proc(name, PYTHON, ['-u', pythonScript(script), ...args]);
}

export interface WsxServer {
  proc: Proc;
  port: number;
  url: string;
}

const LISTENING = /^wsx listening on ws:\/\/127\.0\.0\.1:(\d+)\/$/;

/** Starts `wsx serve --echo` on an ephemeral loopback port and reads the port from its first line. */
export async function startWsxServer(extraArgs: readonly string[] = []): Promise<WsxServer> {
  const proc = wsx('wsx serve', ['serve', '--echo', '--port', '0', '--host', '127.0.0.1', ...extraArgs]);
  const first = await proc.takeLine('the listening line');
  const match = LISTENING.exec(first);
  if (!match) {
    proc.kill();
    throw new Error(`first stdout line of wsx serve was ${JSON.stringify(first)}, expected ${LISTENING}`);
  }
  const port = Number(match[1]);
  return { proc, port, url: `ws://127.0.0.1:${port}/` };
}

export interface Message {
  data: Buffer;
  isBinary: boolean;
}

export interface CloseInfo {
  code: number;
  reason: string;
}

/** Checks the close frame wsx sent in reply to a peer's: the same code and the same reason. */
export function assertCloseEcho(reply: CloseInfo, sent: CloseInfo): void {
  assert.deepEqual(reply, sent, 'wsx echoes the close code and reason');
}

/**
 * Checks the close frame another stack sent in reply to wsx's. RFC 6455 §5.5.1: the reply
 * "typically echos the status code it received"; echoing the reason is optional, so it may be empty.
 */
export function assertPeerCloseEcho(reply: CloseInfo, sent: CloseInfo): void {
  assert.equal(reply.code, sent.code, 'the close code is echoed');
  assert.ok(
    reply.reason === '' || reply.reason === sent.reason,
    `the reply's reason is ${JSON.stringify(reply.reason)}, neither empty nor ${JSON.stringify(sent.reason)}`,
  );
}

/**
 * Items that arrive before anyone waits for them (messages, pongs), handed out in order by
 * `next()`; once `end()` is called, waiting for more fails instead of hanging.
 */
export class Inbox<T> {
  private readonly items: T[] = [];
  private readonly waiters: Array<{ resolve: (item: T) => void; reject: (error: Error) => void }> = [];
  private ended: string | undefined;

  push(item: T): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(item);
    else this.items.push(item);
  }

  /** No more items will come: rejects current and future waits with `why`. */
  end(why: string): void {
    this.ended = why;
    for (const waiter of this.waiters.splice(0)) waiter.reject(new Error(why));
  }

  next(what: string): Promise<T> {
    if (this.items.length > 0) return Promise.resolve(this.items.shift()!);
    if (this.ended !== undefined) return Promise.reject(new Error(`${this.ended} before ${what}`));
    const waiter = { resolve: (_: T) => {}, reject: (_: Error) => {} };
    const item = new Promise<T>((resolve, reject) => {
      waiter.resolve = resolve;
      waiter.reject = (error) => reject(new Error(`${error.message} before ${what}`));
      this.waiters.push(waiter);
    });
    return withTimeout(item, what).catch((error: Error) => {
      // A wait that gave up must not take an item meant for a later one.
      const index = this.waiters.indexOf(waiter);
      if (index >= 0) this.waiters.splice(index, 1);
      throw error;
    });
  }
}

/**
 * A `ws` WebSocket with its messages queued for `next()` and its close event captured, so that
 * nothing the peer sends is missed between two awaits.
 */
export class WsPeer {
  readonly closed: Promise<CloseInfo>;
  readonly errors: Error[] = [];
  private readonly inbox = new Inbox<Message>();

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: RawData, isBinary: boolean) =>
      this.inbox.push({ data: toBuffer(data), isBinary }),
    );
    ws.on('error', (error) => this.errors.push(error));
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.inbox.end(`closed (${code} ${reason.toString()})`);
        resolve({ code, reason: reason.toString('utf8') });
      });
    });
  }

  /** Opens a connection and waits for the handshake. */
  static async open(url: string, protocols: string[] = [], options: ClientOptions = {}): Promise<WsPeer> {
    const peer = new WsPeer(new WebSocket(url, protocols, { perMessageDeflate: false, ...options }));
    const opened = new Promise<void>((resolve, reject) => {
      peer.ws.once('open', () => resolve());
      peer.ws.once('error', reject);
      peer.ws.once('close', (code) => reject(new Error(`closed with ${code} during the handshake`)));
    });
    await withTimeout(opened, `the handshake with ${url}`);
    return peer;
  }

  /** The next message, in arrival order. */
  next(what = 'a message'): Promise<Message> {
    return this.inbox.next(what);
  }

  /** Waits for the close event. */
  waitClosed(): Promise<CloseInfo> {
    return withTimeout(this.closed, 'the close event');
  }

  /** Sends and waits until ws has handed the data to the socket. */
  send(data: Buffer | string, options: { binary?: boolean; fin?: boolean } = {}): Promise<void> {
    return new Promise((resolve, reject) => {
      this.ws.send(data, options, (error) => (error ? reject(error) : resolve()));
    });
  }

  /** Ends the connection at once, for cleanup. */
  terminate(): void {
    this.ws.terminate();
  }
}

export function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** A payload of `size` bytes with a pattern that makes misplaced or dropped bytes visible. */
export function pattern(size: number, seed = 0): Buffer {
  const buffer = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) buffer[i] = (i * 31 + seed + (i >>> 8)) & 0xff;
  return buffer;
}

/** ASCII text of `size` bytes. */
export function text(size: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let out = '';
  while (out.length < size) out += alphabet;
  return out.slice(0, size);
}

/** The boundary sizes of RFC 6455 §5.2 (7-bit, 16-bit and 64-bit lengths) and two large ones. */
export const SIZES = [0, 125, 126, 65535, 65536, 1024 * 1024, 16 * 1024 * 1024] as const;

/** Multi-byte UTF-8: 2-, 3- and 4-byte sequences. */
export const UTF8_SAMPLE = 'héllo wörld — ça va? 你好, мир 🌍🚀 𝄞';
