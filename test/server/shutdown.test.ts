import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createServer, type Socket, type WebSocketServer } from '../../src/index.js';
import { openMany, RawClient, until } from './helpers.js';

async function feedServer(): Promise<{ server: WebSocketServer; port: number; sockets: Socket[] }> {
  const server = createServer();
  const sockets: Socket[] = [];
  server.route('/', {
    open(socket) {
      sockets.push(socket);
      socket.subscribe('feed');
    },
  });
  const { port } = await server.listen({ port: 0 });
  return { server, port, sockets };
}

describe('graceful shutdown', { timeout: 30_000 }, () => {
  it('under load, delivers everything it reported as sent, then closes every socket with 1001', async (t) => {
    const { server, port } = await feedServer();
    const clients = await openMany(100, port, '/');
    for (const client of clients) client.keepFrames = false;
    const payload = 'x'.repeat(2_048);
    let reported = 0;
    let publishes = 0;
    let closing: ReturnType<WebSocketServer['close']> | null = null;
    let done = false;
    // A producer that keeps publishing, before and during the shutdown.
    const produce = () => {
      if (done) return;
      for (let i = 0; i < 10; i++) {
        reported += server.publish('feed', payload);
        publishes++;
      }
      setImmediate(produce);
    };
    produce();
    await new Promise((resolve) => setTimeout(resolve, 150));
    const publishedBeforeClose = publishes;
    closing = server.close({ timeout: 10_000 });
    const report = await closing;
    done = true;
    t.diagnostic(
      `${publishedBeforeClose} publishes before close(), ${publishes} in all; ${reported} deliveries reported`,
    );
    assert.deepEqual(report, {
      closedCleanly: 100,
      closedUncleanly: 0,
      terminated: 0,
      undelivered: { sockets: 0, bytes: 0 },
    });
    const received = clients.reduce((sum, client) => sum + client.messages, 0);
    assert.equal(received, reported, 'every delivery reported was received');
    assert.ok(reported >= publishedBeforeClose * 100);
    for (const client of clients) assert.equal(client.closeCode, 1001);
    const stats = server.stats();
    assert.equal(stats.closes['1001'], 100);
    assert.equal(stats.messages.out, reported);
  });

  it('terminates at the deadline what has not closed, and reports what it could not deliver', async () => {
    const { server, port, sockets } = await feedServer();
    const fast = await openMany(5, port, '/');
    const slow = await RawClient.open(port);
    slow.socket.pause();
    await until(1_000, 'six sockets', () => sockets.length === 6);
    const slowSocket = sockets[5];
    const chunk = Buffer.alloc(64 * 1024, 1);
    // Enough to fill the kernel's buffers for the slow consumer and leave plenty in its own.
    for (let i = 0; i < 300 && slowSocket.bufferedAmount < 4 * 1024 * 1024; i++) {
      server.publish('feed', chunk);
      while (sockets.slice(0, 5).some((s) => s.bufferedAmount > 256 * 1024)) {
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    const left = slowSocket.bufferedAmount;
    assert.ok(left > 1024 * 1024);
    const report = await server.close({ timeout: 500 });
    assert.equal(report.closedCleanly, 5);
    assert.equal(report.terminated, 1);
    assert.equal(report.undelivered.sockets, 1);
    assert.ok(
      report.undelivered.bytes >= left && report.undelivered.bytes <= left + 64,
      `${report.undelivered.bytes} bytes undelivered, ${left} buffered before the close frame`,
    );
    const published = fast[0].messages;
    for (const client of fast) {
      assert.equal(client.messages, published);
      assert.equal(client.closeCode, 1001);
    }
    slow.socket.destroy();
  });

  it('refuses new upgrades once shutting down, and resolves at once with no sockets', async () => {
    const { server, port } = await feedServer();
    const report = await server.close();
    assert.equal(report.closedCleanly + report.terminated, 0);
    await assert.rejects(RawClient.open(port), /ECONNREFUSED/);
  });
});
