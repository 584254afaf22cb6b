import assert from 'node:assert/strict';
import { createSecureServer, type Http2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import {
  connect,
  createServer,
  HandshakeError,
  UsageError,
  WebSocket,
  WebSocketStream,
} from '../../src/index.js';
import { within } from '../shared/wait.js';
import { CLIENT_TLS, echoServer, TLS } from './helpers.js';

describe('HTTP/2 client', () => {
  it('shares one session per origin between its WebSockets, and closes it once idle', async () => {
    const app = createSecureServer({ ...TLS, allowHTTP1: true });
    const sessions: Http2Session[] = [];
    app.on('session', (session) => sessions.push(session));
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    const port = (app.address() as AddressInfo).port;
    const wsx = createServer().attach(app);
    wsx.route('/echo', { message: (socket, data) => socket.send(data) });
    // One tls object: the pool is per TLS options object, then per origin.
    const tls = { ...CLIENT_TLS };
    const sockets = await Promise.all(
      [1, 2, 3].map(() => connect(`wss://localhost:${port}/echo`, { http2: true, tls })),
    );
    const late = await connect(`wss://localhost:${port}/echo`, { http2: 'auto', tls });
    assert.equal(sessions.length, 1, 'one session for four WebSockets');
    assert.equal(late.httpVersion, '2');
    const closed = new Promise<void>((resolve) => sessions[0].once('close', resolve));
    for (const socket of sockets) socket.close();
    late.close();
    await within(20_000, 'the idle session to close', closed);
    await wsx.close();
    for (const session of sessions) session.destroy();
    await new Promise<void>((resolve) => app.close(() => resolve()));
  });

  it('WebSocket and WebSocketStream take the same option', async () => {
    const { server, port, opened } = await echoServer();
    const ws = new WebSocket(`wss://localhost:${port}/echo`, { http2: true, tls: CLIENT_TLS });
    const echoed = new Promise<string>((resolve) => {
      ws.onmessage = (event) => resolve(String(event.data));
    });
    assert.equal(ws.httpVersion, '');
    ws.onopen = () => ws.send('over h2');
    assert.equal(await within(5_000, 'the echo', echoed), 'over h2');
    assert.equal(ws.httpVersion, '2');
    const stream = new WebSocketStream(`wss://localhost:${port}/echo`, { http2: true, tls: CLIENT_TLS });
    await within(5_000, 'the stream to open', stream.opened);
    assert.deepEqual(
      opened.map((socket) => socket.httpVersion),
      ['2', '2'],
    );
    ws.close();
    stream.close();
    await server.close();
  });

  it("'auto' uses HTTP/1.1 when the server does not advertise extended CONNECT; true fails", async () => {
    // An HTTP/2 server that takes WebSockets over HTTP/1.1 only.
    const app = createSecureServer({ ...TLS, allowHTTP1: true });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    const port = (app.address() as AddressInfo).port;
    const wsx = createServer();
    wsx.route('/echo', { message: () => {} });
    app.on('upgrade', (request, socket, head) => wsx.handleUpgrade(request, socket, head));
    const auto = await connect(`wss://localhost:${port}/echo`, { http2: 'auto', tls: CLIENT_TLS });
    assert.equal(auto.httpVersion, '1.1');
    await assert.rejects(
      connect(`wss://localhost:${port}/echo`, { http2: true, tls: CLIENT_TLS }),
      (error: unknown) =>
        error instanceof HandshakeError && /SETTINGS_ENABLE_CONNECT_PROTOCOL/.test(error.message),
    );
    auto.close();
    await wsx.close();
    await new Promise<void>((resolve) => app.close(() => resolve()));
  });

  it("'auto' uses HTTP/1.1 when ALPN does not pick h2; true fails; ws:// 'auto' is HTTP/1.1", async () => {
    const { server, port } = await echoServer({}, { http2: false });
    const auto = await connect(`wss://localhost:${port}/echo`, { http2: 'auto', tls: CLIENT_TLS });
    assert.equal(auto.httpVersion, '1.1');
    await assert.rejects(
      connect(`wss://localhost:${port}/echo`, { http2: true, tls: CLIENT_TLS }),
      (error: unknown) => error instanceof HandshakeError && /ALPN/.test(error.message),
    );
    auto.close();
    await server.close();
    const plain = await echoServer({}, { http2: false, cleartext: true });
    const socket = await connect(`ws://localhost:${plain.port}/echo`, { http2: 'auto' });
    assert.equal(socket.httpVersion, '1.1');
    socket.close();
    await plain.server.close();
  });

  it('reports a refusal with its status; bad arguments throw at once', async () => {
    const { server, port } = await echoServer();
    assert.throws(
      () => connect(`wss://localhost:${port}/echo`, { http2: true, protocols: ['not a token'] }),
      UsageError,
    );
    assert.throws(
      () => connect(`wss://localhost:${port}/echo`, { http2: true, headers: { Connection: 'close' } }),
      UsageError,
    );
    await assert.rejects(
      connect(`wss://localhost:${port}/nowhere`, { http2: true, tls: CLIENT_TLS }),
      (error: unknown) => error instanceof HandshakeError && error.status === 404,
    );
    await assert.rejects(
      connect(`wss://localhost:${port}/echo`, {
        http2: true,
        tls: CLIENT_TLS,
        protocols: ['nope'],
        requireProtocol: true,
      }),
      (error: unknown) => error instanceof HandshakeError && /no subprotocol/.test(error.message),
    );
    await server.close();
  });
});
