// Interop: HAProxy (Debian) in front of wsx, speaking h2 to clients (RFC 8441 WebSockets on
// its TLS frontend) and either HTTP/2 (h2c, WebSockets as streams) or HTTP/1.1 to wsx.
import assert from 'node:assert/strict';
import { after, describe } from 'node:test';
import { connect, type Socket } from '../../src/index.js';
import { peers, ReverseProxy } from '../interop/reverse-proxy.js';
import { within } from '../shared/wait.js';
import { CLIENT_TLS, echoServer } from './helpers.js';

describe('HAProxy in front of wsx, h2 on the client side', () => {
  const proxies: ReverseProxy[] = [];
  after(async () => {
    for (const proxy of proxies) await proxy.stop();
  });

  for (const upstream of ['h2', 'h1'] as const) {
    peers.haproxy.it(`to wsx over ${upstream === 'h2' ? 'HTTP/2 (h2c)' : 'HTTP/1.1'}`, async () => {
      const { server, port, opened } = await echoServer({}, { cleartext: true, http2: upstream === 'h2' });
      const proxy = await ReverseProxy.start('haproxy', {
        tls: 'terminate',
        upstreamPort: port,
        http2: { upstream },
      });
      proxies.push(proxy);
      const url = `wss://localhost:${proxy.port}/echo`;
      const replies: Buffer[] = [];
      const sockets: Socket[] = [];
      for (let i = 0; i < 3; i++) {
        sockets.push(
          await connect(url, {
            http2: true,
            tls: CLIENT_TLS,
            protocols: ['chat'],
            handlers: { message: (_socket, data) => replies.push(data) },
          }),
        );
      }
      assert.deepEqual(
        sockets.map((socket) => [socket.httpVersion, socket.protocol]),
        Array(3).fill(['2', 'chat']),
      );
      assert.deepEqual(
        opened.map((socket) => socket.httpVersion),
        Array(3).fill(upstream === 'h2' ? '2' : '1.1'),
      );
      const big = Buffer.alloc(1024 * 1024, 'h');
      for (const socket of sockets) socket.send(big);
      await within(
        10_000,
        'the echoes',
        waitFor(() => replies.length === 3),
      );
      assert.ok(replies.every((reply) => reply.equals(big)));
      const closes = sockets.map(
        (socket) =>
          new Promise<boolean>((resolve) => {
            socket.close(1000);
            const timer = setInterval(() => {
              if (socket.readyState === 'closed') {
                clearInterval(timer);
                resolve(socket.wasClean);
              }
            }, 5);
          }),
      );
      assert.deepEqual(await within(10_000, 'the closes', Promise.all(closes)), [true, true, true]);
      await server.close();
    });
  }
});

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}
