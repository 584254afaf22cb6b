// Frame encoding and decoding for the conformance test peer (RFC 6455 section 5.2).
// The encoder deliberately allows everything the RFC forbids (reserved bits, reserved
// opcodes, oversized control frames, non-minimal length encodings, the 64-bit high bit)
// so that the peer can put any byte sequence on the wire.
import { randomBytes } from 'node:crypto';

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

export type Payload = Uint8Array | string;

export interface FrameSpec {
  opcode: number;
  payload?: Payload;
  /** Defaults to true. */
  fin?: boolean;
  /** Reserved bits as a 3-bit value: RSV1 = 4, RSV2 = 2, RSV3 = 1. */
  rsv?: number;
  /** true: random key, a 4-byte key: that key, false: unmasked. Default: the sender's role. */
  mask?: boolean | Uint8Array;
  /** Length encoding: 'min' (the RFC's minimal form), or force the 7-bit, 16-bit or 64-bit form. */
  lengthForm?: 'min' | 7 | 16 | 64;
  /** Overrides the declared payload length (the real payload bytes are still written). */
  declaredLength?: bigint;
}

export interface Frame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  maskKey: Buffer | null;
  /** Unmasked payload. */
  payload: Buffer;
  /** How the length was encoded on the wire: 7, 16 or 64 bits. */
  lengthForm: 7 | 16 | 64;
}

export function toBuffer(payload: Payload | undefined): Buffer {
  if (payload === undefined) return Buffer.alloc(0);
  if (typeof payload === 'string') return Buffer.from(payload, 'utf8');
  return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
}

/** XORs `data` with the 4-byte `key` into a new buffer. */
export function applyMask(data: Buffer, key: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(data.length);
  const k0 = key[0];
  const k1 = key[1];
  const k2 = key[2];
  const k3 = key[3];
  const n = data.length;
  const whole = n - (n % 4);
  let i = 0;
  for (; i < whole; i += 4) {
    out[i] = data[i] ^ k0;
    out[i + 1] = data[i + 1] ^ k1;
    out[i + 2] = data[i + 2] ^ k2;
    out[i + 3] = data[i + 3] ^ k3;
  }
  for (; i < n; i++) out[i] = data[i] ^ key[i & 3];
  return out;
}

function minimalForm(length: number): 7 | 16 | 64 {
  if (length <= 125) return 7;
  if (length <= 0xffff) return 16;
  return 64;
}

/** Encodes one frame; `defaultMask` applies when the spec leaves `mask` unset. */
export function encodeFrame(spec: FrameSpec, defaultMask: boolean): Buffer {
  const payload = toBuffer(spec.payload);
  const fin = spec.fin ?? true;
  const rsv = spec.rsv ?? 0;
  const maskOpt = spec.mask ?? defaultMask;
  const maskKey = maskOpt === false ? null : maskOpt === true ? randomBytes(4) : Buffer.from(maskOpt);
  if (maskKey !== null && maskKey.length !== 4) throw new Error('mask key must be 4 bytes');
  const declared = spec.declaredLength ?? BigInt(payload.length);
  const form =
    spec.lengthForm === undefined || spec.lengthForm === 'min'
      ? minimalForm(payload.length)
      : spec.lengthForm;
  if (form === 7 && declared > 125n) throw new Error('length does not fit the 7-bit form');
  if (form === 16 && declared > 0xffffn) throw new Error('length does not fit the 16-bit form');
  const extLen = form === 7 ? 0 : form === 16 ? 2 : 8;
  const header = Buffer.alloc(2 + extLen + (maskKey ? 4 : 0));
  header[0] = (fin ? 0x80 : 0) | ((rsv & 7) << 4) | (spec.opcode & 0x0f);
  const maskBit = maskKey ? 0x80 : 0;
  if (form === 7) header[1] = maskBit | Number(declared);
  else if (form === 16) {
    header[1] = maskBit | 126;
    header.writeUInt16BE(Number(declared), 2);
  } else {
    header[1] = maskBit | 127;
    header.writeBigUInt64BE(declared, 2);
  }
  if (maskKey) maskKey.copy(header, 2 + extLen);
  const body = maskKey ? applyMask(payload, maskKey) : payload;
  return Buffer.concat([header, body]);
}

/** Payload of a close frame: nothing, a 2-byte code, or a code followed by a reason. */
export function closePayload(code?: number, reason: Payload = ''): Buffer {
  if (code === undefined) return Buffer.alloc(0);
  const r = toBuffer(reason);
  const out = Buffer.alloc(2 + r.length);
  out.writeUInt16BE(code, 0);
  r.copy(out, 2);
  return out;
}

export function closeCodeOf(frame: Frame): number | null {
  return frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : null;
}

export function opcodeName(op: number): string {
  switch (op) {
    case Op.Continuation:
      return 'continuation';
    case Op.Text:
      return 'text';
    case Op.Binary:
      return 'binary';
    case Op.Close:
      return 'close';
    case Op.Ping:
      return 'ping';
    case Op.Pong:
      return 'pong';
    default:
      return `reserved-opcode-${op}`;
  }
}

export function hex(buf: Uint8Array, max = 48): string {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const shown = b.subarray(0, max).toString('hex').replace(/(..)/g, '$1 ').trim();
  return b.length > max ? `${shown} …(+${b.length - max} bytes, ${b.length} total)` : shown || '(empty)';
}

export function describeFrame(f: Frame): string {
  let s = `${opcodeName(f.opcode)} fin=${f.fin ? 1 : 0}`;
  if (f.rsv) s += ` rsv=${f.rsv.toString(2).padStart(3, '0')}`;
  s += f.masked ? ' masked' : ' unmasked';
  s += ` len=${f.payload.length}`;
  if (f.opcode === Op.Close && f.payload.length >= 2) {
    s += ` code=${f.payload.readUInt16BE(0)}`;
    if (f.payload.length > 2) s += ` reason=${JSON.stringify(f.payload.subarray(2, 60).toString('utf8'))}`;
  } else if (f.payload.length) s += ` payload=${hex(f.payload, 24)}`;
  return s;
}

/** Incremental frame parser for what the implementation under test sends. */
export class FrameParser {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Total bytes (header + payload) of the frame at the head, once its header is known. */
  private needed = 0;

  /** Feeds bytes; returns every frame completed by them. Throws on a frame this peer cannot represent. */
  push(chunk: Buffer): Frame[] {
    if (chunk.length) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const frames: Frame[] = [];
    for (;;) {
      if (this.needed === 0) {
        const size = this.peekFrameSize();
        if (size === 0) break;
        this.needed = size;
      }
      if (this.buffered < this.needed) break;
      const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.buffered);
      const raw = all.subarray(0, this.needed);
      const rest = all.subarray(this.needed);
      this.chunks = rest.length ? [rest] : [];
      this.buffered = rest.length;
      this.needed = 0;
      frames.push(decodeComplete(raw));
    }
    return frames;
  }

  /** Bytes received that do not yet form a complete frame. */
  pendingBytes(): number {
    return this.buffered;
  }

  private peekFrameSize(): number {
    if (this.buffered < 2) return 0;
    const head = this.chunks[0].length >= 14 ? this.chunks[0] : Buffer.concat(this.chunks, this.buffered);
    const len7 = head[1] & 0x7f;
    const masked = (head[1] & 0x80) !== 0;
    const ext = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
    const headerLen = 2 + ext + (masked ? 4 : 0);
    if (this.buffered < headerLen) return 0;
    let len: number;
    if (len7 === 126) len = head.readUInt16BE(2);
    else if (len7 === 127) {
      const big = head.readBigUInt64BE(2);
      if (big > 0x7fffffffn)
        throw new Error(`peer announced a frame of ${big} bytes; header ${hex(head, 10)}`);
      len = Number(big);
    } else len = len7;
    return headerLen + len;
  }
}

function decodeComplete(raw: Buffer): Frame {
  const b0 = raw[0];
  const b1 = raw[1];
  const len7 = b1 & 0x7f;
  const masked = (b1 & 0x80) !== 0;
  let off = 2;
  let lengthForm: 7 | 16 | 64 = 7;
  if (len7 === 126) {
    off += 2;
    lengthForm = 16;
  } else if (len7 === 127) {
    off += 8;
    lengthForm = 64;
  }
  let maskKey: Buffer | null = null;
  if (masked) {
    maskKey = Buffer.from(raw.subarray(off, off + 4));
    off += 4;
  }
  const body = raw.subarray(off);
  return {
    fin: (b0 & 0x80) !== 0,
    rsv: (b0 >> 4) & 7,
    opcode: b0 & 0x0f,
    masked,
    maskKey,
    payload: maskKey ? applyMask(body, maskKey) : Buffer.from(body),
    lengthForm,
  };
}
