// Millions of tiny or empty fragments (the class behind ws's 131,072-fragment cap): a peer
// that splits one message into ever more frames must cost bounded memory and CPU, and is
// stopped with 1008 once it passes maxFragments (default 131,072; empty fragments count).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { feed, fragmentedMessage, memory, serverConnection } from './core.js';
import {
  clientFrame,
  type EchoMonitor,
  FrameCollector,
  growth,
  MiB,
  Op,
  rawUpgrade,
  recordFigures,
  round,
  type ServerHandle,
  startEchoMonitor,
  startServer,
  toMiB,
  writeAll,
} from './helpers.js';

const DEFAULT_MAX_FRAGMENTS = 131_072;

describe('fragment floods against the protocol core', () => {
  it('2,000,000 empty fragments: 1008 after frame 131,073, the rest ignored, in bounded memory', (t) => {
    const stream = fragmentedMessage(Op.Binary, 2_000_000, 0);
    const before0 = memory();
    const { conn, sink } = serverConnection();
    const started = performance.now();
    feed(conn, stream);
    const elapsed = performance.now() - started;
    const after0 = memory();
    assert.equal(sink.failures.length, 1);
    assert.equal(sink.failures[0].code, 'WSX_TOO_MANY_FRAGMENTS');
    assert.equal(sink.failures[0].closeCode, 1008);
    assert.equal(sink.messageCount, 0);
    const frames = sink.frames();
    assert.equal(frames.length, 1);
    assert.equal(frames[0].opcode, Op.Close);
    assert.equal(frames[0].payload.readUInt16BE(0), 1008);
    assert.equal(sink.ends, 1);
    recordFigures(t, 'core: 2M empty fragments', {
      ms: round(elapsed),
      heapGrowthMiB: toMiB(after0.heapUsed - before0.heapUsed),
      arrayBuffersGrowthMiB: toMiB(after0.arrayBuffers - before0.arrayBuffers),
    });
    assert.ok(after0.heapUsed - before0.heapUsed < 16 * MiB, 'no per-fragment objects are kept');
  });

  it('empty fragments count towards maxFragments', () => {
    for (const [count, fails] of [
      [10, false],
      [11, true],
    ] as const) {
      const { conn, sink } = serverConnection({ maxFragments: 10 });
      feed(conn, fragmentedMessage(Op.Text, count, 0));
      assert.equal(sink.failures.length, fails ? 1 : 0, `${count} empty fragments`);
      if (fails) assert.equal(sink.failures[0].closeCode, 1008);
      else assert.deepEqual(sink.messages, [{ data: Buffer.alloc(0), isBinary: false }]);
    }
  });

  it('the default limit is exact: 131,072 fragments make a message, 131,073 fail with 1008', () => {
    const ok = serverConnection();
    feed(ok.conn, fragmentedMessage(Op.Binary, DEFAULT_MAX_FRAGMENTS, 1));
    assert.equal(ok.sink.failures.length, 0);
    assert.equal(ok.sink.messages[0].data.length, DEFAULT_MAX_FRAGMENTS);
    const over = serverConnection();
    feed(over.conn, fragmentedMessage(Op.Binary, DEFAULT_MAX_FRAGMENTS + 1, 1));
    assert.equal(over.sink.failures[0]?.closeCode, 1008);
  });

  it('1,000,000 one-byte fragments (limit raised) reassemble with linear work and bounded memory', (t) => {
    const options = { maxFragments: 4_000_000 };
    const run = (count: number) => {
      const stream = fragmentedMessage(Op.Text, count, 1, 0x62);
      const before0 = memory();
      const { conn, sink } = serverConnection(options);
      const started = performance.now();
      feed(conn, stream);
      const elapsed = performance.now() - started;
      const after0 = memory();
      assert.equal(sink.failures.length, 0);
      assert.equal(sink.messages.length, 1);
      assert.ok(sink.messages[0].data.equals(Buffer.alloc(count, 0x62)));
      return {
        elapsed,
        work: conn.assemblyWork,
        heap: after0.heapUsed - before0.heapUsed,
        buffers: after0.arrayBuffers - before0.arrayBuffers,
      };
    };
    const small = run(250_000);
    const big = run(1_000_000);
    recordFigures(t, 'core: 1M one-byte fragments', {
      ms250k: round(small.elapsed),
      ms1M: round(big.elapsed),
      work250k: small.work,
      work1M: big.work,
      heapGrowthMiB: toMiB(big.heap),
      arrayBuffersGrowthMiB: toMiB(big.buffers),
    });
    // Work is the bytes the assembler copied and validated: each byte once or twice, plus the
    // copies of a buffer that doubles, so under 4 per byte and 4x for 4x the fragments. Copying
    // the message so far at every fragment would be ~500,000 per byte.
    assert.ok(big.work < 4 * 1_000_000, `${big.work} bytes of work for 1,000,000 fragments`);
    assert.ok(
      big.work <= 4 * small.work + 64,
      `4x the fragments took ${round(big.work / small.work)}x the work`,
    );
    assert.ok(big.heap < 16 * MiB, `heap grew by ${toMiB(big.heap)} MiB`);
  });
});

describe('fragment floods on a real socket (default limits)', () => {
  let server: ServerHandle;
  let monitor: EchoMonitor;

  before(async () => {
    server = await startServer();
    monitor = await startEchoMonitor(server.port);
  });
  after(async (t) => {
    const figures = await monitor.stop();
    recordFigures(t, 'fragment floods: legitimate client', { legit: figures });
    assert.ok(server.alive(), 'the server process survived');
    assert.ok(figures.received >= figures.sent - 1, `echoes continued: ${JSON.stringify(figures)}`);
    await server.stop();
  });

  for (const [name, each] of [
    ['empty', 0],
    ['one-byte', 1],
  ] as const) {
    it(`1,000,000 ${name} fragments: the server closes with 1008 and stays bounded`, async (t) => {
      const before0 = await server.settledStats();
      server.resetEventLoopDelay();
      const { socket, rest } = await rawUpgrade(server.port, '/echo');
      const collector = new FrameCollector(socket, rest);
      const started = performance.now();
      const stream = fragmentedMessage(Op.Binary, 1_000_000, each);
      const written = await writeAll(socket, stream);
      await collector.until(() => collector.closed, 10_000, 'the server to close the connection');
      const elapsed = performance.now() - started;
      assert.deepEqual(collector.closeFrame()?.code, 1008);
      const closed = await server.waitFor(
        (e) => e.type === 'close' && e.path === '/echo' && e.code === 1008,
        5000,
      );
      assert.equal(closed.type, 'close');
      const stats = await server.settledStats();
      recordFigures(t, `socket: 1M ${name} fragments`, {
        ms: round(elapsed),
        writtenMiB: toMiB(written),
        ...growth(before0, stats),
        serverCpuMs: round(stats.cpuMs - before0.cpuMs),
      });
      assert.ok(stats.rss - before0.rss < 200 * MiB, 'RSS growth is bounded');
      socket.destroy();
    });
  }

  it('a flood of interleaved pings between fragments does not count as fragments (pings are answered)', async () => {
    const { socket, rest } = await rawUpgrade(server.port, '/echo');
    const collector = new FrameCollector(socket, rest);
    const parts: Buffer[] = [clientFrame(Op.Text, 'a', { fin: false })];
    for (let i = 0; i < 1000; i++)
      parts.push(clientFrame(Op.Ping, 'p'), clientFrame(Op.Continuation, 'b', { fin: false }));
    parts.push(clientFrame(Op.Continuation, 'c'));
    await writeAll(socket, Buffer.concat(parts));
    await collector.until(() => collector.frames.some((f) => f.opcode === Op.Text), 5000, 'the echo');
    const text = collector.frames.find((f) => f.opcode === Op.Text)!;
    assert.equal(text.payload.toString(), `a${'b'.repeat(1000)}c`);
    assert.equal(collector.frames.filter((f) => f.opcode === Op.Pong).length, 1000);
    socket.destroy();
  });
});
