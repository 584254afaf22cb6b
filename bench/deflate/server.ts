/**
 * Echo server for the permessage-deflate benchmark: `--impl=wsx`, `ws`, `uws-*`, compression on.
 *
 *   wsx: createServer() with its defaults: perMessageDeflate is on by default (15-bit windows,
 *        memLevel 8, level 6, messages of 1,024 bytes and more compressed; the server sends
 *        without context takeover through one shared compressor, receives with the client's
 *        context takeover, and gives a quiet socket's zlib contexts up after 10 s).
 *   wsx-takeover: the same with `serverNoContextTakeover: false`: a compressor per socket,
 *        context kept both ways, as ws does.
 *   ws:  new WebSocketServer({ perMessageDeflate: true }): ws leaves compression OFF by default;
 *        `true` turns it on with ws's own defaults (the same zlib settings and threshold).
 *   uws-shared / uws-dedicated / uws-shared-nct: uWebSockets.js (the @trufflesuite build the
 *        main bench uses), every echo sent with compress = true. uws-shared: SHARED_COMPRESSOR |
 *        DEDICATED_DECOMPRESSOR, which agrees to exactly what wsx agrees to (server without
 *        context takeover, the client's context kept); uws-dedicated: DEDICATED_COMPRESSOR
 *        (256KB: 15-bit window, memLevel 8, like ws and wsx-takeover) | DEDICATED_DECOMPRESSOR,
 *        context kept both ways; uws-shared-nct: SHARED_COMPRESSOR alone, with which uWS answers
 *        `client_no_context_takeover` too, so clients compress every message from scratch.
 *   net: the floor for memory, not a WebSocket implementation: node:net, a hand-made 101 (which
 *        agrees to permessage-deflate when offered) and frames reflected as they came (unmasked,
 *        RSV1 kept), so a client's first compressed message comes back valid without zlib here.
 *   net-deflate: the floor for the echo, not a WebSocket implementation: node:net and Node's zlib,
 *        agreeing to what wsx agrees to, with nothing a library adds (net-deflate.ts).
 *
 * Prints `READY port=<port> pid=<pid>`; on SIGUSR2 runs a full GC (with --expose-gc) and prints
 * `GC rss=<bytes>`; the wsx servers print `COUNT <echoes>` on SIGHUP (bench/message-cost.sh);
 * SIGTERM/SIGINT exit.
 */
import { createServer as createNetServer, type Socket as NetSocket } from 'node:net';
import { WebSocketServer } from 'ws';
import { createServer } from '../../src/index.js';
import { counted, reportCountOnHangup } from '../servers/common.js';
import { serveHandFrames } from './hand-frames.js';
import { listenNetDeflate } from './net-deflate.js';

const HOST = '127.0.0.1';
const MAX = 64 * 1024 * 1024;
const arg = (name: string): string | undefined =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const impl = arg('impl') ?? 'wsx';
const port = Number(arg('port') ?? 0);

const gc = (globalThis as { gc?: () => void }).gc;
process.on('SIGUSR2', () => {
  gc?.();
  gc?.();
  const usage = process.memoryUsage();
  process.stdout.write(`GC rss=${usage.rss} heap=${usage.heapUsed} external=${usage.external}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => process.exit(0));

function ready(listening: number): void {
  process.stdout.write(`READY port=${listening} pid=${process.pid} impl=${impl}\n`);
}

if (impl === 'wsx' || impl === 'wsx-takeover') {
  const server = createServer({
    maxMessageSize: MAX,
    perMessageDeflate: impl === 'wsx' ? true : { serverNoContextTakeover: false },
  });
  reportCountOnHangup();
  server.route('/*', {
    message(socket, data, isBinary) {
      counted();
      if (isBinary) socket.sendBinary(data);
      else socket.sendText(data);
    },
  });
  const address = await server.listen({ port, host: HOST });
  ready(address.port);
} else if (impl === 'ws') {
  const wss = new WebSocketServer({ host: HOST, port, maxPayload: MAX, perMessageDeflate: true });
  wss.on('connection', (ws) => {
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
  });
  wss.on('listening', () => {
    const address = wss.address();
    ready(typeof address === 'object' && address !== null ? address.port : 0);
  });
} else if (impl === 'uws-shared' || impl === 'uws-dedicated' || impl === 'uws-shared-nct') {
  // loaded only here: the other servers must not depend on the native module
  const { default: uWS } = await import('@trufflesuite/uws-js-unofficial');
  const compression =
    impl === 'uws-shared'
      ? uWS.SHARED_COMPRESSOR | uWS.DEDICATED_DECOMPRESSOR
      : impl === 'uws-dedicated'
        ? uWS.DEDICATED_COMPRESSOR_256KB | uWS.DEDICATED_DECOMPRESSOR
        : uWS.SHARED_COMPRESSOR;
  const app = uWS.App();
  app.ws('/*', {
    compression,
    maxPayloadLength: MAX,
    maxBackpressure: 256 * 1024 * 1024,
    idleTimeout: 0,
    sendPingsAutomatically: false,
    message(ws, data, isBinary) {
      // compress = true: uWS sends uncompressed unless asked, whatever was agreed
      ws.send(data, isBinary, true);
    },
  });
  app.listen(HOST, port, (listenSocket) => {
    if (!listenSocket) {
      process.stderr.write('uWS: listen failed\n');
      process.exit(1);
    }
    ready(uWS.us_socket_local_port(listenSocket));
  });
} else if (impl === 'net') {
  const server = createNetServer(reflect);
  server.listen(port, HOST, () => {
    const address = server.address();
    ready(typeof address === 'object' && address !== null ? address.port : 0);
  });
} else if (impl === 'net-deflate') {
  ready(await listenNetDeflate(HOST, port));
} else {
  process.stderr.write(`unknown --impl=${impl}\n`);
  process.exit(2);
}

/** The `net` floor: upgrade by hand, then send every frame back unmasked. */
function reflect(socket: NetSocket): void {
  serveHandFrames(
    socket,
    (head) => (/^sec-websocket-extensions:.*permessage-deflate/im.test(head) ? 'permessage-deflate' : null),
    {
      frame(data, first, maskAt, length) {
        const key = data.subarray(maskAt, maskAt + 4);
        const payload = Buffer.from(data.subarray(maskAt + 4, maskAt + 4 + length));
        for (let i = 0; i < length; i++) payload[i] ^= key[i & 3];
        const header =
          length < 126 ? Buffer.from([first, length]) : Buffer.from([first, 126, length >> 8, length & 0xff]);
        socket.write(Buffer.concat([header, payload]));
      },
    },
  );
}
