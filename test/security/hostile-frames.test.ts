// Hostile clients after the handshake, on real sockets, each while a legitimate client on the
// same server keeps echoing: frame headers that never complete, a huge frame whose payload
// trickles in, a client that never reads what the server sends, ping floods from a client that
// never reads its pongs, resets mid-frame, and a half-open peer. The server's RSS growth and
// event-loop delay are recorded for each (test-artifacts/security-figures.jsonl).
import assert from 'node:assert/strict';
import type { Socket as NetSocket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { ServerOptions } from '../../src/index.js';
import {
  clientFrame,
  type EchoMonitor,
  type FixtureEvent,
  FrameCollector,
  growth,
  KiB,
  MiB,
  Op,
  rawUpgrade,
  recordFigures,
  round,
  type ServerHandle,
  type ServerStats,
  sleep,
  startEchoMonitor,
  startServer,
  toMiB,
} from './helpers.js';

const CLOSE_TIMEOUT = 500;
const BACKPRESSURE_LIMIT = 1 * MiB;

describe('hostile clients after the handshake', () => {
  let server: ServerHandle;
  let monitor: EchoMonitor;
  let baseline: ServerStats;

  before(async () => {
    server = await startServer({
      server: { handshakeTimeout: 1000, closeTimeout: CLOSE_TIMEOUT, backpressureLimit: BACKPRESSURE_LIMIT },
    });
    monitor = await startEchoMonitor(server.port);
    baseline = await server.settledStats();
  });
  after(async (t) => {
    const figures = await monitor.stop();
    const stats = await server.settledStats();
    recordFigures(t, 'frame attacks: legitimate client', { legit: figures, ...growth(baseline, stats) });
    assert.ok(server.alive(), 'the server process survived');
    assert.ok(figures.received >= figures.sent - 1, `echoes continued: ${JSON.stringify(figures)}`);
    await server.stop();
  });

  async function upgradeMany(count: number, path: string): Promise<NetSocket[]> {
    const sockets: NetSocket[] = [];
    for (let i = 0; i < count; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(50, count - i) }, () => rawUpgrade(server.port, path)),
      );
      for (const { socket } of batch) {
        socket.on('error', () => {});
        sockets.push(socket);
      }
    }
    return sockets;
  }

  async function closeAndSettle(sockets: NetSocket[]): Promise<void> {
    for (const socket of sockets) socket.destroy();
    const deadline = performance.now() + 30_000; // a hang guard: the loop ends as soon as the condition holds
    while ((await server.stats()).connections > 1 && performance.now() < deadline) await sleep(20);
  }

  it('frame headers that never complete: the connections stay, each holding at most 14 header bytes', async (t) => {
    const before0 = await server.settledStats();
    server.resetEventLoopDelay();
    const sockets = await upgradeMany(200, '/echo');
    const open = await server.settledStats();
    // Byte 1 of 2, then byte 2 of a header that announces a 64-bit length and a mask (14 bytes).
    for (const socket of sockets) socket.write(Buffer.from([0x82]));
    await sleep(200);
    for (const socket of sockets) socket.write(Buffer.from([0xff, 0, 0, 0]));
    await sleep(1300);
    const stalled = await server.settledStats();
    recordFigures(t, 'incomplete frame headers (200 connections, 1.5 s)', {
      ...growth(before0, stalled),
      rssPerConnectionKiB: round((stalled.rss - before0.rss) / sockets.length / KiB),
      stalledGrowthKiB: round((stalled.rss - open.rss) / KiB),
    });
    // No idle or frame timeout exists: a stalled frame keeps its connection until the peer or
    // the application ends it. What it holds is the 14-byte header buffer every parser has.
    assert.equal(stalled.connections, sockets.length + 1, 'the stalled connections are still open');
    assert.ok(stalled.arrayBuffers - open.arrayBuffers < 1 * MiB, 'stalled headers hold no buffers');
    await closeAndSettle(sockets);
  });

  it('a frame announcing 16 MiB whose payload trickles in: what the server allocates per connection', async (t) => {
    const count = 20;
    const before0 = await server.settledStats();
    server.resetEventLoopDelay();
    const sockets = await upgradeMany(count, '/echo');
    const header = clientFrame(Op.Binary, '', { declaredLength: 16 * MiB, mask: Buffer.from([0, 0, 0, 0]) });
    for (const socket of sockets) socket.write(Buffer.concat([header, Buffer.from([0x61])]));
    await sleep(100);
    for (const socket of sockets) socket.write(Buffer.from([0x62]));
    await sleep(300);
    const stalled = await server.settledStats();
    const perConnection = (stalled.arrayBuffers - before0.arrayBuffers) / count;
    recordFigures(t, 'trickled 16 MiB frame (20 connections, 2 payload bytes each)', {
      ...growth(before0, stalled),
      arrayBuffersPerConnectionMiB: toMiB(perConnection),
      rssPerConnectionKiB: round((stalled.rss - before0.rss) / count / KiB),
    });
    // Bounded by maxMessageSize per connection (what a frame may announce). The buffer is
    // allocated but untouched, so RSS does not grow with it; address space and V8's external
    // memory accounting do.
    assert.ok(perConnection <= 16 * MiB + 64 * KiB, 'at most maxMessageSize per connection');
    assert.ok(stalled.rss - before0.rss < 200 * MiB, 'RSS growth is bounded');
    await closeAndSettle(sockets);
  });

  it('frames announcing huge lengths are refused on their header alone (ws CVE-2016-10542)', async (t) => {
    const before0 = await server.settledStats();
    for (const [length, code] of [
      [2n ** 63n, 1002],
      [2n ** 63n - 1n, 1009],
      [2n ** 40n, 1009],
      [16n * 1024n * 1024n + 1n, 1009],
    ] as const) {
      const { socket, rest } = await rawUpgrade(server.port, '/echo');
      const collector = new FrameCollector(socket, rest);
      const header = Buffer.alloc(14);
      header[0] = 0x82;
      header[1] = 0xff;
      header.writeBigUInt64BE(length, 2);
      socket.write(header);
      await collector.until(() => collector.closed, 3000, `the close for a length of ${length}`);
      assert.equal(collector.closeFrame()?.code, code, `length ${length}`);
    }
    const stats = await server.settledStats();
    recordFigures(t, 'huge announced lengths', growth(before0, stats));
    assert.ok(stats.arrayBuffers - before0.arrayBuffers < 1 * MiB, 'nothing was allocated for them');
  });

  it('a client that never reads: send reports backpressure, bufferedAmount is visible and bounded', async (t) => {
    const before0 = await server.settledStats();
    server.resetEventLoopDelay();
    const { socket } = await rawUpgrade(server.port, '/flood');
    socket.on('error', () => {});
    // The client never reads: its socket stays paused (rawUpgrade pauses it).
    const floods = () =>
      server.events.filter((e): e is Extract<FixtureEvent, { type: 'flood' }> => e.type === 'flood');
    const start = floods().length;
    await server.waitFor((e) => e.type === 'flood', 5000);
    // Rounds go on while the kernel takes the bytes; wait until one has not drained for 500 ms.
    let last = floods().length;
    for (let i = 0; i < 40; i++) {
      await sleep(250);
      if (floods().length === last) break;
      last = floods().length;
    }
    const rounds = floods().slice(start);
    const final = rounds[rounds.length - 1];
    const stats = await server.settledStats();
    recordFigures(t, 'client that never reads', {
      rounds: rounds.length,
      sentBeforeStallMiB: toMiB(final.total),
      bufferedAmountMiB: toMiB(final.bufferedAmount),
      ...growth(before0, stats),
    });
    assert.ok(
      rounds.every((r) => r.statuses.backpressure === 1 || r.total >= 32 * MiB),
      'each round ended on backpressure',
    );
    assert.ok(final.bufferedAmount > BACKPRESSURE_LIMIT, 'bufferedAmount shows what waits');
    assert.ok(final.bufferedAmount <= BACKPRESSURE_LIMIT + 2 * 64 * KiB, 'and stays near the limit');
    assert.ok(final.total < 32 * MiB, 'the server stopped sending when the client stopped reading');
    assert.ok(stats.rss - before0.rss < 100 * MiB, 'RSS growth is bounded');
    // Reading again drains the buffer, and `drain` lets the application go on.
    const drains = server.events.filter((e) => e.type === 'drain').length;
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    socket.resume();
    const deadline = performance.now() + 30_000; // a hang guard: the loop ends as soon as the condition holds
    while (
      server.events.filter((e) => e.type === 'drain').length === drains &&
      performance.now() < deadline
    ) {
      await sleep(20);
    }
    assert.ok(server.events.filter((e) => e.type === 'drain').length > drains, '`drain` was reported');
    assert.ok(received > 0);
    socket.destroy();
  });

  it('a ping flood from a client that never reads its pongs: the pongs buffered on the server stay bounded', async (t) => {
    const before0 = await server.settledStats();
    server.resetEventLoopDelay();
    const { socket } = await rawUpgrade(server.port, '/echo');
    socket.on('error', () => {});
    try {
      // 512 pings of 125 bytes per write (~64 KiB); the flooder never reads.
      const batch = Buffer.concat(
        Array.from({ length: 512 }, () => clientFrame(Op.Ping, Buffer.alloc(125, 0x70))),
      );
      const started = performance.now();
      let written = 0;
      let blocked = false;
      while (performance.now() - started < 2000 && written < 64 * MiB && !socket.destroyed) {
        written += batch.length;
        if (!socket.write(batch)) {
          // The server stopped reading (or is slow): wait up to 250 ms for it to take more.
          const drained = await Promise.race([
            new Promise<boolean>((resolve) => socket.once('drain', () => resolve(true))),
            sleep(250).then(() => false),
          ]);
          if (!drained) {
            blocked = true;
            break;
          }
        }
      }
      await sleep(200);
      const stats = await server.settledStats();
      recordFigures(t, 'ping flood, pongs never read', {
        pingsWrittenMiB: toMiB(written),
        pingsAnswered: stats.pings - before0.pings,
        pongBytesMiB: toMiB((stats.pings - before0.pings) * 127),
        serverBufferedMiB: toMiB(stats.buffered),
        flooderBlocked: blocked,
        ...growth(before0, stats),
      });
      // What a bounded server does: stop reading from a peer that does not read its pongs, so
      // what waits for it stays near backpressureLimit (here with 4x slack).
      assert.ok(
        stats.buffered <= 4 * BACKPRESSURE_LIMIT,
        `the server buffers ${toMiB(stats.buffered)} MiB of pongs for a peer that reads none ` +
          `(backpressureLimit ${toMiB(BACKPRESSURE_LIMIT)} MiB; ${toMiB(written)} MiB of pings written; ` +
          `RSS grew ${toMiB(stats.rss - before0.rss)} MiB)`,
      );
      assert.ok(stats.rss - before0.rss < 200 * MiB, 'RSS growth under 200 MiB');
    } finally {
      socket.destroy();
      await closeAndSettle([]);
    }
  });

  it('a peer that resets mid-frame: no crash, and the close handler gets 1006', async (t) => {
    const before0 = await server.settledStats();
    const sockets = await upgradeMany(50, '/echo');
    const ids = new Set(
      server.events
        .filter((e): e is Extract<FixtureEvent, { type: 'open' }> => e.type === 'open')
        .slice(-50)
        .map((e) => e.id),
    );
    const frame = clientFrame(Op.Text, 'x'.repeat(1000));
    for (const socket of sockets) socket.write(frame.subarray(0, 500));
    await sleep(50);
    for (const socket of sockets) socket.resetAndDestroy();
    const deadline = performance.now() + 30_000; // a hang guard: the loop ends as soon as the condition holds
    const closes = () =>
      server.events.filter(
        (e): e is Extract<FixtureEvent, { type: 'close' }> => e.type === 'close' && ids.has(e.id),
      );
    while (closes().length < ids.size && performance.now() < deadline) await sleep(20);
    const stats = await server.settledStats();
    recordFigures(t, 'resets mid-frame (50 connections)', growth(before0, stats));
    assert.equal(closes().length, ids.size, 'every socket reported close');
    for (const close of closes()) assert.equal(close.code, 1006);
    assert.equal(stats.connections, 1, 'only the legitimate client is left');
  });

  it('a half-open peer (silent, reads nothing) stays open; closing it ends with 1006 after closeTimeout', async (t) => {
    // wsx has no heartbeat yet: nothing notices a peer that went silent. Here the peer's
    // kernel still acknowledges; a peer whose host vanished is the same to the server until TCP
    // retransmissions give up (minutes). Closing from the application is bounded by closeTimeout.
    const { socket, rest } = await rawUpgrade(server.port, '/quiet');
    socket.on('error', () => {});
    const opened = await server.waitFor(
      (e) =>
        e.type === 'open' &&
        e.path === '/quiet' &&
        !server.events.some((c) => c.type === 'close' && c.id === (e as { id: number }).id),
      2000,
    );
    const id = (opened as Extract<FixtureEvent, { type: 'open' }>).id;
    await sleep(1500);
    assert.ok(
      !server.events.some((e) => e.type === 'close' && e.id === id),
      'still open after 1.5 s of silence',
    );
    // From here the peer reads (it still never answers), to see what the server sent before it
    // gave up: its close frame, then the end of TCP without a closing handshake (1006).
    const collector = new FrameCollector(socket, rest);
    const started = performance.now();
    server.closeAll('/quiet', 1001, 'going away');
    const close = (await server.waitFor((e) => e.type === 'close' && e.id === id, 10_000)) as Extract<
      FixtureEvent,
      { type: 'close' }
    >;
    recordFigures(t, 'half-open peer', {
      closeAfterMs: round(performance.now() - started),
      code: close.code,
    });
    assert.equal(close.code, 1006);
    await collector.until(() => collector.closed, 10_000, 'the server to end TCP');
    assert.deepEqual(
      collector.closeFrame(),
      { code: 1001, reason: 'going away' },
      'the close frame came first',
    );
    assert.equal(collector.frames.length, 1, 'nothing else was sent');
    socket.destroy();
  });
});

// The server's heartbeat, idle timeout and connection limits (src/server/heartbeat.ts and
// src/server/limits.ts): what bounds the half-open peer, the stalled frame and the connection
// flood above once an application turns them on (all are off by default).
describe('the same attacks against a server with heartbeat, idleTimeout and maxConnections', () => {
  let server: ServerHandle;

  before(async () => {
    // (A cast, so that this file compiles before the options exist.)
    const options = {
      closeTimeout: CLOSE_TIMEOUT,
      heartbeat: { interval: 300, timeout: 300 },
      idleTimeout: 60_000,
      maxConnections: 50,
    } as ServerOptions;
    server = await startServer({ server: options });
  });
  after(async () => {
    assert.ok(server.alive());
    await server.stop();
  });

  it('a silent peer (never answers pings) is pinged once, then terminated with 1006', async (t) => {
    const { socket, rest } = await rawUpgrade(server.port, '/quiet');
    socket.on('error', () => {});
    const collector = new FrameCollector(socket, rest); // reads, never answers
    const opened = (await server.waitFor((e) => e.type === 'open', 10_000)) as Extract<
      FixtureEvent,
      { type: 'open' }
    >;
    const started = performance.now();
    // The order is checked, not the time (test/server/heartbeat.test.ts counts the sweeps).
    const close = (await server.waitFor((e) => e.type === 'close' && e.id === opened.id, 10_000)) as Extract<
      FixtureEvent,
      { type: 'close' }
    >;
    recordFigures(t, 'heartbeat: silent peer', {
      terminatedAfterMs: round(performance.now() - started),
      code: close.code,
    });
    assert.equal(close.code, 1006);
    await collector.until(() => collector.closed, 10_000, 'the server to end TCP');
    assert.deepEqual(
      collector.frames.map((f) => f.opcode),
      [Op.Ping],
      'one ping, then the end of TCP without a close frame',
    );
    socket.destroy();
  });

  it('a peer stalled in a frame header is terminated by the heartbeat too', async () => {
    const { socket } = await rawUpgrade(server.port, '/echo');
    socket.on('error', () => {});
    const opened = (await server.waitFor((e) => e.type === 'open' && e.path === '/echo', 2000)) as Extract<
      FixtureEvent,
      { type: 'open' }
    >;
    socket.write(Buffer.from([0x82]));
    await server.waitFor((e) => e.type === 'close' && e.id === opened.id, 10_000);
    socket.destroy();
  });

  it('past maxConnections, upgrades get 503 and the server keeps serving the open ones', async (t) => {
    const before0 = await server.settledStats();
    const sockets = await Promise.all(Array.from({ length: 50 }, () => rawUpgrade(server.port, '/echo')));
    for (const { socket } of sockets) socket.on('error', () => {});
    const refused = await rawUpgrade(server.port, '/echo').then(
      () => 'accepted',
      (error: Error) => error.message,
    );
    const stats = await server.settledStats();
    recordFigures(t, 'maxConnections 50', growth(before0, stats));
    assert.match(refused, /503/);
    const first = sockets[0];
    const collector = new FrameCollector(first.socket, first.rest);
    first.socket.write(clientFrame(Op.Text, 'still here'));
    await collector.until(() => collector.frames.length > 0, 2000, 'an echo on an open socket');
    for (const { socket } of sockets) socket.destroy();
  });
});
