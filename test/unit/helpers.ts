// Test helpers for the sans-I/O protocol core: a recording fake of ConnectionEvents, a
// frame builder that can put any byte sequence on the wire (including everything RFC 6455
// forbids), a minimal frame decoder for what a Connection writes, and a seeded PRNG.
// Nothing here imports the code under test except types, so the checks stay independent.
import assert from 'node:assert/strict';
import type { CloseInfo } from '../../src/protocol/close.js';
import { Connection } from '../../src/protocol/connection.js';
import type { ConnectionEvents, ConnectionOptions } from '../../src/protocol/connection-types.js';
import type { ProtocolViolation } from '../../src/protocol/errors.js';
import { prng } from '../shared/random.js';

export { prng };

export const Op = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;

export const RSV1 = 4;
export const RSV2 = 2;
export const RSV3 = 1;

// ---- frames ----

export interface FrameSpec {
  opcode: number;
  payload?: Uint8Array | string;
  /** Default true. */
  fin?: boolean;
  /** Reserved bits as a 3-bit value: RSV1 = 4, RSV2 = 2, RSV3 = 1. */
  rsv?: number;
  /** A 4-byte key masks the payload; null sends it unmasked. */
  mask: Uint8Array | null;
  /** Force the length encoding: 7, 16 or 64 bits. Default: the minimal one. */
  lengthForm?: 7 | 16 | 64;
  /** Declare this length instead of the payload's (the payload bytes are still written). */
  declaredLength?: bigint;
}

export function bytes(payload: Uint8Array | string | undefined): Buffer {
  if (payload === undefined) return Buffer.alloc(0);
  if (typeof payload === 'string') return Buffer.from(payload, 'utf8');
  return Buffer.from(payload);
}

/** Naive XOR of `data` with `key` starting at key position `phase`, into a new buffer. */
export function xorMask(data: Uint8Array, key: Uint8Array, phase = 0): Buffer {
  const out = Buffer.alloc(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] ^ key[(i + phase) % 4];
  return out;
}

/** Encodes a frame byte by byte, straight from RFC 6455 §5.2. */
export function frame(spec: FrameSpec): Buffer {
  const payload = bytes(spec.payload);
  const length = spec.declaredLength ?? BigInt(payload.length);
  const form = spec.lengthForm ?? (length < 126n ? 7 : length < 0x10000n ? 16 : 64);
  const head: number[] = [((spec.fin ?? true) ? 0x80 : 0) | ((spec.rsv ?? 0) << 4) | spec.opcode];
  const maskBit = spec.mask === null ? 0 : 0x80;
  if (form === 7) head.push(maskBit | Number(length));
  else if (form === 16) head.push(maskBit | 126, Number(length >> 8n) & 0xff, Number(length) & 0xff);
  else {
    head.push(maskBit | 127);
    for (let shift = 56n; shift >= 0n; shift -= 8n) head.push(Number((length >> shift) & 0xffn));
  }
  if (spec.mask !== null) head.push(...spec.mask);
  const body = spec.mask === null ? payload : xorMask(payload, spec.mask);
  return Buffer.concat([Buffer.from(head), body]);
}

/** A fixed, non-trivial masking key (every byte different, none zero). */
export const KEY = Uint8Array.from([0x37, 0xfa, 0x21, 0x3d]);

type Options = Omit<FrameSpec, 'opcode' | 'payload' | 'mask'> & { mask?: Uint8Array | null };

/** A frame as a client sends it: masked (with KEY unless told otherwise). */
export function clientFrame(opcode: number, payload?: Uint8Array | string, options: Options = {}): Buffer {
  return frame({ ...options, opcode, payload, mask: options.mask === undefined ? KEY : options.mask });
}

/** A frame as a server sends it: unmasked unless told otherwise. */
export function serverFrame(opcode: number, payload?: Uint8Array | string, options: Options = {}): Buffer {
  return frame({ ...options, opcode, payload, mask: options.mask ?? null });
}

/** A close frame payload: 2-byte code and the reason's bytes. */
export function closePayload(code: number, reason: Uint8Array | string = ''): Buffer {
  const head = Buffer.alloc(2);
  head.writeUInt16BE(code);
  return Buffer.concat([head, bytes(reason)]);
}

export interface DecodedFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  maskKey: Buffer | null;
  /** Unmasked payload. */
  payload: Buffer;
  /** Length of the header on the wire. */
  headerLength: number;
}

/** Decodes a whole sequence of frames; fails the test on a truncated frame or a non-minimal length. */
export function decodeFrames(data: Uint8Array): DecodedFrame[] {
  const buf = Buffer.from(data);
  const frames: DecodedFrame[] = [];
  let pos = 0;
  while (pos < buf.length) {
    assert.ok(buf.length - pos >= 2, 'truncated frame header');
    const first = buf[pos];
    const second = buf[pos + 1];
    let length = second & 0x7f;
    let at = pos + 2;
    if (length === 126) {
      length = buf.readUInt16BE(at);
      assert.ok(length >= 126, 'non-minimal 16-bit length');
      at += 2;
    } else if (length === 127) {
      const big = buf.readBigUInt64BE(at);
      assert.ok(big >= 0x10000n && big < 2n ** 63n, 'non-minimal or overflowing 64-bit length');
      length = Number(big);
      at += 8;
    }
    const masked = (second & 0x80) !== 0;
    let maskKey: Buffer | null = null;
    if (masked) {
      maskKey = Buffer.from(buf.subarray(at, at + 4));
      at += 4;
    }
    assert.ok(buf.length - at >= length, 'truncated frame payload');
    const raw = buf.subarray(at, at + length);
    frames.push({
      fin: (first & 0x80) !== 0,
      rsv: (first >> 4) & 7,
      opcode: first & 0x0f,
      masked,
      maskKey,
      payload: maskKey === null ? Buffer.from(raw) : xorMask(raw, maskKey),
      headerLength: at - pos,
    });
    pos = at + length;
  }
  return frames;
}

/** The code and reason of a close frame (code 1005 when the payload is empty). */
export function closeOf(f: DecodedFrame): CloseInfo {
  assert.equal(f.opcode, Op.Close, 'not a close frame');
  if (f.payload.length === 0) return { code: 1005, reason: '' };
  assert.ok(f.payload.length >= 2, 'close payload of 1 byte');
  return { code: f.payload.readUInt16BE(0), reason: f.payload.subarray(2).toString('utf8') };
}

// ---- a recording ConnectionEvents ----

export type Event =
  | { type: 'write'; data: Buffer }
  | { type: 'message'; data: Buffer; isBinary: boolean }
  | { type: 'ping'; payload: Buffer }
  | { type: 'pong'; payload: Buffer }
  | { type: 'close'; info: CloseInfo }
  | { type: 'failed'; error: ProtocolViolation }
  | { type: 'endTransport' };

/** Records every call, copying buffers so later input cannot change what was seen. */
export class Recorder implements ConnectionEvents {
  readonly events: Event[] = [];
  /** Set to make messageReceived throw (to test how handler errors are treated). */
  throwOnMessage: Error | null = null;
  /** Set to act on the peer's close frame as the application would (answer it, send, throw). */
  onClose: ((info: CloseInfo) => void) | null = null;

  write(data: Uint8Array): void {
    this.events.push({ type: 'write', data: Buffer.from(data) });
  }
  messageReceived(data: Buffer, isBinary: boolean): void {
    this.events.push({ type: 'message', data: Buffer.from(data), isBinary });
    if (this.throwOnMessage !== null) throw this.throwOnMessage;
  }
  pingReceived(payload: Buffer): void {
    this.events.push({ type: 'ping', payload: Buffer.from(payload) });
  }
  pongReceived(payload: Buffer): void {
    this.events.push({ type: 'pong', payload: Buffer.from(payload) });
  }
  closeReceived(info: CloseInfo): void {
    this.events.push({ type: 'close', info: { code: info.code, reason: info.reason } });
    this.onClose?.(info);
  }
  failed(error: ProtocolViolation): void {
    this.events.push({ type: 'failed', error });
  }
  endTransport(): void {
    this.events.push({ type: 'endTransport' });
  }

  /** All bytes written, in order. */
  get written(): Buffer {
    return Buffer.concat(this.events.flatMap((e) => (e.type === 'write' ? [e.data] : [])));
  }
  /** What was written, decoded. */
  get frames(): DecodedFrame[] {
    return decodeFrames(this.written);
  }
  get messages(): Array<{ data: Buffer; isBinary: boolean }> {
    return this.events.flatMap((e) => (e.type === 'message' ? [{ data: e.data, isBinary: e.isBinary }] : []));
  }
  get failures(): ProtocolViolation[] {
    return this.events.flatMap((e) => (e.type === 'failed' ? [e.error] : []));
  }
  get endTransports(): number {
    return this.events.filter((e) => e.type === 'endTransport').length;
  }
  count(type: Event['type']): number {
    return this.events.filter((e) => e.type === type).length;
  }
  /**
   * The events as comparable plain values; writes are merged into decoded frames so that the
   * split of a write does not matter, and random masking keys are left out.
   */
  summary(): unknown[] {
    const out: unknown[] = [];
    let pending: Buffer[] = [];
    const flush = () => {
      if (pending.length === 0) return;
      for (const f of decodeFrames(Buffer.concat(pending))) {
        out.push(['frame', f.fin, f.rsv, f.opcode, f.masked, f.payload.toString('hex')]);
      }
      pending = [];
    };
    for (const e of this.events) {
      if (e.type === 'write') {
        pending.push(e.data);
        continue;
      }
      flush();
      switch (e.type) {
        case 'message':
          out.push(['message', e.isBinary, e.data.toString('hex')]);
          break;
        case 'ping':
        case 'pong':
          out.push([e.type, e.payload.toString('hex')]);
          break;
        case 'close':
          out.push(['close', e.info.code, e.info.reason]);
          break;
        case 'failed':
          out.push(['failed', e.error.code, e.error.closeCode]);
          break;
        case 'endTransport':
          out.push(['endTransport']);
          break;
      }
    }
    flush();
    return out;
  }
}

export function server(options?: ConnectionOptions): { conn: Connection; rec: Recorder } {
  const rec = new Recorder();
  return { conn: new Connection('server', rec, options), rec };
}

export function client(options?: ConnectionOptions): { conn: Connection; rec: Recorder } {
  const rec = new Recorder();
  return { conn: new Connection('client', rec, options), rec };
}

/**
 * Asserts that the connection was failed once with `closeCode` (and the given violation
 * code): a close frame with that code was written last, then `failed`, then `endTransport`.
 */
export function assertFailed(rec: Recorder, closeCode: number, violation?: string): void {
  const failures = rec.failures;
  assert.equal(failures.length, 1, `expected one failure, got ${failures.map((f) => f.code).join(', ')}`);
  assert.equal(failures[0].closeCode, closeCode);
  if (violation !== undefined) assert.equal(failures[0].code, violation);
  const frames = rec.frames;
  assert.ok(frames.length > 0, 'no close frame written');
  const last = frames[frames.length - 1];
  assert.equal(last.opcode, Op.Close, 'last frame written is not a close frame');
  assert.equal(closeOf(last).code, closeCode);
  assert.equal(rec.endTransports, 1);
  const tail = rec.events.slice(-2).map((e) => e.type);
  assert.deepEqual(tail, ['failed', 'endTransport']);
}

// ---- feeding ----

/**
 * Feeds `data` cut at the given offsets. Each piece is a fresh copy, because the parser
 * unmasks in place and the same bytes are often fed several times.
 */
export function feed(conn: Connection, data: Uint8Array, cuts: readonly number[] = []): void {
  let start = 0;
  for (const cut of [...cuts, data.length]) {
    conn.receive(Buffer.from(data.subarray(start, cut)));
    start = cut;
  }
}

/** Feeds one byte at a time. */
export function feedBytewise(conn: Connection, data: Uint8Array): void {
  for (let i = 0; i < data.length; i++) conn.receive(Buffer.from(data.subarray(i, i + 1)));
}

/** Random sorted cut points in (0, length), about one every `mean` bytes. */
export function randomCuts(length: number, random: () => number, mean = 8): number[] {
  const cuts: number[] = [];
  let at = 0;
  for (;;) {
    at += 1 + Math.floor(random() * mean * 2);
    if (at >= length) return cuts;
    cuts.push(at);
  }
}

export function randomBytes(length: number, random: () => number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(random() * 256);
  return out;
}
