import assert from 'node:assert/strict';
import { createSecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { connect, createServer, reject } from '../../src/index.js';
import { acceptKey } from '../../src/protocol/handshake/accept.js';
import { until, within } from '../shared/wait.js';
import { body, CLIENT_TLS, echoServer, rawSession, request, TLS, websocketConnect } from './helpers.js';

describe('HTTP/2 server: one TLS port for h2 and HTTP/1.1', () => {
  it('serves WebSockets and plain requests over both, reporting each socket’s protocol', async () => {
    const { server, port, opened } = await echoServer();
    const h2 = await connect(`wss://localhost:${port}/echo`, { http2: true, tls: CLIENT_TLS });
    const h1 = await connect(`wss://localhost:${port}/echo`, { tls: CLIENT_TLS });
    assert.equal(h2.httpVersion, '2');
    assert.equal(h1.httpVersion, '1.1');
    assert.deepEqual(
      opened.map((socket) => socket.httpVersion),
      ['2', '1.1'],
    );
    // Deflate negotiates the same way on both.
    assert.match(h2.extensions, /^permessage-deflate/);
    assert.equal(h2.extensions, h1.extensions);
    const session = await rawSession(port);
    const page = await request(session, { ':path': '/' });
    assert.equal(await body(page.stream), 'plain 2.0');
    session.close();
    h2.close();
    h1.close();
    await server.close();
  });

  it('answers RFC 8441 without a key or Accept, and negotiates subprotocol and extensions', async () => {
    const { server, port } = await echoServer();
    const session = await rawSession(port);
    const answer = await request(
      session,
      websocketConnect(port, '/echo', {
        'sec-websocket-protocol': 'other, chat',
        'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits',
      }),
    );
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['sec-websocket-protocol'], 'chat');
    assert.match(String(answer.headers['sec-websocket-extensions']), /^permessage-deflate/);
    assert.equal(answer.headers['sec-websocket-accept'], undefined);
    assert.equal(answer.headers.upgrade, undefined);
    answer.stream.close();
    // A masked text frame "hi" comes back unmasked on the stream.
    const plain = await request(session, websocketConnect(port, '/echo'));
    plain.stream.write(Buffer.from([0x81, 0x82, 1, 2, 3, 4, 0x68 ^ 1, 0x69 ^ 2]));
    const [echoed] = await within(5_000, 'the echo', onceData(plain.stream));
    assert.deepEqual([...echoed], [0x81, 0x02, 0x68, 0x69]);
    session.close();
    await server.close({ timeout: 100 });
  });

  it('answers with the Accept when a client sends a key anyway (undici#5681)', async () => {
    const { server, port } = await echoServer();
    const session = await rawSession(port);
    const key = 'dGhlIHNhbXBsZSBub25jZQ==';
    const answer = await request(session, websocketConnect(port, '/echo', { 'sec-websocket-key': key }));
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['sec-websocket-accept'], acceptKey(key));
    session.close();
    await server.close({ timeout: 100 });
  });

  it('refuses what RFC 8441 and the routes refuse, with the status over h2', async () => {
    const server = createServer({ origins: ['https://good.example'] });
    server.route('/echo', { message: () => {} });
    server.route('/private', { upgrade: () => reject(401, { body: 'token required' }) });
    const { port } = await server.listen({ tls: TLS, http2: true });
    const session = await rawSession(port);
    const status = async (headers: Parameters<typeof request>[1]) => (await request(session, headers)).status;
    assert.equal(await status(websocketConnect(port, '/echo', { ':protocol': 'webtransport' })), 501);
    // The Upgrade token it stands for has no case (HAProxy passes on a client's `WebSocket`).
    assert.equal(await status(websocketConnect(port, '/echo', { ':protocol': 'WebSocket' })), 200);
    assert.equal(await status(websocketConnect(port, '/echo', { 'sec-websocket-version': '8' })), 426);
    assert.equal(await status(websocketConnect(port, '/nowhere')), 404);
    assert.equal(await status(websocketConnect(port, '/echo', { origin: 'https://evil.example' })), 403);
    const hook = await request(session, websocketConnect(port, '/private'));
    assert.equal(hook.status, 401);
    assert.equal(await body(hook.stream), 'token required\n');
    // A plain CONNECT (RFC 9113 §8.5: no :scheme, no :path) asks for a tunnel: not served.
    assert.equal(await status({ ':method': 'CONNECT', ':authority': 'elsewhere.example:443' }), 405);
    session.close();
    await server.close();
  });

  it('serves h2c with prior knowledge', async () => {
    const { server, port, opened } = await echoServer({}, { cleartext: true });
    const socket = await connect(`ws://localhost:${port}/echo`, { http2: true });
    assert.equal(socket.httpVersion, '2');
    assert.equal(opened[0].httpVersion, '2');
    socket.close();
    await server.close();
  });
});

describe('HTTP/2 server: attached to an app’s own server', () => {
  it('advertises extended CONNECT only once a route exists, and the app’s request handler keeps its streams', async () => {
    const app = createSecureServer({ ...TLS, allowHTTP1: true }, (_request, response) => {
      response.end('app page');
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    const port = (app.address() as AddressInfo).port;
    const wsx = createServer();
    wsx.attach(app);
    const before = await rawSession(port);
    assert.equal(before.remoteSettings.enableConnectProtocol, false);
    before.close();

    wsx.route('/echo', { message: (socket, data) => socket.send(data) });
    const session = await rawSession(port);
    assert.equal(session.remoteSettings.enableConnectProtocol, true);
    // Node's compatibility layer would answer this extended CONNECT 405 (nodejs/node#36977).
    const socket = await connect(`wss://localhost:${port}/echo`, { http2: true, tls: CLIENT_TLS });
    assert.equal(socket.httpVersion, '2');
    const page = await request(session, { ':path': '/' });
    assert.equal(await body(page.stream), 'app page');
    socket.close();
    session.close();
    await wsx.close();
    await new Promise<void>((resolve) => app.close(() => resolve()));
  });
});

describe('HTTP/2 server: streams and sessions', () => {
  it('a WebSocket close ends its stream, not the session; server.close() sends 1001, then GOAWAY', async () => {
    const { server, port } = await echoServer();
    const observer = await rawSession(port);
    const goaway = new Promise<number>((resolve) => observer.once('goaway', resolve));
    const closes: number[] = [];
    const first = await connect(`wss://localhost:${port}/echo`, {
      http2: true,
      tls: CLIENT_TLS,
      handlers: { close: (_socket, code) => closes.push(code) },
    });
    const second = await connect(`wss://localhost:${port}/echo`, {
      http2: true,
      tls: CLIENT_TLS,
      handlers: {
        close: (_socket, code) => closes.push(code),
        message: (_socket, data) => replies.push(data.toString()),
      },
    });
    const replies: string[] = [];
    first.close(1000);
    await until(5_000, 'the first close', () => closes.length === 1);
    assert.deepEqual(closes, [1000]);
    second.send('still here');
    await until(5_000, 'the echo on the same session', () => replies.length === 1);
    const report = await server.close();
    assert.deepEqual(closes, [1000, 1001]);
    assert.equal(report.closedCleanly, 1);
    assert.equal(await within(5_000, 'GOAWAY', goaway), 0);
  });

  it('flow control is the backpressure: a client that stops reading fills bufferedAmount', async () => {
    const { server, port, opened } = await echoServer({ backpressureLimit: 64 * 1024 });
    const session = await rawSession(port);
    // A client that never reads its stream: its window (64 KiB) fills, then the bytes stay with us.
    const { stream } = await request(session, websocketConnect(port, '/echo'));
    stream.pause();
    const serverSide = opened[0];
    const chunk = Buffer.alloc(16 * 1024, 7);
    let status = 'sent';
    let sent = 0;
    try {
      while (status !== 'backpressure' && sent < 4096) {
        status = serverSide.send(chunk);
        sent++;
        if (sent % 16 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      assert.equal(status, 'backpressure');
      assert.ok(serverSide.bufferedAmount > 64 * 1024, `bufferedAmount ${serverSide.bufferedAmount}`);
      const drained = new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          if (serverSide.bufferedAmount === 0) {
            clearInterval(timer);
            resolve();
          }
        }, 5);
      });
      stream.resume();
      await within(10_000, 'the buffer to drain once the client reads', drained);
    } finally {
      session.destroy();
      await server.close({ timeout: 100 });
    }
  });
});

function onceData(stream: NodeJS.ReadableStream): Promise<[Buffer]> {
  return new Promise((resolve) => stream.once('data', (chunk: Buffer) => resolve([chunk])));
}
