/**
 * The floor for the handshake workload: node:net doing the least a WebSocket server must do
 * for one connection — read the request head, answer 101 with the accept hash, answer the
 * client's close frame and close TCP. It checks nothing (no method, version, header grammar,
 * limits or masking), so it is not a server; it shows what the sockets, the event loop and
 * the system calls of this exchange cost in Node.
 */
import { hash } from 'node:crypto';
import net from 'node:net';
import { HOST, installHooks, portFromArgs, ready } from './common.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const KEY_FIELD = 'sec-websocket-key:';
/** Close frame, code 1000: what the generator sends, echoed. */
const CLOSE_1000 = Buffer.from([0x88, 0x02, 0x03, 0xe8]);

installHooks();
const server = net.createServer({ noDelay: true }, (socket) => {
  let head = '';
  let open = false;
  socket.on('error', () => {});
  socket.on('data', (chunk) => {
    if (open) {
      socket.write(CLOSE_1000);
      socket.destroy();
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
  });
});
server.listen(portFromArgs(), HOST, () => {
  const addr = server.address();
  ready(typeof addr === 'object' && addr ? addr.port : 0);
});
