// Shared plumbing for the permessage-deflate (RFC 7692) tests: a frame encoder and decoder that
// can put any bit on the wire, raw DEFLATE helpers (compress with the 0x00 0x00 0xff 0xff tail
// stripped, as RFC 7692 §7.2.1 says), a recording harness around the sans-I/O Connection, the wsx
// CLI as a child process, and test payloads. Nothing here depends on the code under test beyond
// the types and constructors it drives.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import {
  type AddressInfo,
  createServer as createNetServer,
  type Socket as NetSocket,
  connect as netConnect,
} from 'node:net';
import { fileURLToPath } from 'node:url';
import { constants, createDeflateRaw, type DeflateRaw, deflateRawSync } from 'node:zlib';
import WebSocket, { type ClientOptions, type RawData } from 'ws';
import { Connection } from '../../src/protocol/connection.js';
import type { ConnectionEvents } from '../../src/protocol/connection-types.js';
import type { ProtocolViolation } from '../../src/protocol/errors.js';
import type { DeflateParams } from '../../src/protocol/extensions/negotiation.js';
import { PerMessageDeflate } from '../../src/protocol/extensions/permessage-deflate.js';
import { prng } from '../shared/random.js';
import { sleep, within } from '../shared/wait.js';

export { prng, sleep };

export const KiB = 1024;
export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

export const Op = { Continuation: 0, Text: 1, Binary: 2, Close: 8, Ping: 9, Pong: 10 } as const;

/** The tail a sync flush ends with (RFC 7692 §7.2.1). */
export const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

// ---- frames ----

export interface FrameSpec {
  opcode: number;
  payload?: Uint8Array;
  fin?: boolean;
  /** RSV bits as a 3-bit value: RSV1 = 4, RSV2 = 2, RSV3 = 1. */
  rsv?: number;
  /** Mask with a random key (what a client sends). */
  masked?: boolean;
}

/** Encodes one frame from RFC 6455 §5.2, with whatever bits the spec asks for. */
export function frame(spec: FrameSpec): Buffer {
  const payload = Buffer.from(spec.payload ?? Buffer.alloc(0));
  const length = payload.length;
  const head: number[] = [((spec.fin ?? true) ? 0x80 : 0) | ((spec.rsv ?? 0) << 4) | spec.opcode];
  const maskBit = spec.masked ? 0x80 : 0;
  if (length < 126) head.push(maskBit | length);
  else if (length < 0x10000) head.push(maskBit | 126, length >> 8, length & 0xff);
  else {
    head.push(maskBit | 127, 0, 0, 0, 0);
    head.push((length >>> 24) & 0xff, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff);
  }
  if (!spec.masked) return Buffer.concat([Buffer.from(head), payload]);
  const key = randomBytes(4);
  for (let i = 0; i < length; i++) payload[i] ^= key[i & 3];
  return Buffer.concat([Buffer.from(head), key, payload]);
}

export interface Frame {
  fin: boolean;
  rsv1: boolean;
  rsv: number;
  opcode: number;
  payload: Buffer;
}

/** Decodes every whole frame in `data` (unmasking masked ones). */
export function decodeFrames(data: Buffer): Frame[] {
  const frames: Frame[] = [];
  let pos = 0;
  while (pos < data.length) {
    const first = data[pos];
    const second = data[pos + 1];
    let length = second & 0x7f;
    let at = pos + 2;
    if (length === 126) {
      length = data.readUInt16BE(at);
      at += 2;
    } else if (length === 127) {
      length = Number(data.readBigUInt64BE(at));
      at += 8;
    }
    let key: Buffer | null = null;
    if (second & 0x80) {
      key = data.subarray(at, at + 4);
      at += 4;
    }
    const payload = Buffer.from(data.subarray(at, at + length));
    if (key !== null) for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
    frames.push({
      fin: (first & 0x80) !== 0,
      rsv1: (first & 0x40) !== 0,
      rsv: (first >> 4) & 7,
      opcode: first & 0x0f,
      payload,
    });
    pos = at + length;
  }
  return frames;
}

// ---- DEFLATE ----

/** Compresses a whole message on its own, sync flush, tail stripped (RFC 7692 §7.2.1). */
export function deflateMessage(data: Uint8Array, windowBits = 15, level = 6): Buffer {
  const out = deflateRawSync(data, { windowBits, level, finishFlush: constants.Z_SYNC_FLUSH });
  assert.deepEqual(out.subarray(out.length - 4), TAIL, 'a sync flush ends with 00 00 ff ff');
  return out.subarray(0, out.length - 4);
}

/** A compressor that keeps its context between messages (context takeover), synchronous. */
export class TakeoverDeflater {
  private readonly stream: DeflateRaw;
  private readonly pieces: Buffer[] = [];

  constructor(windowBits = 15) {
    this.stream = createDeflateRaw({ windowBits });
    this.stream.on('data', (piece: Buffer) => this.pieces.push(piece));
  }

  /** Compresses one message with a sync flush; resolves with the tail stripped. */
  async message(data: Uint8Array): Promise<Buffer> {
    this.stream.write(data);
    await new Promise<void>((resolve) => this.stream.flush(constants.Z_SYNC_FLUSH, () => resolve()));
    const out = Buffer.concat(this.pieces.splice(0));
    assert.deepEqual(out.subarray(out.length - 4), TAIL);
    return out.subarray(0, out.length - 4);
  }

  close(): void {
    this.stream.close();
  }
}

/**
 * A DEFLATE payload (tail stripped) that inflates to `size` zero bytes, built without ever
 * holding them: 8 MiB of zeros compressed once and repeated (each copy ends byte-aligned
 * with an empty stored block and only refers to zeros, so the copies chain into one stream).
 */
export function zeroBomb(size: number): Buffer {
  const unit = 8 * MiB;
  assert.equal(size % unit, 0);
  const block = deflateRawSync(Buffer.alloc(unit), {
    level: 9,
    memLevel: 9,
    finishFlush: constants.Z_SYNC_FLUSH,
  });
  const copies: Buffer[] = [];
  for (let i = 0; i < size / unit; i++) copies.push(block);
  const all = Buffer.concat(copies);
  return all.subarray(0, all.length - 4);
}

// ---- the sans-I/O connection with a deflate extension ----

export function params(overrides: Partial<DeflateParams> = {}): DeflateParams {
  return {
    localNoContextTakeover: false,
    remoteNoContextTakeover: false,
    localMaxWindowBits: 15,
    remoteMaxWindowBits: 15,
    memLevel: 8,
    level: 6,
    threshold: 0,
    ...overrides,
  };
}

export interface Received {
  data: Buffer;
  isBinary: boolean;
}

/** A Connection with recording events; `deflate: null` installs no extension. */
export class Harness {
  readonly connection: Connection;
  readonly written: Buffer[] = [];
  readonly messages: Received[] = [];
  readonly pings: Buffer[] = [];
  failure: ProtocolViolation | null = null;

  constructor(
    readonly role: 'server' | 'client',
    deflate: DeflateParams | null = params(),
    maxMessageSize = 16 * MiB,
  ) {
    const events: ConnectionEvents = {
      write: (data) => this.written.push(Buffer.from(data)),
      messageReceived: (data, isBinary) => this.messages.push({ data: Buffer.from(data), isBinary }),
      pingReceived: (payload) => this.pings.push(Buffer.from(payload)),
      pongReceived: () => {},
      closeReceived: () => {},
      failed: (error) => {
        this.failure = error;
      },
      endTransport: () => {},
    };
    this.connection = new Connection(role, events, { maxMessageSize });
    if (deflate !== null) this.connection.useExtension(new PerMessageDeflate(deflate, maxMessageSize));
  }

  /** Feeds a frame as the peer would send it (masked when this side is the server). */
  feed(spec: FrameSpec): void {
    this.connection.receive(frame({ masked: this.role === 'server', ...spec }));
  }

  /** The frames this side wrote, decoded. */
  frames(): Frame[] {
    return decodeFrames(Buffer.concat(this.written));
  }

  /** The close code this side failed with (null while it has not failed). */
  get failCode(): number | null {
    return this.failure?.closeCode ?? null;
  }
}

// ---- the wsx CLI ----

export const NODE = process.env.WSX_NODE ?? process.execPath;
export const WSX_CLI =
  process.env.WSX_CLI ?? fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));
/** Debian's python3: the only interpreter here that can import websockets. */
export const PYTHON = '/usr/bin/python3';
export const WAIT_MS = 20_000;

export function withTimeout<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  return within(ms, what, promise);
}

/** A child process with its stdout read as lines and stderr kept for messages. */
export class Child {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  stderr = '';
  private readonly lines: string[] = [];
  private readonly waiters: Array<() => void> = [];
  private partial = '';
  private done = false;

  constructor(
    readonly name: string,
    command: string,
    args: readonly string[],
  ) {
    this.child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdin!.on('error', () => {});
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => {
      const parts = (this.partial + chunk).split('\n');
      this.partial = parts.pop()!;
      this.lines.push(...parts);
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code) => {
        this.done = true;
        if (this.partial !== '') this.lines.push(this.partial);
        for (const wake of this.waiters.splice(0)) wake();
        resolve(code);
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Takes the first unread stdout line matching `pattern`. */
  async line(what: string, pattern: RegExp = /./, ms = WAIT_MS): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const index = this.lines.findIndex((l) => pattern.test(l));
      if (index >= 0) return this.lines.splice(index, 1)[0];
      if (this.done) throw new Error(`${this.name} exited before ${what}: ${this.describe()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what} from ${this.name}: ${this.describe()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Takes the next stdout line that is a JSON object with `event` set to one of `events`. */
  async json(what: string, ...events: string[]): Promise<Record<string, unknown>> {
    const line = await this.line(what, /^\{/);
    const value = JSON.parse(line) as Record<string, unknown>;
    if (events.length > 0 && !events.includes(String(value.event))) {
      throw new Error(`expected ${events.join('/')} for ${what}, got ${line} ${this.describe()}`);
    }
    return value;
  }

  describe(): string {
    return `[stdout left: ${this.lines.join(' | ') || '-'}] [stderr: ${this.stderr.trim() || '-'}]`;
  }

  kill(): void {
    if (!this.done) this.child.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    this.kill();
    await this.exited;
  }
}

export function wsx(name: string, args: readonly string[]): Child {
  if (!existsSync(WSX_CLI)) throw new Error(`${WSX_CLI} not found: build first (npx tsc -p tsconfig.json)`);
  return new Child(name, NODE, [WSX_CLI, ...args]);
}

const LISTENING = /^wsx listening on ws:\/\/127\.0\.0\.1:(\d+)\/$/;

/** `wsx serve --echo` on a free loopback port; resolves once it printed its URL. */
export async function startWsxServe(extra: readonly string[] = []): Promise<{ child: Child; url: string }> {
  const child = wsx('wsx serve', ['serve', '--echo', '--port', '0', '--host', '127.0.0.1', ...extra]);
  const first = await child.line('the listening line');
  const match = LISTENING.exec(first);
  if (!match) {
    child.kill();
    throw new Error(`wsx serve printed ${JSON.stringify(first)} first, expected ${LISTENING}`);
  }
  return { child, url: `ws://127.0.0.1:${match[1]}/` };
}

/** Resident set size of a process, from /proc (bytes). */
export function rssOf(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!match) throw new Error(`no ${field} for ${pid}`);
  return Number(match[1]) * 1024;
}

// ---- payloads ----

/** JSON-like ASCII text of `size` bytes: compresses well, as real traffic does. */
export function jsonText(size: number, seed = 0): string {
  let out = '';
  let i = seed;
  while (out.length < size) {
    out += `{"id":${i},"user":"user-${i % 97}","tags":["a${i % 7}","b${i % 13}"],"score":${(i * 7919) % 1000}},`;
    i++;
  }
  return out.slice(0, size);
}

/** Incompressible bytes (stored blocks on the wire). */
export function noise(size: number): Buffer {
  return randomBytes(size);
}

/** Multi-byte UTF-8 text of about `size` bytes (2-, 3- and 4-byte characters). */
export function utf8Text(size: number): string {
  const sample = 'héllo wörld — ça va? 你好, мир 🌍🚀 𝄞 ';
  const unit = Buffer.byteLength(sample);
  return sample.repeat(Math.ceil(size / unit));
}

/** Splits `data` into pieces whose sizes cycle through `sizes`. */
export function split(data: Buffer, sizes: readonly number[]): Buffer[] {
  const pieces: Buffer[] = [];
  let pos = 0;
  let i = 0;
  while (pos < data.length) {
    const size = Math.max(1, sizes[i++ % sizes.length]);
    pieces.push(data.subarray(pos, pos + size));
    pos += size;
  }
  if (pieces.length === 0) pieces.push(Buffer.alloc(0));
  return pieces;
}

// ---- raw sockets: a peer that writes whatever bytes a test wants ----

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export function acceptFor(key: string): string {
  return createHash('sha1')
    .update(key + GUID)
    .digest('base64');
}

/** Reads a socket: the HTTP head first, then frames, gathered as they arrive. */
export class RawReader {
  head: string | null = null;
  private buffer = Buffer.alloc(0);
  private readonly waiters: Array<() => void> = [];
  ended = false;

  constructor(readonly socket: NetSocket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      if (this.head === null) {
        const end = this.buffer.indexOf('\r\n\r\n');
        if (end >= 0) {
          this.head = this.buffer.subarray(0, end).toString('latin1');
          this.buffer = this.buffer.subarray(end + 4);
        }
      }
      this.wake();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  private wake(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }

  private async until(what: string, done: () => boolean, ms = WAIT_MS): Promise<void> {
    const deadline = Date.now() + ms;
    while (!done()) {
      if (this.ended) throw new Error(`socket closed before ${what}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async readHead(): Promise<string> {
    await this.until('the HTTP head', () => this.head !== null);
    return this.head!;
  }

  /** A header's value from the head ('' when absent). */
  header(name: string): string {
    const match = new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(this.head ?? '');
    return match === null ? '' : match[1].trim();
  }

  /** Waits for the first close frame and returns its code (null if none came before the socket closed). */
  async closeCode(): Promise<number | null> {
    try {
      await this.until('a close frame', () => decodeWhole(this.buffer).some((f) => f.opcode === Op.Close));
    } catch (error) {
      if (this.ended) return null;
      throw error;
    }
    const close = decodeWhole(this.buffer).find((f) => f.opcode === Op.Close)!;
    return close.payload.length >= 2 ? close.payload.readUInt16BE(0) : 1005;
  }

  /** Waits for `count` data frames and returns every frame received so far. */
  async frames(count: number): Promise<Frame[]> {
    await this.until(
      `${count} data frames`,
      () => decodeWhole(this.buffer).filter((f) => f.opcode < 8).length >= count,
    );
    return decodeWhole(this.buffer);
  }
}

/** Decodes the whole frames at the start of `data`, leaving a partial one out. */
function decodeWhole(data: Buffer): Frame[] {
  let end = 0;
  while (end + 2 <= data.length) {
    const second = data[end + 1];
    let length = second & 0x7f;
    let at = end + 2;
    if (length === 126) {
      if (at + 2 > data.length) break;
      length = data.readUInt16BE(at);
      at += 2;
    } else if (length === 127) {
      if (at + 8 > data.length) break;
      length = Number(data.readBigUInt64BE(at));
      at += 8;
    }
    if (second & 0x80) at += 4;
    if (at + length > data.length) break;
    end = at + length;
  }
  return decodeFrames(data.subarray(0, end));
}

/** Opens a TCP connection to a ws:// URL and sends an upgrade request with these extensions. */
/** `extra`: bytes (frames) written in the same write as the request. */
export async function rawUpgrade(
  url: string,
  extensions: string | string[] | null,
  extra: Buffer = Buffer.alloc(0),
): Promise<RawReader> {
  const target = new URL(url);
  const socket = netConnect({ host: target.hostname, port: Number(target.port) });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const reader = new RawReader(socket);
  const key = randomBytes(16).toString('base64');
  const lines = [
    `GET ${target.pathname} HTTP/1.1`,
    `Host: ${target.host}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${key}`,
    'Sec-WebSocket-Version: 13',
  ];
  for (const value of extensions === null ? [] : Array.isArray(extensions) ? extensions : [extensions]) {
    lines.push(`Sec-WebSocket-Extensions: ${value}`);
  }
  socket.write(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), extra]));
  const head = await reader.readHead();
  if (head.startsWith('HTTP/1.1 101')) assert.equal(reader.header('sec-websocket-accept'), acceptFor(key));
  return reader;
}

/**
 * A server that completes any upgrade with the given Sec-WebSocket-Extensions response (none
 * when null) and hands each connection to `onOpen`.
 */
export async function rawServer(
  extensions: string | null,
  onOpen: (reader: RawReader) => void = () => {},
  /** Bytes (frames) written in the same write as the 101. */
  extra: Buffer = Buffer.alloc(0),
): Promise<{ url: string; close: () => Promise<void>; requests: string[] }> {
  const requests: string[] = [];
  const sockets = new Set<NetSocket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const reader = new RawReader(socket);
    reader.readHead().then(
      (head) => {
        requests.push(head);
        const key = reader.header('sec-websocket-key');
        const lines = [
          'HTTP/1.1 101 Switching Protocols',
          'Upgrade: websocket',
          'Connection: Upgrade',
          `Sec-WebSocket-Accept: ${acceptFor(key)}`,
        ];
        if (extensions !== null) lines.push(`Sec-WebSocket-Extensions: ${extensions}`);
        socket.write(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), extra]));
        onOpen(reader);
      },
      () => socket.destroy(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/`,
    requests,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---- ws peers ----

export interface Message {
  data: Buffer;
  isBinary: boolean;
}

/** Messages handed out in arrival order; waiting past the end fails instead of hanging. */
export class Inbox<T> {
  private readonly items: T[] = [];
  private readonly waiters: Array<{ resolve: (item: T) => void; reject: (error: Error) => void }> = [];
  private ended: string | null = null;

  push(item: T): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(item);
    else this.items.push(item);
  }

  end(why: string): void {
    this.ended = why;
    for (const waiter of this.waiters.splice(0)) waiter.reject(new Error(why));
  }

  next(what: string, ms = WAIT_MS): Promise<T> {
    if (this.items.length > 0) return Promise.resolve(this.items.shift()!);
    if (this.ended !== null) return Promise.reject(new Error(`${this.ended} before ${what}`));
    return withTimeout(new Promise<T>((resolve, reject) => this.waiters.push({ resolve, reject })), what, ms);
  }
}

export function rawToBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** A `ws` client with its upgrade response, its TCP socket and its messages queued. */
export class WsClient {
  readonly inbox = new Inbox<Message>();
  readonly closed: Promise<{ code: number; reason: string }>;
  /** The Sec-WebSocket-Extensions of the 101 response ('' when none). */
  extensionsHeader = '';
  socket: NetSocket | null = null;

  private constructor(readonly ws: WebSocket) {
    ws.on('upgrade', (response) => {
      const value = response.headers['sec-websocket-extensions'];
      this.extensionsHeader = Array.isArray(value) ? value.join(', ') : (value ?? '');
      this.socket = response.socket as NetSocket;
    });
    ws.on('message', (data: RawData, isBinary: boolean) =>
      this.inbox.push({ data: rawToBuffer(data), isBinary }),
    );
    ws.on('error', () => {});
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.inbox.end(`closed with ${code}`);
        resolve({ code, reason: reason.toString() });
      });
    });
  }

  static async open(url: string, options: ClientOptions): Promise<WsClient> {
    const client = new WsClient(new WebSocket(url, options));
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        client.ws.once('open', () => resolve());
        client.ws.once('error', reject);
      }),
      `the handshake with ${url}`,
    );
    return client;
  }

  /** Sends a message, whole or in fragments of the given sizes, compressed when negotiated. */
  async send(data: Buffer, binary: boolean, fragments: readonly number[] | null = null): Promise<void> {
    const pieces = fragments === null ? [data] : split(data, fragments);
    await Promise.all(
      pieces.map(
        (piece, i) =>
          new Promise<void>((resolve, reject) =>
            this.ws.send(piece, { binary, compress: true, fin: i === pieces.length - 1 }, (error) =>
              error ? reject(error) : resolve(),
            ),
          ),
      ),
    );
  }

  async close(): Promise<void> {
    this.ws.close(1000);
    await withTimeout(this.closed, 'the close');
  }
}

/** Parameters of a Sec-WebSocket-Extensions value as a sorted list of `name` or `name=value`. */
export function paramList(header: string): string[] {
  if (header === '') return [];
  const [extension, ...more] = header.split(',');
  assert.equal(more.length, 0, `one extension in ${header}`);
  const [name, ...params] = extension.split(';').map((part) => part.trim());
  assert.equal(name, 'permessage-deflate');
  return params.map((param) => param.replace(/\s*=\s*/, '=').replaceAll('"', '')).sort();
}
