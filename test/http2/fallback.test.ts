// Interop: the wsx client with `http2: 'auto'` against servers that do not offer WebSockets over
// HTTP/2 (`ws`, Python's `websockets`) falls back to HTTP/1.1; `http2: true` fails clearly.
import assert from 'node:assert/strict';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { WebSocketServer as WsServer } from 'ws';
import { connect, HandshakeError } from '../../src/index.js';
import { killAll, python, pythonWebsockets } from '../interop/helpers.js';
import { within } from '../shared/wait.js';
import { CLIENT_TLS, TLS } from './helpers.js';

describe('falling back to HTTP/1.1', () => {
  after(killAll);

  it('ws over wss://: ALPN picks HTTP/1.1', async () => {
    const https = createHttpsServer(TLS);
    const ws = new WsServer({ server: https, perMessageDeflate: true });
    ws.on('connection', (socket) =>
      socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary })),
    );
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
    const port = (https.address() as AddressInfo).port;
    const replies: string[] = [];
    const socket = await connect(`wss://localhost:${port}/`, {
      http2: 'auto',
      tls: CLIENT_TLS,
      handlers: { message: (_socket, data) => replies.push(data.toString()) },
    });
    assert.equal(socket.httpVersion, '1.1');
    assert.match(socket.extensions, /^permessage-deflate/);
    socket.send('through ws');
    await within(
      5_000,
      'the echo',
      waitFor(() => replies.length === 1),
    );
    assert.deepEqual(replies, ['through ws']);
    await assert.rejects(
      connect(`wss://localhost:${port}/`, { http2: true, tls: CLIENT_TLS }),
      (error: unknown) => error instanceof HandshakeError && /ALPN/.test(error.message),
    );
    socket.close();
    ws.close();
    https.closeAllConnections();
    await new Promise<void>((resolve) => https.close(() => resolve()));
  });

  pythonWebsockets.it('Python websockets over ws://: HTTP/1.1', async () => {
    const proc = python('python server', 'python_server.py', ['--compression', 'deflate']);
    const listening = await proc.takeJson('the listening report', (report) => report.event === 'listening');
    const socket = await connect(`ws://127.0.0.1:${listening.port}/ping`, { http2: 'auto' });
    assert.equal(socket.httpVersion, '1.1');
    const report = await proc.takeJson('the result for /ping', (r) => r.path === '/ping');
    assert.equal(report.event, 'result');
    assert.deepEqual(
      (report.pongs as { matched: boolean }[]).map((pong) => pong.matched),
      [true, true, true],
    );
    assert.equal(report.close_code, 1000);
    // Prior knowledge to a server that only speaks HTTP/1.1 fails the handshake, not the process.
    await assert.rejects(
      connect(`ws://127.0.0.1:${listening.port}/ping`, { http2: true, handshakeTimeout: 5_000 }),
    );
    proc.kill();
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}
