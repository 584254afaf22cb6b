/**
 * Raw node:net echo: no WebSocket at all. It is the ceiling for any Node
 * server on this machine (same event loop, same sockets, zero protocol work),
 * and with idle connections it is the memory floor of a bare net.Socket.
 */
import net from 'node:net';
import { counted, HOST, installHooks, portFromArgs, ready } from './common.js';

installHooks();
const server = net.createServer({ noDelay: true }, (socket) => {
  socket.on('error', () => {});
  socket.on('data', (chunk) => {
    counted();
    socket.write(chunk);
  });
});
server.listen(portFromArgs(), HOST, () => {
  const addr = server.address();
  ready(typeof addr === 'object' && addr ? addr.port : 0);
});
