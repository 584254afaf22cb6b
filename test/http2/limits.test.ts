import assert from 'node:assert/strict';
import { constants, createSecureServer, type Http2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { createServer, type ServerOptions, type WebSocketServer } from '../../src/index.js';
import { within } from '../shared/wait.js';
import { rawSession, request, TLS, websocketConnect } from './helpers.js';

/** A wsx server attached to an HTTP/2 server of the test's own, so its sessions can be watched. */
async function watchedServer(options: ServerOptions): Promise<{
  wsx: WebSocketServer;
  port: number;
  sessions: Http2Session[];
  stop: () => Promise<void>;
}> {
  const app = createSecureServer({ ...TLS, allowHTTP1: true });
  const sessions: Http2Session[] = [];
  app.on('session', (session) => sessions.push(session));
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  const wsx = createServer(options).attach(app);
  return {
    wsx,
    port: (app.address() as AddressInfo).port,
    sessions,
    stop: async () => {
      await wsx.close({ timeout: 100 });
      for (const session of sessions) session.destroy();
      await new Promise<void>((resolve) => app.close(() => resolve()));
    },
  };
}

describe('HTTP/2 limits', () => {
  it('caps WebSockets per connection (429), not per server', async () => {
    const { wsx, port, stop } = await watchedServer({ http2: { maxWebSocketsPerSession: 2 } });
    wsx.route('/echo', { message: () => {} });
    const session = await rawSession(port);
    assert.equal((await request(session, websocketConnect(port, '/echo'))).status, 200);
    assert.equal((await request(session, websocketConnect(port, '/echo'))).status, 200);
    assert.equal((await request(session, websocketConnect(port, '/echo'))).status, 429);
    const other = await rawSession(port);
    assert.equal((await request(other, websocketConnect(port, '/echo'))).status, 200);
    session.destroy();
    other.destroy();
    await stop();
  });

  it('announces streams per connection and header list size, and refuses a larger header list', async () => {
    const server = createServer({ http2: { maxStreamsPerSession: 50, maxHeaderListSize: 8192 } });
    server.route('/echo', { message: () => {} });
    const { port } = await server.listen({ tls: TLS, http2: true });
    const session = await rawSession(port);
    assert.equal(session.remoteSettings.maxConcurrentStreams, 50);
    assert.equal(session.remoteSettings.maxHeaderListSize, 8192);
    await assert.rejects(
      request(session, websocketConnect(port, '/echo', { 'x-padding': 'a'.repeat(10_000) })),
      /RST code/,
    );
    assert.equal(server.connections, 0);
    session.destroy();
    await server.close({ timeout: 100 });
  });

  it('closes a connection whose client keeps resetting WebSocket requests (rapid reset)', async () => {
    const { wsx, port, sessions, stop } = await watchedServer({ http2: { maxEarlyResets: 50 } });
    let hooks = 0;
    // An upgrade hook that takes a while: each reset request has started work for nothing.
    wsx.route('/slow', {
      upgrade: async () => {
        hooks++;
        await new Promise((resolve) => setTimeout(resolve, 50));
      },
    });
    const session = await rawSession(port);
    const closed = new Promise<void>((resolve) => sessions[0].once('close', resolve));
    let sent = 0;
    while (!sessions[0].destroyed && sent < 1_000) {
      const stream = session.request(websocketConnect(port, '/slow'), { endStream: false });
      stream.on('error', () => {});
      stream.close(constants.NGHTTP2_CANCEL);
      sent++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    await within(5_000, 'the server to close the connection', closed);
    assert.ok(sent > 50 && sent < 1_000, `${sent} resets sent`);
    assert.ok(hooks <= sent);
    assert.equal(wsx.connections, 0);
    session.destroy();
    await stop();
  });
});
