/**
 * The least a server on node:net must do to speak WebSocket to the load generator, shared by
 * the floors (`net-handshake`, `net-broadcast`): read the request head, answer 101 with the
 * accept hash, then hand every later read on. It checks nothing (no method, version, header
 * grammar, limits or masking), so it is not a server; it shows what sockets, the event loop
 * and the system calls of an exchange cost in Node.
 */
import { hash } from 'node:crypto';
import type { Socket } from 'node:net';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const KEY_FIELD = 'sec-websocket-key:';
/** Close frame, code 1000: what the generator sends, echoed. */
const CLOSE_1000 = Buffer.from([0x88, 0x02, 0x03, 0xe8]);

/** Answers the upgrade on `socket`, then calls `opened` once and `frames` with each later read. */
export function bareWebSocket(socket: Socket, opened: () => void, frames: (chunk: Buffer) => void): void {
  let head = '';
  let open = false;
  socket.on('error', () => {});
  socket.on('data', (chunk: Buffer) => {
    if (open) {
      frames(chunk);
      return;
    }
    head += chunk.toString('latin1');
    if (!head.includes('\r\n\r\n')) return;
    const at = head.toLowerCase().indexOf(KEY_FIELD) + KEY_FIELD.length;
    const key = head.slice(at, head.indexOf('\r\n', at)).trim();
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${hash('sha1', key + GUID, 'base64')}\r\n\r\n`,
    );
    open = true;
    opened();
  });
}

/** Replies to the close frame the generator ends with, and closes TCP. */
export function closeBack(socket: Socket): void {
  socket.write(CLOSE_1000);
  socket.destroy();
}
