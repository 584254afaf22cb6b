// What must hold for any input, shared by the property tests and the mutational fuzzer:
// feeding bytes to a Connection never throws, never fails with an internal error, writes only
// well-formed frames (control frames of at most 125 bytes, valid close payloads, masked only on
// the client, nothing after a close frame), delivers only messages within the limits (text
// always valid UTF-8), and does the same whatever the split of the input into reads.
import { isUtf8 } from 'node:buffer';
import type { CloseInfo } from '../../src/protocol/close.js';
import { Connection } from '../../src/protocol/connection.js';
import type { ConnectionEvents, ConnectionOptions, Role } from '../../src/protocol/connection-types.js';
import type { ProtocolViolation } from '../../src/protocol/errors.js';
import { readFrames } from '../shared/frames.js';

function validWireCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

/** Records a Connection's events as comparable values, checking each as it comes. */
class Observer implements ConnectionEvents {
  readonly summary: string[] = [];
  readonly problems: string[] = [];
  private pending: Buffer[] = [];
  private closeWritten = false;
  private failedCount = 0;

  constructor(
    private readonly role: Role,
    private readonly maxMessageSize: number,
  ) {}

  write(data: Uint8Array): void {
    this.pending.push(Buffer.from(data));
  }

  /** Decodes what was written since the last event into frame entries, checking each frame. */
  flush(): void {
    if (this.pending.length === 0) return;
    const bytes = Buffer.concat(this.pending);
    this.pending = [];
    const { frames, rest } = readFrames(bytes);
    if (rest.length > 0) this.problems.push(`wrote ${rest.length} bytes of an incomplete frame`);
    for (const frame of frames) {
      const where = `written frame opcode ${frame.opcode}`;
      if (this.closeWritten) this.problems.push(`${where} after a close frame`);
      if (frame.rsv !== 0) this.problems.push(`${where} has RSV bits ${frame.rsv}`);
      if (frame.masked !== (this.role === 'client'))
        this.problems.push(`${where} masked=${frame.masked} on the ${this.role}`);
      if (frame.opcode >= 8) {
        if (frame.payload.length > 125)
          this.problems.push(`${where} has a ${frame.payload.length}-byte payload`);
        if (!frame.fin) this.problems.push(`${where} is fragmented`);
      } else if (frame.opcode > 2) {
        this.problems.push(`${where} is a reserved opcode`);
      }
      if (frame.opcode === 8) {
        this.closeWritten = true;
        const p = frame.payload;
        if (p.length === 1) this.problems.push('wrote a close frame with a 1-byte payload');
        if (p.length >= 2 && !validWireCloseCode(p.readUInt16BE(0)))
          this.problems.push(`wrote close code ${p.readUInt16BE(0)}`);
        if (p.length > 2 && !isUtf8(p.subarray(2)))
          this.problems.push('wrote a close reason that is not UTF-8');
      }
      this.summary.push(
        `frame ${frame.fin ? 1 : 0}${frame.rsv}${frame.opcode} ${frame.payload.toString('hex')}`,
      );
    }
  }

  messageReceived(data: Buffer, isBinary: boolean): void {
    this.flush();
    if (this.failedCount > 0) this.problems.push('a message was delivered after the connection failed');
    if (data.length > this.maxMessageSize)
      this.problems.push(`a message of ${data.length} bytes exceeds the limit`);
    if (!isBinary && !isUtf8(data)) this.problems.push('a text message is not valid UTF-8');
    this.summary.push(`message ${isBinary ? 'binary' : 'text'} ${data.toString('hex')}`);
  }
  pingReceived(payload: Buffer): void {
    this.flush();
    if (payload.length > 125) this.problems.push('a ping payload over 125 bytes');
    this.summary.push(`ping ${payload.toString('hex')}`);
  }
  pongReceived(payload: Buffer): void {
    this.flush();
    this.summary.push(`pong ${payload.toString('hex')}`);
  }
  closeReceived(info: CloseInfo): void {
    this.flush();
    this.summary.push(`close ${info.code} ${JSON.stringify(info.reason)}`);
  }
  failed(error: ProtocolViolation): void {
    this.flush();
    this.failedCount++;
    if (this.failedCount > 1) this.problems.push('failed twice');
    if (error.code === 'WSX_INTERNAL') {
      const cause = (error as { cause?: unknown }).cause;
      this.problems.push(
        `internal error: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}`,
      );
    }
    this.summary.push(`failed ${error.code} ${error.closeCode}`);
  }
  endTransport(): void {
    this.flush();
    this.summary.push('end');
  }
}

export interface ConnectionRun {
  summary: string[];
  problems: string[];
}

/** Prepares a new Connection (installs an extension); returns what to call when the run is over. */
export type Setup = (connection: Connection) => () => void;

/** Feeds `chunks` (copied: the parser unmasks in place) to a new Connection and checks everything it does. */
export function runConnection(
  role: Role,
  chunks: readonly Uint8Array[],
  options: ConnectionOptions = {},
  setup?: Setup,
): ConnectionRun {
  const observer = new Observer(role, options.maxMessageSize ?? 16 * 1024 * 1024);
  const connection = new Connection(role, observer, options);
  const teardown = setup?.(connection);
  for (const chunk of chunks) {
    try {
      connection.receive(Buffer.from(chunk));
    } catch (error) {
      observer.problems.push(
        `receive threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      break;
    }
  }
  observer.flush();
  teardown?.();
  return { summary: observer.summary, problems: observer.problems };
}

/** Splits `data` at the given offsets (sorted, deduplicated, clipped). */
export function splitAt(data: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => Math.max(0, Math.min(data.length, c))))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const point of points) {
    if (point > from) chunks.push(data.subarray(from, point));
    from = Math.max(from, point);
  }
  if (from < data.length || chunks.length === 0) chunks.push(data.subarray(from));
  return chunks;
}

/**
 * Runs `data` whole and split at `cuts`, and returns every problem: oracle violations of
 * either run, and any difference between them.
 */
export function checkStream(
  role: Role,
  data: Uint8Array,
  cuts: readonly number[],
  options: ConnectionOptions = {},
  setup?: Setup,
  normalize: (summary: readonly string[]) => string[] = (summary) => [...summary],
): string[] {
  const whole = runConnection(role, [data], options, setup);
  const split = runConnection(role, splitAt(data, cuts), options, setup);
  const problems = [...whole.problems, ...split.problems.map((p) => `(split) ${p}`)];
  const a = normalize(whole.summary);
  const b = normalize(split.summary);
  if (a.join('\n') !== b.join('\n')) {
    const at = a.findIndex((entry, i) => entry !== b[i]);
    const index = at === -1 ? a.length : at;
    problems.push(
      `split changes the events at #${index}: whole ${clip(a[index])} vs split ${clip(b[index])}`,
    );
  }
  return problems;
}

function clip(text: string | undefined): string {
  if (text === undefined) return '(nothing)';
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}

// ---- frame building for generators ----

export interface FrameSpec {
  opcode: number;
  fin: boolean;
  rsv: number;
  payload: Uint8Array;
  mask: Uint8Array | null;
  /** 7, 16 or 64-bit length encoding; default minimal. */
  lengthForm?: 7 | 16 | 64;
}

/** Encodes a frame from RFC 6455 §5.2, any field allowed (including invalid ones). */
export function encodeSpec(spec: FrameSpec): Buffer {
  const length = spec.payload.length;
  const form = spec.lengthForm ?? (length < 126 ? 7 : length < 0x10000 ? 16 : 64);
  const head: number[] = [(spec.fin ? 0x80 : 0) | ((spec.rsv & 7) << 4) | (spec.opcode & 0x0f)];
  const maskBit = spec.mask === null ? 0 : 0x80;
  if (form === 7 && length < 126) head.push(maskBit | length);
  else if (form !== 64 && length < 0x10000) head.push(maskBit | 126, length >> 8, length & 0xff);
  else {
    head.push(maskBit | 127, 0, 0, 0, 0);
    head.push((length >>> 24) & 0xff, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff);
  }
  const payload = Buffer.from(spec.payload);
  if (spec.mask !== null) {
    head.push(...spec.mask);
    for (let i = 0; i < payload.length; i++) payload[i] ^= spec.mask[i & 3];
  }
  return Buffer.concat([Buffer.from(head), payload]);
}
