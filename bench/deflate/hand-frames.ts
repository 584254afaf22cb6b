/**
 * The WebSocket side of the `node:net` floors in this benchmark (`net`, `net-deflate`): a 101
 * made by hand, then each masked frame the load generator sends handed on as it lies in the
 * read. It checks nothing and knows only the frames those clients send.
 */
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** What a floor does with each complete frame, and after each read's frames. */
export interface HandFrameSink {
  /** A frame: its first byte, where its masking key is in `data`, its payload's length. */
  frame(data: Buffer, first: number, maskAt: number, length: number): void;
  readDone?(): void;
}

/**
 * Answers the upgrade on `socket` with the extensions `extensionsFor` picks for the request
 * head (null: none), then hands each frame to `sink`; a frame split across reads waits for
 * the rest.
 */
export function serveHandFrames(
  socket: Socket,
  extensionsFor: (head: string) => string | null,
  sink: HandFrameSink,
): void {
  let pending: Buffer | null = null;
  let upgraded = false;
  socket.on('error', () => {});
  socket.on('data', (chunk: Buffer) => {
    let data = pending === null ? chunk : Buffer.concat([pending, chunk]);
    pending = null;
    if (!upgraded) {
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) {
        pending = data;
        return;
      }
      const head = data.subarray(0, end).toString('latin1');
      const key = /^sec-websocket-key:\s*(\S+)/im.exec(head)?.[1] ?? '';
      const accept = createHash('sha1').update(`${key}${GUID}`).digest('base64');
      const extensions = extensionsFor(head);
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n` +
          (extensions === null ? '\r\n' : `Sec-WebSocket-Extensions: ${extensions}\r\n\r\n`),
      );
      upgraded = true;
      data = data.subarray(end + 4);
    }
    let pos = 0;
    while (data.length - pos >= 6) {
      let length = data[pos + 1] & 0x7f;
      let maskAt = pos + 2;
      if (length === 126) {
        length = data.readUInt16BE(maskAt);
        maskAt += 2;
      } else if (length === 127) {
        length = data.readUInt32BE(maskAt + 4);
        maskAt += 8;
      }
      if (data.length < maskAt + 4 + length) break;
      sink.frame(data, data[pos], maskAt, length);
      pos = maskAt + 4 + length;
    }
    sink.readDone?.();
    if (pos < data.length) pending = Buffer.from(data.subarray(pos));
  });
}
