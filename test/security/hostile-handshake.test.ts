// Hostile clients during the opening handshake, on real sockets, each while a legitimate
// client on the same server keeps echoing: slowloris (a request head one byte per second), an
// upgrade request whose header fields never end (fast and slow), resets at every point of the
// handshake, and connection floods. The server's RSS growth and event-loop delay are recorded
// for each (test-artifacts/security-figures.jsonl and the test diagnostics).
import assert from 'node:assert/strict';
import type { Socket as NetSocket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  type EchoMonitor,
  exchange,
  growth,
  KiB,
  MiB,
  rawUpgrade,
  recordFigures,
  round,
  type ServerHandle,
  type ServerStats,
  sleep,
  startEchoMonitor,
  startServer,
  statusOf,
  tcpConnect,
  toMiB,
  upgradeRequest,
  within,
} from './helpers.js';

const HANDSHAKE_TIMEOUT = 1000;
/**
 * How long a slow head may stay open before the test gives up on it: a guard against a hang,
 * far past handshakeTimeout so that load cannot reach it. What the tests check is that the
 * cut comes while the head is still incomplete, and with 408.
 */
const HANG_GUARD = 30_000;

/** Resolves when the socket closes, with what it received. */
function closed(socket: NetSocket): Promise<{ response: string; at: number }> {
  return new Promise((resolve) => {
    let response = '';
    socket.on('data', (chunk: Buffer) => {
      response += chunk.toString('latin1');
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve({ response, at: performance.now() }));
  });
}

describe('hostile clients during the handshake', () => {
  let server: ServerHandle;
  let monitor: EchoMonitor;
  let baseline: ServerStats;

  before(async () => {
    server = await startServer({ server: { handshakeTimeout: HANDSHAKE_TIMEOUT, closeTimeout: 500 } });
    monitor = await startEchoMonitor(server.port);
    baseline = await server.settledStats();
  });
  after(async (t) => {
    const figures = await monitor.stop();
    const stats = await server.settledStats();
    recordFigures(t, 'handshake attacks: legitimate client', { legit: figures, ...growth(baseline, stats) });
    assert.ok(server.alive(), 'the server process survived');
    assert.ok(figures.received >= figures.sent - 1, `echoes continued: ${JSON.stringify(figures)}`);
    await server.stop();
  });

  /** Runs `attack` and records the server's growth and event-loop delay over it. */
  async function measured<T>(
    t: { diagnostic(message: string): void },
    name: string,
    attack: () => Promise<T>,
  ): Promise<{ result: T; before: ServerStats; during: ServerStats }> {
    const before0 = await server.settledStats();
    server.resetEventLoopDelay();
    const result = await attack();
    const during = await server.stats();
    recordFigures(t, name, { ...growth(before0, during), connections: during.connections });
    assert.ok(during.rss - before0.rss < 200 * MiB, `${name}: RSS growth is bounded`);
    return { result, before: before0, during };
  }

  it('slowloris: 50 request heads sent one byte per second are cut off after handshakeTimeout', async (t) => {
    const request = upgradeRequest('/echo');
    const { result } = await measured(t, 'slowloris on the request head (50 connections)', async () => {
      const sockets = await Promise.all(Array.from({ length: 50 }, () => tcpConnect(server.port)));
      const ends = sockets.map(closed);
      const started = performance.now();
      let sent = 0;
      const drip = () => {
        for (const socket of sockets) if (!socket.destroyed) socket.write(request[sent]);
        sent++;
      };
      drip();
      const timer = setInterval(drip, 1000);
      try {
        const outcome = await within(
          HANG_GUARD,
          'the server to cut the slow heads off',
          Promise.all(ends),
        ).then(
          (all) => all,
          () => null,
        );
        return { outcome, started, sent };
      } finally {
        clearInterval(timer);
        for (const socket of sockets) socket.destroy();
      }
    });
    assert.ok(
      result.outcome !== null,
      `slow request heads were still open ${HANG_GUARD} ms after they started ` +
        `(handshakeTimeout ${HANDSHAKE_TIMEOUT} ms; ${result.sent} bytes sent on each)`,
    );
    assert.ok(result.sent < request.length, `cut off after ${result.sent} of ${request.length} bytes`);
    for (const end of result.outcome) {
      assert.ok(
        end.response === '' || statusOf(end.response) === 408,
        `answered ${end.response.slice(0, 40)}`,
      );
    }
    t.diagnostic(`cut off after ${round(Math.max(...result.outcome.map((e) => e.at)) - result.started)} ms`);
  });

  it('an upgrade request whose header fields never end is refused with 431 after 16 KiB', async (t) => {
    const { result } = await measured(t, 'endless header fields, fast', async () => {
      const socket = await tcpConnect(server.port);
      const end = closed(socket);
      socket.write('GET /echo HTTP/1.1\r\nHost: a\r\n');
      let written = 0;
      let line = 0;
      while (!socket.destroyed && written < 4 * MiB) {
        let chunk = '';
        while (chunk.length < 1024) chunk += `X-Field-${line++}: value\r\n`;
        written += chunk.length;
        if (!socket.write(chunk)) await Promise.race([new Promise((r) => socket.once('drain', r)), end]);
        if (line % 512 === 0) await sleep(1);
      }
      return { ...(await within(5000, 'the server to close', end)), written };
    });
    // 431, or a bare close: the server closes with the client's bytes unread, so its kernel
    // may answer with a reset that discards the 431 before the client reads it.
    assert.ok([0, 431].includes(statusOf(result.response)), `answered ${result.response.slice(0, 40)}`);
    assert.ok(result.written < 4 * MiB, 'the server stopped reading long before 4 MiB');
    t.diagnostic(`the client got to write ${round(result.written / KiB)} KiB`);
  });

  it('an upgrade request whose header fields come slowly is cut off after handshakeTimeout', async (t) => {
    const { result } = await measured(t, 'endless header fields, slow', async () => {
      const socket = await tcpConnect(server.port);
      const end = closed(socket);
      const started = performance.now();
      socket.write('GET /echo HTTP/1.1\r\nHost: a\r\n');
      let line = 0;
      const timer = setInterval(() => {
        if (!socket.destroyed) socket.write(`X-Slow-${line++}: v\r\n`);
      }, 100);
      try {
        const outcome = await within(HANG_GUARD, 'the server to cut the request off', end).then(
          (e) => e,
          () => null,
        );
        return { outcome, started, line };
      } finally {
        clearInterval(timer);
        socket.destroy();
      }
    });
    assert.ok(
      result.outcome !== null,
      `a head still growing after ${HANG_GUARD} ms was not cut off (${result.line} fields sent)`,
    );
    // 408, not 431: the timeout cut it, long before its fields reached the 16 KiB limit.
    assert.ok(
      result.outcome.response === '' || statusOf(result.outcome.response) === 408,
      `answered ${result.outcome.response.slice(0, 40)}`,
    );
  });

  it('resets mid-handshake and right after the 101 cost nothing, and a reset socket reports 1006', async (t) => {
    await measured(t, 'resets during the handshake (3 x 100)', async () => {
      const request = upgradeRequest('/quiet');
      for (let i = 0; i < 100; i++) {
        const half = await tcpConnect(server.port);
        half.on('error', () => {});
        half.write(request.slice(0, request.length >> 1));
        await sleep(0);
        half.resetAndDestroy();
        const whole = await tcpConnect(server.port);
        whole.on('error', () => {});
        whole.write(request);
        whole.resetAndDestroy();
      }
      const opened = server.events.filter((e) => e.type === 'open' && e.path === '/quiet').length;
      const upgraded = await Promise.all(
        Array.from({ length: 100 }, () => rawUpgrade(server.port, '/quiet')),
      );
      for (const { socket } of upgraded) socket.resetAndDestroy();
      const deadline = performance.now() + 30_000; // a hang guard: the loop ends as soon as the condition holds
      while (performance.now() < deadline) {
        const closes = server.events.filter((e) => e.type === 'close' && e.path === '/quiet').length;
        if (closes >= opened + 100) break;
        await sleep(20);
      }
    });
    const opens = server.events.filter((e) => e.type === 'open' && e.path === '/quiet');
    const closes = server.events.filter((e) => e.type === 'close' && e.path === '/quiet');
    assert.equal(closes.length, opens.length, 'every opened socket reported close');
    for (const close of closes) assert.equal(close.type === 'close' && close.code, 1006);
    const stats = await server.stats();
    assert.equal(stats.connections, 1, 'no socket is left behind (the one left is the legitimate client)');
    const normal = await exchange(server.port, upgradeRequest('/echo'), 3000);
    assert.equal(statusOf(normal.response), 101, 'the server still upgrades');
  });

  it('a flood of 2,000 upgraded connections: the server keeps working; memory per connection', async (t) => {
    const count = 2000;
    const before0 = await server.settledStats();
    server.resetEventLoopDelay();
    const sockets: NetSocket[] = [];
    const started = performance.now();
    for (let i = 0; i < count; i += 100) {
      const batch = await Promise.all(Array.from({ length: 100 }, () => rawUpgrade(server.port, '/quiet')));
      for (const { socket } of batch) {
        socket.on('error', () => {});
        sockets.push(socket);
      }
    }
    const elapsed = performance.now() - started;
    const during = await server.settledStats();
    assert.equal(during.connections, count + 1, 'every flood socket is open, and the legitimate one');
    const idle: NetSocket[] = await Promise.all(Array.from({ length: 1000 }, () => tcpConnect(server.port)));
    await sleep(100);
    const withIdle = await server.settledStats();
    recordFigures(t, 'connection flood', {
      upgraded: count,
      handshakesPerSecond: round(count / (elapsed / 1000)),
      rssPerConnectionKiB: round((during.rss - before0.rss) / count / KiB),
      heapPerConnectionKiB: round((during.heapUsed - before0.heapUsed) / count / KiB),
      idleTcpConnections: idle.length,
      rssPerIdleTcpKiB: round((withIdle.rss - during.rss) / idle.length / KiB),
      heapPerIdleTcpKiB: round((withIdle.heapUsed - during.heapUsed) / idle.length / KiB),
      ...growth(before0, withIdle),
    });
    assert.ok(withIdle.rss - before0.rss < 200 * MiB, 'RSS growth is bounded');
    const normal = await rawUpgrade(server.port, '/echo');
    normal.socket.destroy();
    for (const socket of [...sockets, ...idle]) socket.destroy();
    const deadline = performance.now() + 30_000; // a hang guard: the loop ends as soon as the condition holds
    while ((await server.stats()).connections > 1 && performance.now() < deadline) await sleep(50);
    assert.equal((await server.stats()).connections, 1);
    t.diagnostic(
      `${toMiB(withIdle.rss - before0.rss)} MiB for ${count} sockets and ${idle.length} idle TCP connections`,
    );
  });
});
