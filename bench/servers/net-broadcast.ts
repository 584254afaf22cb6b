/**
 * The floor for the broadcast workload: node:net holding bare WebSocket connections
 * (`bare-websocket.ts`) and writing one frame, made once, to each with `socket.write`: the
 * one write per delivery that any Node server pays. It reads only what the generator sends
 * (one masked text frame per read, the trigger, then a close frame) and checks nothing.
 */
import net from 'node:net';
import { bareWebSocket, closeBack } from './bare-websocket.js';
import { counted, HOST, installHooks, portFromArgs, ready, reportCountOnHangup } from './common.js';

const OPCODE_CLOSE = 0x8;
const sockets = new Set<net.Socket>();

installHooks();
reportCountOnHangup();
const server = net.createServer({ noDelay: true }, (socket) => {
  socket.on('close', () => sockets.delete(socket));
  bareWebSocket(
    socket,
    () => sockets.add(socket),
    (chunk) => {
      if ((chunk[0] & 0x0f) === OPCODE_CLOSE) closeBack(socket);
      else broadcast(chunk);
    },
  );
});
server.listen(portFromArgs(), HOST, () => {
  const addr = server.address();
  ready(typeof addr === 'object' && addr ? addr.port : 0);
});

/** Unmasks the trigger frame's payload, frames it for the clients and writes it to every socket. */
function broadcast(chunk: Buffer): void {
  let length = chunk[1] & 0x7f;
  let at = 2;
  if (length === 126) {
    length = chunk.readUInt16BE(2);
    at = 4;
  }
  const mask = chunk.subarray(at, at + 4);
  at += 4;
  const header = length < 126 ? [0x81, length] : [0x81, 126, length >> 8, length & 0xff];
  const frame = Buffer.allocUnsafe(header.length + length);
  frame.set(header);
  for (let i = 0; i < length; i++) frame[header.length + i] = chunk[at + i] ^ mask[i & 3];
  for (const socket of sockets) socket.write(frame);
  counted(sockets.size);
}
