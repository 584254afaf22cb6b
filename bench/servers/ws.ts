/**
 * `ws` echo/broadcast peer. Run with WS_NO_BUFFER_UTIL=1 for ws as a user
 * gets it from `npm install ws` (no optional native addon); without it ws
 * picks up the installed `bufferutil`.
 */
import { createRequire } from 'node:module';
import { WebSocketServer } from 'ws';
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
  // ws loads bufferutil by itself unless WS_NO_BUFFER_UTIL is set; say whether it could
  let bufferutil = 'off';
  if (!process.env.WS_NO_BUFFER_UTIL) {
    try {
      createRequire(import.meta.url)('bufferutil');
      bufferutil = 'on';
    } catch {
      bufferutil = 'missing';
    }
  }
  ready(typeof addr === 'object' && addr ? addr.port : 0, `bufferutil=${bufferutil}`);
});
