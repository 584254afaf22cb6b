/**
 * wsx echo/broadcast peer, using the library's public server API.
 * wsx has no topic publish (yet), so broadcast is a loop over the open sockets,
 * the same as the ws peer.
 */
import { createServer, type Socket } from '../../src/index.js';
import { HOST, installHooks, isTrigger, portFromArgs, ready } from './common.js';

installHooks();
const server = createServer({ maxMessageSize: 64 * 1024 * 1024 });
const sockets = new Set<Socket>();

server.route('/*', {
  open(ws) {
    sockets.add(ws);
  },
  message(ws, data, isBinary) {
    if (isTrigger(data, isBinary)) {
      for (const s of sockets) s.sendText(data);
      return;
    }
    if (isBinary) ws.sendBinary(data);
    else ws.sendText(data);
  },
  close(ws) {
    sockets.delete(ws);
  },
});

const { port } = await server.listen({ port: portFromArgs(), host: HOST });
ready(port, 'broadcast=loop');
