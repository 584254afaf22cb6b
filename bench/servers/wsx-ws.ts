/**
 * wsx/ws echo/broadcast peer: the same code as ws.ts with the import changed to the ws-compatible
 * facade, as a user migrating from ws would write it. Broadcast loops over `wss.clients`, as ws
 * code does (no topics).
 */
import { WebSocketServer } from '../../src/ws/index.js';
import { HOST, installHooks, isTrigger, portFromArgs, ready } from './common.js';

installHooks();
const wss = new WebSocketServer({
  host: HOST,
  port: portFromArgs(),
  maxPayload: 64 * 1024 * 1024,
  perMessageDeflate: false,
  clientTracking: true,
});

wss.on('connection', (ws) => {
  ws.on('error', () => {});
  ws.on('message', (data, isBinary) => {
    const buf = data as Buffer;
    if (isTrigger(buf, isBinary)) {
      for (const client of wss.clients) client.send(buf, { binary: false });
      return;
    }
    ws.send(buf, { binary: isBinary });
  });
});

wss.on('listening', () => {
  const addr = wss.address();
  ready(typeof addr === 'object' && addr ? addr.port : 0);
});
