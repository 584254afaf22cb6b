// Drives the sans-I/O protocol core directly: a ConnectionEvents sink that records what a
// Connection does (keeping copies, since pieces may be views into input chunks), and fast
// builders for long streams of frames.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { CloseInfo } from '../../src/protocol/close.js';
import { Connection } from '../../src/protocol/connection.js';
import type { ConnectionEvents, ConnectionOptions } from '../../src/protocol/connection-types.js';
import type { ProtocolViolation } from '../../src/protocol/errors.js';
import { readFrames, type WireFrame } from './helpers.js';

export class Sink implements ConnectionEvents {
  readonly writes: Buffer[] = [];
  readonly messages: Array<{ data: Buffer; isBinary: boolean }> = [];
  readonly pings: Buffer[] = [];
  readonly pongs: Buffer[] = [];
  readonly closes: CloseInfo[] = [];
  readonly failures: ProtocolViolation[] = [];
  ends = 0;
  /** Set false to count messages without keeping them. */
  keepMessages = true;
  messageCount = 0;
  messageBytes = 0;

  write(data: Uint8Array): void {
    this.writes.push(Buffer.from(data));
  }
  messageReceived(data: Buffer, isBinary: boolean): void {
    this.messageCount++;
    this.messageBytes += data.length;
    if (this.keepMessages) this.messages.push({ data: Buffer.from(data), isBinary });
  }
  pingReceived(payload: Buffer): void {
    this.pings.push(Buffer.from(payload));
  }
  pongReceived(payload: Buffer): void {
    this.pongs.push(Buffer.from(payload));
  }
  closeReceived(info: CloseInfo): void {
    this.closes.push(info);
  }
  failed(error: ProtocolViolation): void {
    this.failures.push(error);
  }
  endTransport(): void {
    this.ends++;
  }

  get written(): Buffer {
    return Buffer.concat(this.writes);
  }

  /** The frames written, decoded (payloads unmasked). */
  frames(): WireFrame[] {
    const { frames, rest } = readFrames(this.written);
    if (rest.length > 0) throw new Error(`${rest.length} bytes of an incomplete frame were written`);
    return frames;
  }
}

export function serverConnection(options: ConnectionOptions = {}): { conn: Connection; sink: Sink } {
  const sink = new Sink();
  return { conn: new Connection('server', sink, options), sink };
}

export function clientConnection(options: ConnectionOptions = {}): { conn: Connection; sink: Sink } {
  const sink = new Sink();
  return { conn: new Connection('client', sink, options), sink };
}

/** Feeds `data` to a connection in chunks of `size` bytes (copies: the parser unmasks in place). */
export function feed(conn: Connection, data: Buffer, size = 64 * 1024): void {
  for (let pos = 0; pos < data.length; pos += size) {
    conn.receive(Buffer.from(data.subarray(pos, Math.min(pos + size, data.length))));
  }
}

/**
 * A message split into `count` masked frames (a zero masking key, so payload bytes stay as
 * they are): `count` - 1 fragments of `each` bytes of `fill`, then the final one.
 */
export function fragmentedMessage(opcode: number, count: number, each: number, fill = 0x61): Buffer {
  const frameSize = 6 + each;
  const out = Buffer.alloc(count * frameSize, fill);
  for (let i = 0; i < count; i++) {
    const at = i * frameSize;
    out[at] = (i === count - 1 ? 0x80 : 0) | (i === 0 ? opcode : 0);
    out[at + 1] = 0x80 | each;
    out.fill(0, at + 2, at + 6);
  }
  return out;
}

// A collector to call before reading memory figures (the test runner starts files without --expose-gc).
setFlagsFromString('--expose-gc');
export const collectGarbage = runInNewContext('gc') as () => void;

/** Heap and buffer memory of this process, after a full collection. */
export function memory(): { heapUsed: number; arrayBuffers: number; rss: number } {
  collectGarbage();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers, rss: m.rss };
}
