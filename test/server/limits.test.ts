import assert from 'node:assert/strict';
import { connect as netConnect } from 'node:net';
import { describe, it } from 'node:test';
import { createServer, type ServerOptions, type WebSocketServer } from '../../src/index.js';
import { RawClient, sleep, until, within } from './helpers.js';

async function setup(
  options: ServerOptions,
  upgradeDelay = 0,
): Promise<{ server: WebSocketServer; port: number }> {
  const server = createServer(options);
  server.route('/', {
    upgrade: async () => {
      if (upgradeDelay > 0) await sleep(upgradeDelay);
      return { data: null };
    },
  });
  const { port } = await server.listen({ port: 0 });
  return { server, port };
}

/** The raw response to an upgrade request (until the server closes). */
function rawResponse(port: number): Promise<string> {
  return within(
    3_000,
    'a response',
    new Promise<string>((resolve, reject) => {
      const socket = netConnect(port, '127.0.0.1', () =>
        socket.write(
          'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
        ),
      );
      let text = '';
      socket.on('data', (chunk) => {
        text += chunk.toString('latin1');
      });
      socket.on('error', reject);
      socket.on('close', () => resolve(text));
    }),
  );
}

describe('connection limits', { timeout: 90_000 }, () => {
  it('answers 503 over maxConnections, and accepts again once a socket has closed', async () => {
    const { server, port } = await setup({ maxConnections: 3 });
    try {
      const open = await Promise.all([RawClient.open(port), RawClient.open(port), RawClient.open(port)]);
      const refused = await rawResponse(port);
      assert.match(refused, /^HTTP\/1\.1 503 /);
      assert.match(refused, /\r\nRetry-After: 5\r\n/i);
      assert.match(refused, /too many connections/);
      open[0].socket.destroy();
      await until(2_000, 'the close', () => server.connections === 2);
      const again = await RawClient.open(port);
      assert.equal(server.connections, 3);
      assert.equal(server.stats().connections.rejected.maxConnections, 1);
      assert.equal(server.stats().connections.accepted, 4);
      again.socket.destroy();
    } finally {
      await server.close({ timeout: 1_000 });
    }
  });

  it('answers 503 over maxConnectionsPerAddress, while other addresses still connect', async () => {
    const { server, port } = await setup({ maxConnectionsPerAddress: 2 });
    try {
      await Promise.all([RawClient.open(port), RawClient.open(port)]);
      await assert.rejects(RawClient.open(port), /^Error: HTTP\/1\.1 503 /);
      const other = { localAddress: '127.0.0.2' };
      await RawClient.open(port, '/', other);
      await RawClient.open(port, '/', other);
      await assert.rejects(RawClient.open(port, '/', other), /503/);
      assert.equal(server.connections, 4);
      assert.equal(server.stats().connections.rejected.maxConnectionsPerAddress, 2);
    } finally {
      await server.close({ timeout: 1_000 });
    }
  });

  it('counts exactly when upgrade hooks run concurrently', async () => {
    const { server, port } = await setup({ maxConnections: 2 }, 50);
    try {
      const results = await Promise.allSettled(Array.from({ length: 5 }, () => RawClient.open(port)));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 2);
      for (const result of results) {
        if (result.status === 'rejected') assert.match(String(result.reason), /503/);
      }
      assert.equal(server.connections, 2);
    } finally {
      await server.close({ timeout: 1_000 });
    }
  });
});
