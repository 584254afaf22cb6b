/**
 * wsx echo/broadcast peer, using the library's public server API. Broadcast uses topics:
 * every socket subscribes to one topic and a trigger publishes to it, so the message is
 * framed once and the same bytes go to every subscriber.
 */
import { createServer } from '../../src/index.js';
import { counted, HOST, installHooks, isTrigger, portFromArgs, ready } from './common.js';

installHooks();
const server = createServer({ maxMessageSize: 64 * 1024 * 1024, perMessageDeflate: false });

server.route('/*', {
  open(ws) {
    ws.subscribe('all');
  },
  message(ws, data, isBinary) {
    if (isTrigger(data, isBinary)) {
      counted(server.publish('all', data.toString('utf8')));
      return;
    }
    counted();
    if (isBinary) ws.sendBinary(data);
    else ws.sendText(data);
  },
});

// WSX_HTTP_PARSER=1 reads upgrade requests with Node's HTTP parser (the `wsx-http` peer),
// to compare it with wsx's own request-head reader (the default of `listen`).
const httpParser = process.env.WSX_HTTP_PARSER === '1';
const { port } = await server.listen({ port: portFromArgs(), host: HOST, httpParser });
ready(port, `broadcast=publish heads=${httpParser ? 'node-http' : 'wsx'}`);
