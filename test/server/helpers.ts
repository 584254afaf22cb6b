import { type Socket as NetSocket, connect as netConnect } from 'node:net';
import { sleep, until, within } from '../shared/wait.js';

export { sleep, until, within };

export interface Frame {
  readonly fin: boolean;
  readonly rsv1: boolean;
  readonly opcode: number;
  readonly payload: Buffer;
}

/**
 * A WebSocket client on a raw TCP socket, written from RFC 6455 for these tests: it does the
 * handshake, parses the server's (unmasked) frames, and can stop reading, or never answer pings,
 * to play a slow or dead peer. By default it answers pings and close frames like a client should.
 */
export class RawClient {
  readonly socket: NetSocket;
  readonly frames: Frame[] = [];
  /** Data messages received (whole frames only: the server's messages here are unfragmented). */
  messages = 0;
  /** Called for every data frame. */
  onFrame: ((frame: Frame) => void) | null = null;
  /** Answer pings with pongs. */
  answerPings = true;
  /** Keep every frame in `frames` (off for the big fan-out, which only counts). */
  keepFrames = true;
  closeCode: number | null = null;
  private closeSent = false;
  closed: Promise<void>;
  /** Bytes received and not yet parsed, and how many a frame needs before parsing is worth it. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private needed = 2;

  private constructor(socket: NetSocket, rest: Buffer) {
    this.socket = socket;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    if (rest.length > 0) this.receive(rest);
  }

  /** Connects and completes the handshake on `path`; rejects with the status line when refused. */
  static open(
    port: number,
    path = '/',
    options: { localAddress?: string; host?: string; allowHalfOpen?: boolean } = {},
  ): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = netConnect({
        port,
        host: options.host ?? '127.0.0.1',
        localAddress: options.localAddress,
        allowHalfOpen: options.allowHalfOpen,
      });
      let head = Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end === -1) return;
        socket.off('data', onData);
        socket.off('error', reject);
        const status = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
        if (!status.startsWith('HTTP/1.1 101')) {
          socket.destroy();
          reject(new Error(status));
          return;
        }
        socket.on('error', () => {});
        resolve(new RawClient(socket, head.subarray(end + 4)));
      };
      socket.on('data', onData);
      socket.on('error', reject);
      socket.on('connect', () => {
        socket.write(
          `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
        );
      });
    });
  }

  /** Sends a masked frame. */
  send(opcode: number, payload: Buffer | string = Buffer.alloc(0), fin = true): void {
    const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
    const length = data.length;
    const header = length < 126 ? 2 : length < 0x10000 ? 4 : 10;
    const frame = Buffer.alloc(header + 4 + length);
    frame[0] = (fin ? 0x80 : 0) | opcode;
    if (length < 126) frame[1] = 0x80 | length;
    else if (length < 0x10000) {
      frame[1] = 0x80 | 126;
      frame.writeUInt16BE(length, 2);
    } else {
      frame[1] = 0x80 | 127;
      frame.writeBigUInt64BE(BigInt(length), 2);
    }
    const key = [0x12, 0x34, 0x56, 0x78];
    for (let i = 0; i < 4; i++) frame[header + i] = key[i];
    for (let i = 0; i < length; i++) frame[header + 4 + i] = data[i] ^ key[i & 3];
    if (!this.socket.destroyed) this.socket.write(frame);
  }

  sendText(text: string): void {
    this.send(0x1, text);
  }

  /** Sends a close frame with `code`. */
  close(code = 1000): void {
    const payload = Buffer.alloc(2);
    payload.writeUInt16BE(code);
    this.closeSent = true;
    this.send(0x8, payload);
  }

  /** Text of the data frames received so far. */
  texts(): string[] {
    return this.frames.filter((f) => f.opcode === 0x1).map((f) => f.payload.toString('utf8'));
  }

  private receive(chunk: Buffer): void {
    // Chunks are joined only once a whole frame is there: joining on every chunk would copy a
    // large frame over and over (quadratic), which a loaded machine turns into a timeout.
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < this.needed) return;
    let b = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.needed = 2;
    while (b.length > 0) {
      const frameEnd = frameLength(b);
      if (frameEnd === null || b.length < frameEnd.total) {
        this.needed = frameEnd?.total ?? 10;
        this.pending.push(b);
        this.pendingBytes = b.length;
        return;
      }
      const { offset, total } = frameEnd;
      if (b[1]! & 0x80) throw new Error('the server masked a frame');
      const frame: Frame = {
        fin: (b[0]! & 0x80) !== 0,
        rsv1: (b[0]! & 0x40) !== 0,
        opcode: b[0]! & 0x0f,
        payload: b.subarray(offset, total),
      };
      b = b.subarray(total);
      this.handle(frame);
    }
  }

  private handle(frame: Frame): void {
    if (frame.opcode === 0x9) {
      if (this.answerPings) this.send(0xa, frame.payload);
    } else if (frame.opcode === 0x8) {
      this.closeCode = frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : 1005;
      if (!this.closeSent) {
        this.closeSent = true;
        this.send(0x8, frame.payload.subarray(0, 2));
      }
    } else if (frame.opcode !== 0xa) {
      if (frame.fin) this.messages++;
      this.onFrame?.(frame);
    }
    if (this.keepFrames) this.frames.push(frame);
  }
}

/** Opens `count` raw clients, `batch` at a time. */
export async function openMany(count: number, port: number, path: string, batch = 200): Promise<RawClient[]> {
  const clients: RawClient[] = [];
  for (let i = 0; i < count; i += batch) {
    const opened = await Promise.all(
      Array.from({ length: Math.min(batch, count - i) }, () => RawClient.open(port, path)),
    );
    clients.push(...opened);
  }
  return clients;
}

/** Where a frame's payload starts and ends in `b`, or null while its header is incomplete. */
function frameLength(b: Buffer): { offset: number; total: number } | null {
  if (b.length < 2) return null;
  const length = b[1]! & 0x7f;
  if (length === 126) return b.length < 4 ? null : { offset: 4, total: 4 + b.readUInt16BE(2) };
  if (length === 127) return b.length < 10 ? null : { offset: 10, total: 10 + Number(b.readBigUInt64BE(2)) };
  return { offset: 2, total: 2 + length };
}
