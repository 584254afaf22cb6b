import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createServer, type WebSocketServer } from '../../src/index.js';
import { openMany, RawClient, sleep, until } from './helpers.js';

interface Closed {
  code: number;
  reason: string;
  at: number;
}

async function setup(
  route: Parameters<WebSocketServer['route']>[1],
): Promise<{ server: WebSocketServer; port: number; closes: Closed[] }> {
  const server = createServer();
  const closes: Closed[] = [];
  server.route('/', {
    ...route,
    close(_socket, code, reason) {
      closes.push({ code, reason, at: performance.now() });
    },
  });
  const { port } = await server.listen({ port: 0 });
  return { server, port, closes };
}

function timeouts(): number {
  return process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
}

describe('heartbeats', { timeout: 20_000 }, () => {
  it('terminates a peer that completed the handshake and then stopped answering', async () => {
    const { server, port, closes } = await setup({ heartbeat: { interval: 100, timeout: 150 } });
    try {
      const dead = await RawClient.open(port);
      const opened = performance.now();
      dead.answerPings = false;
      dead.socket.pause(); // never reads, never answers
      await until(3_000, 'the dead peer to be dropped', () => closes.length === 1);
      const elapsed = closes[0].at - opened;
      assert.equal(closes[0].code, 1006, 'terminated: no closing handshake');
      assert.ok(elapsed >= 200 && elapsed < 1_000, `dropped after ${elapsed.toFixed(0)} ms`);
      const stats = server.stats();
      assert.equal(stats.heartbeats.pings, 1);
      assert.equal(stats.heartbeats.timeouts, 1);
      assert.equal(stats.closes['1006'], 1);
      dead.socket.resume();
      await dead.closed;
    } finally {
      await server.close({ timeout: 1_000 });
    }
  });

  it('keeps peers that answer pings, or that keep sending, and pings only the silent', async () => {
    const { server, port, closes } = await setup({ heartbeat: { interval: 100, timeout: 150 } });
    try {
      const answering = await RawClient.open(port);
      const talking = await RawClient.open(port);
      talking.answerPings = false;
      const chatter = setInterval(() => talking.sendText('still here'), 40);
      await sleep(800);
      clearInterval(chatter);
      assert.equal(closes.length, 0);
      const pings = answering.frames.filter((f) => f.opcode === 0x9).length;
      assert.ok(pings >= 4, `the silent peer was pinged ${pings} times`);
      assert.equal(talking.frames.filter((f) => f.opcode === 0x9).length, 0, 'a talking peer needs no ping');
      assert.equal(server.stats().heartbeats.timeouts, 0);
      assert.equal(server.connections, 2);
    } finally {
      await server.close({ timeout: 1_000 });
    }
  });

  it('closes a socket idle in both directions with 1001, even if it answers pings', async () => {
    const { server, port, closes } = await setup({
      idleTimeout: 300,
      heartbeat: { interval: 50, timeout: 100 },
      message(socket, data) {
        if (data.toString() === 'echo') socket.sendText('echo');
      },
    });
    try {
      const idle = await RawClient.open(port);
      const busy = await RawClient.open(port);
      const opened = performance.now();
      const traffic = setInterval(() => busy.sendText('echo'), 50);
      await until(3_000, 'the idle socket to close', () => closes.length === 1);
      const elapsed = closes[0].at - opened;
      clearInterval(traffic);
      assert.equal(idle.closeCode, 1001);
      const closeFrame = idle.frames.find((f) => f.opcode === 0x8)!;
      assert.equal(closeFrame.payload.subarray(2).toString(), 'idle timeout');
      assert.equal(closes[0].code, 1001, 'the peer echoed 1001');
      assert.ok(elapsed >= 250 && elapsed < 1_500, `closed after ${elapsed.toFixed(0)} ms`);
      assert.ok(
        idle.frames.some((f) => f.opcode === 0x9),
        'it was pinged, and answered',
      );
      assert.equal(busy.closeCode, null);
      assert.equal(server.stats().idleCloses, 1);
    } finally {
      await server.close({ timeout: 1_000 });
    }
  });

  it('uses one timer for all sockets', async () => {
    const { server, port } = await setup({ heartbeat: { interval: 100, timeout: 100 }, idleTimeout: 10_000 });
    try {
      await openMany(5, port, '/');
      const before = timeouts();
      const clients = await openMany(300, port, '/');
      assert.ok(timeouts() - before <= 2, `${timeouts() - before} more timers for 300 more sockets`);
      await sleep(350);
      assert.ok(clients.every((client) => client.frames.some((f) => f.opcode === 0x9)));
      assert.equal(server.connections, 305);
    } finally {
      await server.close({ timeout: 1_000 });
    }
  });
});
