// A raw TCP WebSocket peer for black-box conformance testing. It plays either side of a
// connection: as a client it opens TCP and performs the upgrade itself; as a server it is
// handed an upgraded socket by RawWsServer (raw-server.ts). It writes arbitrary frames
// (whole, in chunks or byte by byte) and parses, checks and queues what the other side sends.
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  closeCodeOf,
  closePayload,
  describeFrame,
  encodeFrame,
  type Frame,
  FrameParser,
  type FrameSpec,
  hex,
  Op,
  opcodeName,
  type Payload,
  toBuffer,
} from './frames.js';
import { checkUtf8 } from './utf8.js';

export const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Default wait for a frame, a close or a TCP close. Generous: a timeout only fires on failure. */
export const DEFAULT_TIMEOUT = Number(process.env.WSX_CONFORMANCE_TIMEOUT_MS ?? 3000);
/** How long a fail-fast case waits for the close before giving up on fail-fast behaviour. */
export const FAIL_FAST_TIMEOUT = Number(process.env.WSX_CONFORMANCE_FAIL_FAST_MS ?? 1000);

export function acceptKey(key: string): string {
  return createHash('sha1')
    .update(key + WS_GUID)
    .digest('base64');
}

/** Close codes an endpoint may send (RFC 6455 7.4.1 and the IANA registry) or receive validly. */
export function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

/** Which side of the connection the test peer plays. The implementation plays the other. */
export type Side = 'client' | 'server';

export interface SendOptions {
  /** Write in TCP chunks of this many bytes ('byte': one byte per write). */
  chunkSize?: number | 'byte';
  /** Write in TCP chunks cut at these byte offsets of the whole write. */
  cuts?: number[];
  /** Pause between chunks, in milliseconds. */
  delayMs?: number;
}

/** What a close frame from the implementation may carry. */
export type CloseExpectation = number | readonly number[] | 'any' | 'empty-or-1000';

export class WsPeer {
  readonly side: Side;
  readonly socket: net.Socket;
  /** 'clean' after a completed closing handshake, 'failed' after the implementation failed the connection. */
  outcome: 'open' | 'clean' | 'failed' = 'open';
  private readonly parser = new FrameParser();
  private readonly queue: Frame[] = [];
  private readonly violations: string[] = [];
  private readonly log: string[] = [];
  private readonly wakers = new Set<() => void>();
  private remoteClosed = false;
  private closeReceived = false;
  private closeSent = false;
  private inMessage: number | null = null;
  private messageParts: Buffer[] = [];
  private readonly started = Date.now();
  /** Mask keys of every masked frame received, in order. */
  readonly maskKeys: Buffer[] = [];

  constructor(socket: net.Socket, side: Side, leftover: Buffer = Buffer.alloc(0)) {
    this.socket = socket;
    this.side = side;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onRemoteClosed('FIN'));
    socket.on('close', () => this.onRemoteClosed('close'));
    socket.on('error', (err: NodeJS.ErrnoException) => this.note(`socket error ${err.code ?? err.message}`));
    if (leftover.length) this.onData(leftover);
    socket.resume();
  }

  /** The frames the implementation sends must be masked iff it is the client. */
  private get expectMaskedInput(): boolean {
    return this.side === 'server';
  }

  private get maskOutput(): boolean {
    return this.side === 'client';
  }

  private stamp(): string {
    return `+${String(Date.now() - this.started).padStart(4, ' ')}ms`;
  }

  private note(line: string): void {
    this.log.push(`${this.stamp()} ${line.length > 240 ? `${line.slice(0, 240)}…` : line}`);
    this.wake();
  }

  private wake(): void {
    for (const w of this.wakers) w();
    this.wakers.clear();
  }

  private onRemoteClosed(how: string): void {
    if (!this.remoteClosed) this.note(`← TCP ${how} from implementation`);
    this.remoteClosed = true;
    this.wake();
  }

  private onData(chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.parser.push(chunk);
    } catch (err) {
      this.violate(`unparseable frame: ${(err as Error).message}`);
      this.socket.destroy();
      return;
    }
    for (const f of frames) this.onFrame(f);
    this.wake();
  }

  private violate(msg: string): void {
    this.violations.push(msg);
    this.note(`!! ${msg}`);
  }

  private onFrame(f: Frame): void {
    this.note(`← ${describeFrame(f)}`);
    if (this.closeReceived) this.violate(`frame sent after a close frame: ${describeFrame(f)}`);
    if (f.masked !== this.expectMaskedInput)
      this.violate(
        `${this.side === 'server' ? 'client' : 'server'} sent a ${f.masked ? 'masked' : 'unmasked'} frame`,
      );
    if (f.rsv !== 0) this.violate('non-zero RSV bits without a negotiated extension');
    const control = f.opcode >= 8;
    if (![0, 1, 2, 8, 9, 10].includes(f.opcode)) this.violate(`reserved opcode ${f.opcode}`);
    if (control && !f.fin) this.violate('fragmented control frame');
    if (control && f.payload.length > 125) this.violate('control frame payload > 125 bytes');
    if (f.opcode === Op.Close) {
      this.closeReceived = true;
      if (f.payload.length === 1) this.violate('close frame with a 1-byte payload');
      if (f.payload.length >= 2) {
        const code = f.payload.readUInt16BE(0);
        if (!isValidCloseCode(code)) this.violate(`close frame with invalid code ${code}`);
        if (!checkUtf8(f.payload.subarray(2)).valid) this.violate('close reason is not valid UTF-8');
      }
    }
    if (f.opcode === Op.Text || f.opcode === Op.Binary) {
      if (this.inMessage !== null) this.violate('new data frame inside a fragmented message');
      this.inMessage = f.fin ? null : f.opcode;
      this.messageParts = f.fin ? [] : [f.payload];
      if (f.fin && f.opcode === Op.Text && !checkUtf8(f.payload).valid)
        this.violate('text message is not valid UTF-8');
    } else if (f.opcode === Op.Continuation) {
      if (this.inMessage === null) this.violate('continuation frame without a started message');
      else {
        this.messageParts.push(f.payload);
        if (f.fin) {
          if (this.inMessage === Op.Text && !checkUtf8(Buffer.concat(this.messageParts)).valid)
            this.violate('text message is not valid UTF-8');
          this.inMessage = null;
          this.messageParts = [];
        }
      }
    }
    if (f.maskKey) this.maskKeys.push(f.maskKey);
    this.queue.push(f);
  }

  /** Transcript of what went over the wire, for failure messages. */
  transcript(max = 60): string {
    const lines = this.log.length > max ? ['…', ...this.log.slice(-max)] : this.log;
    return lines.join('\n');
  }

  private throwIfViolations(): void {
    if (this.violations.length)
      throw new Error(`protocol violation by the implementation: ${this.violations.join('; ')}`);
  }

  private async waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wakers.add(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  // ---------------------------------------------------------------- sending

  /** Writes raw bytes, optionally split into chunks with pauses. Never throws on a closed socket. */
  async sendRaw(bytes: Uint8Array, opts: SendOptions = {}, label?: string): Promise<void> {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const pieces = splitBuffer(buf, opts);
    if (label) this.note(`→ ${label}${pieces.length > 1 ? ` (in ${pieces.length} TCP writes)` : ''}`);
    else this.note(`→ raw ${hex(buf)}${pieces.length > 1 ? ` (in ${pieces.length} TCP writes)` : ''}`);
    for (let i = 0; i < pieces.length; i++) {
      if (i > 0 && opts.delayMs) await sleep(opts.delayMs);
      await this.write(pieces[i]);
    }
  }

  private write(buf: Buffer): Promise<void> {
    if (this.socket.destroyed || this.socket.writableEnded) {
      this.note(`(write of ${buf.length} bytes skipped: socket already closed)`);
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.socket.write(buf, (err) => {
        if (err) this.note(`(write failed: ${(err as NodeJS.ErrnoException).code ?? err.message})`);
        resolve();
      });
    });
  }

  /** Encodes the frames and writes them in one go (or split per `opts`). */
  async send(frames: FrameSpec | FrameSpec[], opts: SendOptions = {}): Promise<void> {
    const list = Array.isArray(frames) ? frames : [frames];
    const encoded = list.map((f) => encodeFrame(f, this.maskOutput));
    const labels = list.map((f, i) => describeSpec(f, encoded[i], this.maskOutput));
    for (const f of list) if (f.opcode === Op.Close) this.closeSent = true;
    await this.sendRaw(Buffer.concat(encoded), opts, labels.join(' + '));
  }

  /** Sends each frame as its own TCP write with `delayMs` between them. */
  async sendEach(frames: FrameSpec[], delayMs = 0): Promise<void> {
    for (let i = 0; i < frames.length; i++) {
      if (i > 0 && delayMs) await sleep(delayMs);
      await this.send(frames[i]);
    }
  }

  text(payload: Payload, opts?: SendOptions): Promise<void> {
    return this.send({ opcode: Op.Text, payload }, opts);
  }

  binary(payload: Payload, opts?: SendOptions): Promise<void> {
    return this.send({ opcode: Op.Binary, payload }, opts);
  }

  ping(payload: Payload = '', opts?: SendOptions): Promise<void> {
    return this.send({ opcode: Op.Ping, payload }, opts);
  }

  pong(payload: Payload = '', opts?: SendOptions): Promise<void> {
    return this.send({ opcode: Op.Pong, payload }, opts);
  }

  close(code?: number, reason: Payload = '', opts?: SendOptions): Promise<void> {
    return this.send({ opcode: Op.Close, payload: closePayload(code, reason) }, opts);
  }

  /** Half-closes our side of TCP (FIN). */
  async end(): Promise<void> {
    if (this.socket.destroyed || this.socket.writableEnded) return;
    this.note('→ TCP FIN');
    await new Promise<void>((resolve) => this.socket.end(resolve));
  }

  destroy(): void {
    this.socket.destroy();
  }

  // ---------------------------------------------------------------- expectations

  /** Next frame from the implementation; fails on timeout or TCP close. */
  async nextFrame(timeoutMs = DEFAULT_TIMEOUT, what = 'a frame'): Promise<Frame> {
    await this.waitFor(() => this.queue.length > 0 || this.remoteClosed, timeoutMs, what);
    const f = this.queue.shift();
    this.throwIfViolations();
    if (!f) throw new Error(`the implementation closed TCP while the peer was waiting for ${what}`);
    return f;
  }

  /** Waits for the next frame without consuming it. */
  async peekFrame(timeoutMs = DEFAULT_TIMEOUT, what = 'a frame'): Promise<Frame> {
    await this.waitFor(() => this.queue.length > 0 || this.remoteClosed, timeoutMs, what);
    this.throwIfViolations();
    const f = this.queue[0];
    if (!f) throw new Error(`the implementation closed TCP while the peer was waiting for ${what}`);
    return f;
  }

  /** Expects the next frame to match every given field (payload compared byte for byte). */
  async expectFrame(
    want: { opcode?: number; fin?: boolean; rsv?: number; masked?: boolean; payload?: Payload },
    timeoutMs = DEFAULT_TIMEOUT,
  ): Promise<Frame> {
    const f = await this.nextFrame(timeoutMs, `frame ${JSON.stringify({ ...want, payload: undefined })}`);
    const bad: string[] = [];
    if (want.opcode !== undefined && f.opcode !== want.opcode)
      bad.push(`opcode ${f.opcode} ≠ ${want.opcode}`);
    if (want.fin !== undefined && f.fin !== want.fin) bad.push(`fin ${f.fin} ≠ ${want.fin}`);
    if (want.rsv !== undefined && f.rsv !== want.rsv) bad.push(`rsv ${f.rsv} ≠ ${want.rsv}`);
    if (want.masked !== undefined && f.masked !== want.masked)
      bad.push(`masked ${f.masked} ≠ ${want.masked}`);
    if (want.payload !== undefined && !f.payload.equals(toBuffer(want.payload)))
      bad.push(`payload ${hex(f.payload, 16)} ≠ ${hex(toBuffer(want.payload), 16)}`);
    if (bad.length) throw new Error(`unexpected frame ${describeFrame(f)}: ${bad.join(', ')}`);
    return f;
  }

  /** Expects one complete data message (one frame or a fragmented sequence). */
  async expectMessage(opcode: number, payload: Payload, timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
    const want = toBuffer(payload);
    const what = `${opcodeName(opcode)} message of ${want.length} bytes (${hex(want, 16)})`;
    let f = await this.nextFrame(timeoutMs, what);
    if (f.opcode !== opcode) throw new Error(`expected ${what}, got ${describeFrame(f)}`);
    const parts = [f.payload];
    while (!f.fin) {
      f = await this.nextFrame(timeoutMs, `continuation of ${what}`);
      if (f.opcode !== Op.Continuation)
        throw new Error(`expected continuation of ${what}, got ${describeFrame(f)}`);
      parts.push(f.payload);
    }
    const got = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    if (!got.equals(want)) {
      let i = 0;
      while (i < got.length && i < want.length && got[i] === want[i]) i++;
      throw new Error(
        `${opcodeName(opcode)} message differs at byte ${i}: expected ${want.length} bytes ${hex(want.subarray(i), 16)}, ` +
          `got ${got.length} bytes ${hex(got.subarray(i), 16)}`,
      );
    }
  }

  expectText(payload: Payload, timeoutMs?: number): Promise<void> {
    return this.expectMessage(Op.Text, payload, timeoutMs);
  }

  expectBinary(payload: Payload, timeoutMs?: number): Promise<void> {
    return this.expectMessage(Op.Binary, payload, timeoutMs);
  }

  async expectPong(payload: Payload = '', timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
    const want = toBuffer(payload);
    const f = await this.nextFrame(timeoutMs, `pong with ${hex(want, 16)}`);
    if (f.opcode !== Op.Pong) throw new Error(`expected pong, got ${describeFrame(f)}`);
    if (!f.payload.equals(want))
      throw new Error(`pong payload differs: expected ${hex(want)}, got ${hex(f.payload)}`);
  }

  /** Expects a close frame matching `expect`; returns it. */
  async expectClose(expect: CloseExpectation, timeoutMs = DEFAULT_TIMEOUT): Promise<Frame> {
    const what = `close ${describeCloseExpectation(expect)}`;
    const f = await this.nextFrame(timeoutMs, what);
    if (f.opcode !== Op.Close) throw new Error(`expected ${what}, got ${describeFrame(f)}`);
    const code = closeCodeOf(f);
    let ok: boolean;
    if (expect === 'any') ok = true;
    else if (expect === 'empty-or-1000') ok = code === null ? f.payload.length === 0 : code === 1000;
    else if (typeof expect === 'number') ok = code === expect;
    else ok = code !== null && (expect as readonly number[]).includes(code);
    if (!ok) throw new Error(`expected ${what}, got ${describeFrame(f)}`);
    return f;
  }

  /** Expects that nothing arrives (and TCP stays open) for `ms`. */
  async expectSilence(ms: number): Promise<void> {
    try {
      await this.waitFor(() => this.queue.length > 0 || this.remoteClosed, ms, 'silence');
    } catch {
      this.throwIfViolations();
      return;
    }
    this.throwIfViolations();
    const f = this.queue[0];
    throw new Error(
      f
        ? `expected no frame, got ${describeFrame(f)}`
        : 'expected the connection to stay open, but TCP was closed',
    );
  }

  /** Expects the implementation to close TCP, with no frame left unread. */
  async expectTcpClosed(timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
    await this.waitFor(() => this.remoteClosed, timeoutMs, 'the implementation to close TCP');
    this.throwIfViolations();
    if (this.queue.length)
      throw new Error(`unexpected frame before TCP close: ${describeFrame(this.queue[0])}`);
    if (this.parser.pendingBytes())
      throw new Error(`${this.parser.pendingBytes()} bytes of an incomplete frame before TCP close`);
  }

  /** True once the implementation closed (or reset) TCP. */
  get tcpClosed(): boolean {
    return this.remoteClosed;
  }

  /**
   * Completes a normal closing handshake started by the peer: sends close(code), expects the
   * close reply, then TCP close — the server closes TCP first (RFC 6455 7.1.1), so as a client
   * the peer waits for it; as a server it closes and then expects the client to follow.
   */
  async closeNormally(code: number | undefined = 1000, reason: Payload = ''): Promise<void> {
    await this.close(code, reason);
    await this.expectClose(code === undefined ? 'empty-or-1000' : code);
    await this.finishTcp();
    this.outcome = 'clean';
  }

  /**
   * The implementation must fail the connection with `code`: expects the close frame, answers it
   * like a conforming peer would and expects TCP to be closed.
   */
  async expectFailure(code: CloseExpectation, timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
    await this.answerClose(await this.expectClose(code, timeoutMs));
  }

  /** Answers a close frame received from the implementation and waits for the TCP close. */
  async answerClose(f: Frame): Promise<void> {
    if (!this.closeSent) {
      const got = closeCodeOf(f);
      await this.close(got ?? undefined);
    }
    await this.finishTcp();
    this.outcome = 'failed';
  }

  /** After the close frames were exchanged: the server side closes TCP first. */
  async finishTcp(timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
    if (this.side === 'server') await this.end();
    await this.expectTcpClosed(timeoutMs);
  }

  /** Sends a single-frame data message and expects it echoed with the same type. */
  async echo(opcode: number, payload: Payload, opts?: SendOptions): Promise<void> {
    await this.send({ opcode, payload }, opts);
    await this.expectMessage(opcode, payload);
  }

  assertNoViolations(): void {
    this.throwIfViolations();
  }
}

function describeCloseExpectation(e: CloseExpectation): string {
  if (e === 'any') return '(any code)';
  if (e === 'empty-or-1000') return '(empty or 1000)';
  if (typeof e === 'number') return `code ${e}`;
  return `code in [${(e as readonly number[]).join(', ')}]`;
}

function describeSpec(f: FrameSpec, encoded: Buffer, defaultMask: boolean): string {
  const payload = toBuffer(f.payload);
  const masked = f.mask ?? defaultMask;
  let s = `${opcodeName(f.opcode)} fin=${(f.fin ?? true) ? 1 : 0}`;
  if (f.rsv) s += ` rsv=${f.rsv.toString(2).padStart(3, '0')}`;
  if (!masked) s += ' unmasked';
  if (f.lengthForm && f.lengthForm !== 'min') s += ` len-form=${f.lengthForm}`;
  if (f.declaredLength !== undefined) s += ` declared-len=${f.declaredLength}`;
  s += ` len=${payload.length}`;
  if (payload.length) s += ` payload=${hex(payload, 20)}`;
  if (encoded.length <= 40) s += ` [wire ${hex(encoded, 40)}]`;
  return s;
}

export function splitBuffer(buf: Buffer, opts: SendOptions): Buffer[] {
  if (opts.cuts) {
    const out: Buffer[] = [];
    let prev = 0;
    for (const c of [...opts.cuts].sort((a, b) => a - b)) {
      if (c <= prev || c >= buf.length) continue;
      out.push(buf.subarray(prev, c));
      prev = c;
    }
    out.push(buf.subarray(prev));
    return out;
  }
  if (opts.chunkSize !== undefined) {
    const size = opts.chunkSize === 'byte' ? 1 : opts.chunkSize;
    const out: Buffer[] = [];
    for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
    return out.length ? out : [buf];
  }
  return [buf];
}

// ---------------------------------------------------------------- HTTP upgrade (client side)

export interface HttpHead {
  /** First line, e.g. 'HTTP/1.1 101 Switching Protocols' or 'GET / HTTP/1.1'. */
  startLine: string;
  /** Header names lower-cased; repeated headers joined with ', '. */
  headers: Map<string, string>;
  raw: string;
}

export function parseHttpHead(raw: string): HttpHead {
  const lines = raw.split('\r\n');
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    if (!line) continue;
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    headers.set(name, headers.has(name) ? `${headers.get(name)}, ${value}` : value);
  }
  return { startLine: lines[0], headers, raw };
}

/** Reads an HTTP head (up to CRLF CRLF) from the socket; returns it and the bytes after it. */
export function readHttpHead(
  socket: net.Socket,
  timeoutMs = DEFAULT_TIMEOUT,
): Promise<{ head: HttpHead; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const cleanup = () => {
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('end', onEnd);
      socket.removeListener('error', onError);
    };
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const i = buf.indexOf('\r\n\r\n');
      if (i >= 0) {
        cleanup();
        socket.pause();
        resolve({ head: parseHttpHead(buf.subarray(0, i).toString('latin1')), rest: buf.subarray(i + 4) });
      } else if (buf.length > 65536) {
        cleanup();
        reject(new Error('HTTP head larger than 64 KiB'));
      }
    };
    const onEnd = () => {
      cleanup();
      reject(
        new Error(
          `connection closed before the end of the HTTP head; got ${JSON.stringify(buf.toString('latin1'))}`,
        ),
      );
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(
        new Error(
          `timed out after ${timeoutMs} ms reading an HTTP head; got ${JSON.stringify(buf.toString('latin1'))}`,
        ),
      );
    }, timeoutMs);
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', onError);
  });
}

export function openTcp(host: string, port: number, timeoutMs = DEFAULT_TIMEOUT): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`TCP connect to ${host}:${port} timed out`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeListener('error', reject);
      socket.setNoDelay(true);
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

export interface UpgradeOptions {
  path?: string;
  /** Extra or overriding request headers (null removes a default header). */
  headers?: Record<string, string | null>;
  protocols?: string[];
  key?: string;
  timeoutMs?: number;
}

export interface UpgradeResult {
  socket: net.Socket;
  key: string;
  head: HttpHead;
  status: number;
  rest: Buffer;
}

/** Sends an upgrade request and reads the response head, without judging it. */
export async function sendUpgrade(url: string, opts: UpgradeOptions = {}): Promise<UpgradeResult> {
  const u = new URL(url);
  const socket = await openTcp(u.hostname, Number(u.port), opts.timeoutMs);
  const key = opts.key ?? randomBytes(16).toString('base64');
  const headers: Record<string, string | null> = {
    Host: u.host,
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': key,
    'Sec-WebSocket-Version': '13',
  };
  if (opts.protocols?.length) headers['Sec-WebSocket-Protocol'] = opts.protocols.join(', ');
  Object.assign(headers, opts.headers ?? {});
  let req = `GET ${opts.path ?? (u.pathname + u.search || '/')} HTTP/1.1\r\n`;
  for (const [k, v] of Object.entries(headers)) if (v !== null) req += `${k}: ${v}\r\n`;
  req += '\r\n';
  const headPromise = readHttpHead(socket, opts.timeoutMs);
  socket.write(req);
  try {
    const { head, rest } = await headPromise;
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head.startLine)?.[1] ?? Number.NaN);
    return { socket, key, head, status, rest };
  } catch (err) {
    socket.destroy();
    throw err;
  }
}

/** Checks a 101 response against RFC 6455 4.1 (client requirements); returns the problems found. */
export function checkUpgradeResponse(r: UpgradeResult, offeredProtocols: string[] = []): string[] {
  const problems: string[] = [];
  const h = r.head.headers;
  if (r.status !== 101) problems.push(`status line is ${JSON.stringify(r.head.startLine)}, expected 101`);
  if (h.get('upgrade')?.toLowerCase() !== 'websocket') problems.push(`Upgrade header is ${h.get('upgrade')}`);
  const conn = (h.get('connection') ?? '').toLowerCase().split(/\s*,\s*/);
  if (!conn.includes('upgrade')) problems.push(`Connection header is ${h.get('connection')}`);
  if (h.get('sec-websocket-accept') !== acceptKey(r.key))
    problems.push(`Sec-WebSocket-Accept is ${h.get('sec-websocket-accept')}, expected ${acceptKey(r.key)}`);
  if (h.has('sec-websocket-extensions'))
    problems.push('server selected an extension the client did not offer');
  const proto = h.get('sec-websocket-protocol');
  if (proto !== undefined && !offeredProtocols.includes(proto))
    problems.push(`server selected subprotocol ${proto} that was not offered`);
  return problems;
}

/** Opens a WebSocket connection as a client peer; throws if the handshake is not a valid 101. */
export async function connectPeer(
  url: string,
  opts: UpgradeOptions = {},
): Promise<{ peer: WsPeer; head: HttpHead }> {
  const r = await sendUpgrade(url, opts);
  const problems = checkUpgradeResponse(r, opts.protocols);
  if (problems.length) {
    r.socket.destroy();
    throw new Error(`bad opening handshake: ${problems.join('; ')}\n${r.head.raw}`);
  }
  return { peer: new WsPeer(r.socket, 'client', r.rest), head: r.head };
}
