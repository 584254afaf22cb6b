// wsx's server behind Debian's nginx and HAProxy, configured as a deployment configures them:
// plain ws://, TLS ended at the proxy (wss:// to the proxy, ws:// to wsx), and TLS passed
// through to a wss:// wsx (nginx's stream module with ssl_preread, HAProxy in tcp mode), with
// wsx's own client and the npm `ws` client on the other side. One table, one suite per path.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import type { ClientOptions } from 'ws';
import type { ConnectOptions, WebSocketServer } from '../../src/index.js';
import { type Inbox, pattern, text, UTF8_SAMPLE, WsPeer, withTimeout } from './helpers.js';
import { PASSTHROUGH_NAME, type ProxyTls } from './proxy-configs.js';
import { FIXTURES, type ProxyKind, peerFor, ReverseProxy } from './reverse-proxy.js';
import { type Observed, startEchoServer, WsxClient } from './wsx-peer.js';

const PATHS: readonly { kind: ProxyKind; tls: ProxyTls; what: string }[] = [
  { kind: 'nginx', tls: 'none', what: 'ws:// through the http module' },
  { kind: 'nginx', tls: 'terminate', what: 'wss:// ended at nginx, ws:// to wsx' },
  { kind: 'nginx', tls: 'passthrough', what: 'wss:// passed through by the stream module (ssl_preread)' },
  { kind: 'haproxy', tls: 'none', what: 'ws:// in mode http' },
  { kind: 'haproxy', tls: 'terminate', what: 'wss:// ended at HAProxy, ws:// to wsx' },
  { kind: 'haproxy', tls: 'passthrough', what: 'wss:// passed through in mode tcp (SNI)' },
];

/** A 16 MiB message, and limits that let it through on both sides. */
const LARGE = 16 * 1024 * 1024;
const MAX_MESSAGE = 2 * LARGE;
const CA = readFileSync(join(FIXTURES, 'cert.pem'));
const TLS = { cert: CA, key: readFileSync(join(FIXTURES, 'key.pem')) };

for (const path of PATHS) {
  const peer = peerFor(path.kind, path);
  describe(`behind ${path.kind}: ${path.what}`, () => {
    let server: WebSocketServer;
    let sockets: Inbox<Observed>;
    let proxy: ReverseProxy | undefined;
    const clients: WsxClient[] = [];
    const wsPeers: WsPeer[] = [];

    before(async () => {
      if (!peer.available) return;
      const started = await startEchoServer(
        { maxMessageSize: MAX_MESSAGE },
        path.tls === 'passthrough' ? TLS : undefined,
      );
      server = started.server;
      sockets = started.sockets;
      proxy = await ReverseProxy.start(path.kind, { tls: path.tls, upstreamPort: started.port });
    });

    after(async () => {
      for (const client of clients) client.socket.terminate();
      for (const ws of wsPeers) ws.terminate();
      await server?.close({ timeout: 1_000 });
      await proxy?.stop();
    });

    /** The TLS options a client needs for this path: trust the test CA, name the routed host. */
    const tls = path.tls === 'none' ? undefined : { ca: CA, servername: PASSTHROUGH_NAME };
    // ws hands servername on to tls.connect, though its types do not list it.
    const wsTls = (tls ?? {}) as ClientOptions;

    /** A wsx client through the proxy, and the server's view of its socket. */
    async function open(options: Omit<ConnectOptions, 'handlers'> = {}) {
      const client = await WsxClient.connect(proxy!.url, { maxMessageSize: MAX_MESSAGE, tls, ...options });
      clients.push(client);
      const seen = await sockets.next('the server-side socket');
      return { client, seen };
    }

    async function roundTrip(client: WsxClient, data: Buffer | string): Promise<Buffer> {
      client.socket.send(data);
      const reply = await client.messages.next(`the echo of ${data.length} bytes`);
      assert.equal(reply.isBinary, typeof data !== 'string', 'the echo keeps the message type');
      return reply.data;
    }

    peer.it('permessage-deflate is agreed end to end and compresses on the wire', async () => {
      const { client, seen } = await open();
      assert.match(client.socket.extensions, /^permessage-deflate/);
      assert.equal(seen.socket.extensions, client.socket.extensions, 'both ends agree on the extension');
      const body = text(1024 * 1024);
      const before = server.stats().bytes.in;
      assert.equal((await roundTrip(client, body)).toString(), body);
      const wire = server.stats().bytes.in - before;
      assert.ok(wire < body.length / 10, `1 MiB of repeated text took ${wire} bytes on the wire`);
      assert.equal((await roundTrip(client, UTF8_SAMPLE)).toString(), UTF8_SAMPLE);
    });

    peer.it('a 16 MiB message round-trips intact', async () => {
      const { client } = await open({ perMessageDeflate: false });
      const data = pattern(LARGE, 5);
      assert.ok((await roundTrip(client, data)).equals(data), 'the 16 MiB echo differs from what was sent');
    });

    peer.it('fragmented messages arrive whole, text split inside UTF-8 sequences', async () => {
      const { client, seen } = await open();
      const binary = [pattern(10, 1), pattern(0), pattern(70_000, 2), pattern(3, 3)];
      binary.forEach((part, i) => {
        client.socket.sendFragment(part, { binary: true, fin: i === binary.length - 1 });
      });
      const bytes = Buffer.from(UTF8_SAMPLE);
      for (let i = 0; i < bytes.length; i += 3) {
        client.socket.sendFragment(bytes.subarray(i, i + 3), { binary: false, fin: i + 3 >= bytes.length });
      }
      assert.deepEqual(await seen.messages.next('the binary message'), {
        data: Buffer.concat(binary),
        isBinary: true,
      });
      assert.deepEqual(await seen.messages.next('the text message'), { data: bytes, isBinary: false });
      assert.deepEqual((await client.messages.next('the binary echo')).data, Buffer.concat(binary));
      assert.equal((await client.messages.next('the text echo')).data.toString(), UTF8_SAMPLE);
    });

    peer.it('pings are answered with the same payload, either way', async () => {
      const { client, seen } = await open();
      client.socket.ping(Buffer.from('from the client'));
      assert.equal((await client.pongs.next('the pong of the server')).toString(), 'from the client');
      seen.socket.ping(Buffer.from('from the server'));
      assert.equal((await seen.pongs.next('the pong of the client')).toString(), 'from the server');
    });

    peer.it('close codes and reasons cross the proxy both ways', async () => {
      const first = await open();
      first.client.socket.close(4001, 'bye from the client 👋');
      assert.deepEqual(await first.seen.waitClosed(), { code: 4001, reason: 'bye from the client 👋' });
      assert.equal((await first.client.waitClosed()).code, 4001);
      const second = await open();
      second.seen.socket.close(4002, 'bye from the server');
      assert.deepEqual(await second.client.waitClosed(), { code: 4002, reason: 'bye from the server' });
      assert.equal((await second.seen.waitClosed()).code, 4002);
    });

    peer.it('the ws client echoes text and binary with deflate, and closes with its code', async () => {
      const ws = await WsPeer.open(proxy!.url, [], { perMessageDeflate: true, ...wsTls });
      wsPeers.push(ws);
      const seen = await sockets.next('the server-side socket of ws');
      assert.match(ws.ws.extensions, /^permessage-deflate/);
      await ws.send(UTF8_SAMPLE);
      assert.equal((await ws.next('the text echo')).data.toString(), UTF8_SAMPLE);
      const data = pattern(200_000, 8);
      await ws.send(data, { binary: true });
      assert.ok((await ws.next('the binary echo')).data.equals(data));
      ws.ws.close(4003, 'ws says bye');
      assert.deepEqual(await seen.waitClosed(), { code: 4003, reason: 'ws says bye' });
      assert.equal((await ws.waitClosed()).code, 4003);
    });

    // Last of the suite: it shuts the server down.
    peer.it(
      "server.close() reaches every client through the proxy as 1001 'server shutting down'",
      async () => {
        const { client } = await open();
        const ws = await WsPeer.open(proxy!.url, [], wsTls);
        wsPeers.push(ws);
        await sockets.next('the server-side socket of ws');
        // Sockets of the earlier tests that were left open are closed the same way.
        const stillOpen = server.connections;
        const report = await withTimeout(server.close({ timeout: 10_000 }), 'server.close()');
        const expected = { code: 1001, reason: 'server shutting down' };
        assert.deepEqual(await client.waitClosed(), expected);
        assert.deepEqual(await ws.waitClosed(), expected);
        assert.deepEqual(
          { closedCleanly: report.closedCleanly, terminated: report.terminated },
          { closedCleanly: stillOpen, terminated: 0 },
          `every socket completed the closing handshake: ${JSON.stringify(report)}`,
        );
      },
    );
  });
}
