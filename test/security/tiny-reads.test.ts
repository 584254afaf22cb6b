// Tiny reads: a 1 MiB message that arrives a byte at a time must be reassembled correctly with
// work linear in its size (a parser that re-concatenates or re-scans what it already has is
// quadratic here), while the server keeps serving other clients. The work is counted in the
// protocol core (bytes copied and validated by the message assembler); the times on a real
// socket are recorded as figures only.
//
// In the protocol core every byte is a separate `receive` call. On a real socket the client
// makes one `write` call per byte with Nagle off, but, to keep the wall time near 3 s, does 64
// such writes per event-loop turn (a write is ~2.5 µs of syscall, so one byte per turn would take
// minutes); how small the server's reads really were is measured and reported (in our runs
// they averaged 2 to 7 bytes: the server, in its own process, reads as fast as bytes arrive).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { feed, serverConnection } from './core.js';
import {
  clientFrame,
  type EchoMonitor,
  FrameCollector,
  growth,
  KiB,
  MiB,
  Op,
  rawUpgrade,
  recordFigures,
  round,
  type ServerHandle,
  startEchoMonitor,
  startServer,
  tick,
} from './helpers.js';

/** Valid UTF-8 of exactly `size` bytes, with 1-, 2-, 3- and 4-byte sequences. */
function utf8Text(size: number): Buffer {
  const unit = Buffer.from('aé€😀', 'utf8'); // 1 + 2 + 3 + 4 = 10 bytes
  const out = Buffer.alloc(size, 0x61);
  for (let at = 0; at + unit.length <= size; at += unit.length) unit.copy(out, at);
  return out;
}

describe('tiny reads in the protocol core: one byte per receive call', () => {
  /** Feeds the message a byte per receive call; returns the assembler's work per byte, and the time. */
  function perByte(opcode: number, payload: Buffer, fragment?: number): { work: number; ms: number } {
    const frames: Buffer[] = [];
    if (fragment === undefined) frames.push(clientFrame(opcode, payload));
    else {
      for (let at = 0; at < payload.length; at += fragment) {
        const end = Math.min(at + fragment, payload.length);
        frames.push(
          clientFrame(at === 0 ? opcode : Op.Continuation, payload.subarray(at, end), {
            fin: end === payload.length,
          }),
        );
      }
    }
    const stream = Buffer.concat(frames);
    const { conn, sink } = serverConnection();
    const started = performance.now();
    feed(conn, stream, 1);
    const elapsed = performance.now() - started;
    assert.equal(sink.failures.length, 0, sink.failures[0]?.message);
    assert.equal(sink.messages.length, 1);
    assert.ok(sink.messages[0].data.equals(payload), 'the message arrives intact');
    return { work: conn.assemblyWork / payload.length, ms: elapsed };
  }

  for (const [name, opcode, make, fragment] of [
    ['binary, one frame', Op.Binary, (n: number) => randomBytes(n), undefined],
    ['text, one frame', Op.Text, utf8Text, undefined],
    ['text, 4 KiB fragments', Op.Text, utf8Text, 4 * KiB],
  ] as const) {
    it(`${name}: the work per byte of 1 MiB is that of 256 KiB, a few bytes' worth`, (t) => {
      const small = perByte(opcode, make(256 * KiB), fragment);
      const big = perByte(opcode, make(MiB), fragment);
      recordFigures(t, `core: tiny reads, ${name}`, {
        workPerByte256k: round(small.work),
        workPerByte1M: round(big.work),
        ms256k: round(small.ms),
        ms1M: round(big.ms),
      });
      // Each byte copied once and validated once, plus the copies of a buffer that grows by
      // doubling: under 4 per byte, the same at any size. Copying what is already there on
      // every read would cost about half the message per byte.
      assert.ok(big.work < 4, `${round(big.work)} bytes of work per byte of 1 MiB`);
      assert.ok(
        big.work <= small.work + 0.5,
        `work per byte grew from ${round(small.work)} to ${round(big.work)}`,
      );
    });
  }
});

describe('tiny reads on a real socket', () => {
  let server: ServerHandle;
  let monitor: EchoMonitor;

  before(async () => {
    server = await startServer();
    monitor = await startEchoMonitor(server.port);
  });
  after(async () => {
    await monitor.stop();
    assert.ok(server.alive());
    await server.stop();
  });

  const BYTES_PER_TURN = 64;

  /** Sends one masked binary message a byte per write and waits for its echo. */
  async function trickle(payload: Buffer) {
    const { socket, rest } = await rawUpgrade(server.port, '/echo');
    const collector = new FrameCollector(socket, rest);
    const frame = clientFrame(Op.Binary, payload);
    const before0 = await server.stats();
    const started = performance.now();
    for (let i = 0; i < frame.length; ) {
      const end = Math.min(frame.length, i + BYTES_PER_TURN);
      for (; i < end; i++) socket.write(frame.subarray(i, i + 1));
      // Let the kernel take what was written before writing more.
      if (socket.writableLength > 64 * KiB) await new Promise((resolve) => socket.once('drain', resolve));
      else await tick();
    }
    await collector.until(() => collector.frames.length > 0 || collector.closed, 30_000, 'the echo');
    const elapsed = performance.now() - started;
    const stats = await server.stats();
    const echo = collector.frames[0];
    assert.equal(echo?.opcode, Op.Binary);
    assert.ok(echo.payload.equals(payload), 'the echo is the message, byte for byte');
    socket.destroy();
    const reads = stats.reads - before0.reads;
    return {
      elapsed,
      cpu: stats.cpuMs - before0.cpuMs,
      reads,
      averageRead: round((stats.readBytes - before0.readBytes) / reads),
      stats,
      before0,
    };
  }

  it('a 1 MiB message written a byte at a time is echoed intact, in bounded memory', async (t) => {
    server.resetEventLoopDelay();
    const before0 = await server.settledStats();
    const small = await trickle(randomBytes(256 * KiB));
    const big = await trickle(randomBytes(MiB));
    const cpuRatio = big.cpu / MiB / (small.cpu / (256 * KiB));
    const wallRatio = big.elapsed / MiB / (small.elapsed / (256 * KiB));
    recordFigures(t, 'socket: 1 MiB a byte per write', {
      wallMs256k: round(small.elapsed),
      wallMs1M: round(big.elapsed),
      serverCpuMs256k: round(small.cpu),
      serverCpuMs1M: round(big.cpu),
      serverReads1M: big.reads,
      averageReadBytes1M: big.averageRead,
      perByteCpuRatio: round(cpuRatio),
      perByteWallRatio: round(wallRatio),
      ...growth(before0, big.stats),
    });
    // Times are figures only: the server hands each read to the protocol core as it comes,
    // whose work per byte is counted above.
    assert.ok(big.stats.rss - before0.rss < 200 * MiB);
  });

  it('another client kept getting its echoes meanwhile', async (t) => {
    const figures = await monitor.stop();
    recordFigures(t, 'socket: tiny reads, legitimate client', { legit: figures });
    assert.ok(figures.sent > 20, 'the legitimate client sent throughout');
    assert.ok(figures.received >= figures.sent - 1, `echoes continued: ${JSON.stringify(figures)}`);
    monitor = await startEchoMonitor(server.port);
  });
});
