/**
 * The floor for the handshake workload: node:net doing the least a WebSocket server must do
 * for one connection (`bare-websocket.ts`): read the request head, answer 101 with the accept
 * hash, answer the client's close frame and close TCP.
 */
import net from 'node:net';
import { bareWebSocket, closeBack } from './bare-websocket.js';
import { HOST, installHooks, portFromArgs, ready } from './common.js';

installHooks();
const server = net.createServer({ noDelay: true }, (socket) => {
  bareWebSocket(
    socket,
    () => {},
    () => closeBack(socket),
  );
});
server.listen(portFromArgs(), HOST, () => {
  const addr = server.address();
  ready(typeof addr === 'object' && addr ? addr.port : 0);
});
