import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { createServer, type WebSocketServer } from '../../src/index.js';
import { openMany, RawClient, until } from './helpers.js';

// The heartbeat and idle checks run on the server's one sweep timer (a setInterval). The tests
// that check when a peer is pinged, terminated or closed take that timer over with node:test's
// mock timers and run the sweeps one by one, so they count sweeps instead of measuring time:
// with a sweep every 25 ms, `interval: 100` pings a silent peer at the 4th sweep, and so on.
// Between sweeps a round trip on a talking peer lets the server read what the peers sent.

interface Closed {
  code: number;
  reason: string;
}

/** Takes over setInterval (so the server's sweep timer) for this test; call before `setup`. */
function driveSweeps(t: TestContext, period: number): () => void {
  t.mock.timers.enable({ apis: ['setInterval'] });
  return () => t.mock.timers.tick(period);
}

async function setup(
  route: Parameters<WebSocketServer['route']>[1],
): Promise<{ server: WebSocketServer; port: number; closes: Closed[] }> {
  const server = createServer();
  const closes: Closed[] = [];
  server.route('/', {
    ...route,
    message(socket, data) {
      socket.sendText(data); // echoes: a peer's round trip shows the server has read its bytes
    },
    close(_socket, code, reason) {
      closes.push({ code, reason });
    },
  });
  const { port } = await server.listen({ port: 0 });
  return { server, port, closes };
}

/** Sends a message on `client` and waits for its echo: the server has read everything sent before. */
async function roundTrip(client: RawClient): Promise<void> {
  const before = client.messages;
  client.sendText('still here');
  await until(5_000, 'an echo', () => client.messages > before);
}

const pingsTo = (client: RawClient) => client.frames.filter((f) => f.opcode === 0x9).length;

function timeouts(): number {
  return process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
}

describe('heartbeats', { timeout: 90_000 }, () => {
  it('pings a silent peer after `interval` and terminates it after `timeout` more (counted in sweeps)', async (t) => {
    const sweep = driveSweeps(t, 25);
    const { server, port, closes } = await setup({ heartbeat: { interval: 100, timeout: 150 } });
    try {
      const dead = await RawClient.open(port);
      dead.answerPings = false; // reads, never answers
      const witness = await RawClient.open(port);
      const step = async () => {
        sweep();
        await roundTrip(witness);
      };
      for (let i = 1; i <= 3; i++) await step();
      assert.equal(pingsTo(dead), 0, 'no ping before `interval` (4 sweeps)');
      await step();
      assert.equal(pingsTo(dead), 1, 'pinged at the 4th sweep');
      for (let i = 5; i <= 9; i++) await step();
      assert.deepEqual(
        [closes.length, server.stats().heartbeats.timeouts],
        [0, 0],
        'alive until 4 + 6 sweeps',
      );
      sweep();
      await until(5_000, 'the dead peer to be dropped', () => closes.length === 1);
      assert.equal(closes[0].code, 1006, 'terminated: no closing handshake');
      await dead.closed;
      assert.equal(pingsTo(dead), 1, 'pinged once');
      const stats = server.stats();
      assert.equal(stats.heartbeats.pings, 1);
      assert.equal(stats.heartbeats.timeouts, 1);
      assert.equal(stats.closes['1006'], 1);
      assert.equal(server.connections, 1, 'the talking peer stays');
    } finally {
      await server.close({ timeout: 1_000 });
    }
  });

  it('keeps peers that answer pings, or that keep sending, and pings only the silent', async (t) => {
    const sweep = driveSweeps(t, 25);
    const { server, port, closes } = await setup({ heartbeat: { interval: 100, timeout: 150 } });
    try {
      const answering = await RawClient.open(port);
      const talking = await RawClient.open(port);
      talking.answerPings = false;
      // 32 sweeps: the silent peer is pinged every 4, answers, and is never dropped; the talking
      // one sends between every two sweeps and is never pinged.
      for (let i = 1; i <= 32; i++) {
        sweep();
        await roundTrip(talking);
      }
      assert.equal(closes.length, 0);
      assert.equal(pingsTo(answering), 8, 'the silent peer was pinged every 4 sweeps');
      assert.equal(pingsTo(talking), 0, 'a talking peer needs no ping');
      assert.equal(server.stats().heartbeats.timeouts, 0);
      assert.equal(server.connections, 2);
    } finally {
      await server.close({ timeout: 1_000 });
    }
  });

  it('closes a socket idle in both directions with 1001, even if it answers pings', async (t) => {
    const sweep = driveSweeps(t, 25);
    const { server, port, closes } = await setup({
      idleTimeout: 400,
      heartbeat: { interval: 100, timeout: 100 },
    });
    try {
      const idle = await RawClient.open(port);
      const busy = await RawClient.open(port);
      // A sweep every 25 ms: idle after 16 sweeps without a message; pinged at the 4th meanwhile.
      for (let i = 1; i <= 15; i++) {
        sweep();
        await roundTrip(busy);
      }
      assert.ok(pingsTo(idle) >= 1, 'it was pinged, and answered');
      assert.deepEqual(
        [closes.length, idle.closeCode, server.stats().idleCloses],
        [0, null, 0],
        'open for 15',
      );
      sweep();
      await until(5_000, 'the idle socket to close', () => closes.length === 1);
      assert.equal(idle.closeCode, 1001);
      const closeFrame = idle.frames.find((f) => f.opcode === 0x8)!;
      assert.equal(closeFrame.payload.subarray(2).toString(), 'idle timeout');
      assert.equal(closes[0].code, 1001, 'the peer echoed 1001');
      assert.equal(busy.closeCode, null);
      assert.equal(server.stats().idleCloses, 1);
      assert.equal(server.stats().heartbeats.timeouts, 0);
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
      await until(10_000, 'every socket to be pinged', () =>
        clients.every((client) => client.frames.some((f) => f.opcode === 0x9)),
      );
      assert.equal(server.connections, 305);
    } finally {
      await server.close({ timeout: 1_000 });
    }
  });
});
