// Decompression bombs: about 1 MiB of DEFLATE that inflates to 1 GiB of zeros. wsx must stop
// inflating at maxMessageSize, fail the connection with 1009, and never hold anything near the
// bomb's inflated size: checked on the protocol core in this process, and on the wsx CLI as a
// server and as a client (peak RSS of the child from /proc, VmHWM, before and after).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PerMessageDeflate } from '../../src/protocol/extensions/permessage-deflate.js';
import type { DecodedSink, MessageEncoding, MessageExtension } from '../../src/protocol/message-extension.js';
import {
  frame,
  GiB,
  Harness,
  MiB,
  Op,
  params,
  type RawReader,
  rawServer,
  rawUpgrade,
  rssOf,
  sleep,
  split,
  startWsxServe,
  withTimeout,
  wsx,
  zeroBomb,
} from './helpers.js';

/** Growth allowed while a bomb is refused: generous, and still 1/4 of what the bomb holds. */
const BOUND = 256 * MiB;
const BOMB_SIZE = 1 * GiB;
let bomb: Buffer;

before(() => {
  bomb = zeroBomb(BOMB_SIZE);
  assert.ok(bomb.length < 1.5 * MiB, `the bomb is ${bomb.length} bytes`);
});

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** permessage-deflate with a count of the bytes it inflated (what its decoder handed on). */
class CountingDeflate implements MessageExtension {
  inflated = 0;
  constructor(private readonly inner: PerMessageDeflate) {}
  decode(piece: Buffer, end: boolean, output: DecodedSink): void {
    this.inner.decode(piece, end, {
      appendDecoded: (decoded, transient) => {
        this.inflated += decoded.length;
        output.appendDecoded(decoded, transient);
      },
    });
  }
  encoding(size: number, force: boolean | undefined): MessageEncoding {
    return this.inner.encoding(size, force);
  }
  encode(payload: Uint8Array): Buffer {
    return this.inner.encode(payload);
  }
  store(payload: Uint8Array, end: boolean): Uint8Array[] {
    return this.inner.store(payload, end);
  }
  get sharedCompression() {
    return this.inner.sharedCompression;
  }
  hibernate(): boolean {
    return this.inner.hibernate();
  }
  release(): void {
    this.inner.release();
  }
}

describe('a 1 GiB bomb against the protocol core (this process)', () => {
  it('whole, in one frame: 1009 once 16 MiB are inflated, RSS grows by far less than the bomb', (t) => {
    gc();
    const rssBefore = process.memoryUsage.rss();
    const started = Date.now();
    const h = new Harness('server', null, 16 * MiB);
    const codec = new CountingDeflate(new PerMessageDeflate(params(), 16 * MiB));
    h.connection.useExtension(codec);
    h.feed({ opcode: Op.Binary, rsv: 4, payload: bomb });
    const growth = process.memoryUsage.rss() - rssBefore;
    assert.equal(h.failCode, 1009, h.failure?.message);
    assert.equal(h.messages.length, 0);
    t.diagnostic(
      `inflated ${(codec.inflated / MiB).toFixed(1)} MiB; RSS grew by ${(growth / MiB).toFixed(1)} MiB ` +
        `in ${Date.now() - started} ms`,
    );
    // Inflating stopped at the limit: no more than 16 MiB of the 1 GiB came out.
    assert.ok(codec.inflated <= 16 * MiB, `inflated ${codec.inflated} bytes`);
    assert.ok(growth < BOUND, `RSS grew by ${(growth / MiB).toFixed(1)} MiB`);
  });

  it('as a text message, split over 64 KiB frames: 1009 long before the last frame', () => {
    const rssBefore = process.memoryUsage.rss();
    const h = new Harness('client', params(), 16 * MiB);
    const pieces = split(bomb, [64 * 1024]);
    let fed = 0;
    for (const [i, piece] of pieces.entries()) {
      h.feed({
        opcode: i === 0 ? Op.Text : Op.Continuation,
        rsv: i === 0 ? 4 : 0,
        fin: i === pieces.length - 1,
        payload: piece,
      });
      fed++;
      if (h.failure !== null) break;
    }
    assert.equal(h.failCode, 1009);
    assert.ok(fed <= 2, `failed after ${fed} of ${pieces.length} frames`);
    assert.ok(process.memoryUsage.rss() - rssBefore < BOUND);
  });

  it('a smaller limit is honoured just the same', () => {
    const h = new Harness('server', params(), 64 * 1024);
    h.feed({ opcode: Op.Binary, rsv: 4, payload: bomb.subarray(0, 64 * 1024) });
    assert.equal(h.failCode, 1009);
  });
});

describe('a 1 GiB bomb against the wsx CLI', () => {
  let serve: Awaited<ReturnType<typeof startWsxServe>>;
  before(async () => {
    serve = await startWsxServe();
  });
  after(async () => {
    await serve?.child.stop();
  });

  it('wsx serve: closes with 1009, peak RSS stays far below the bomb size', async (t) => {
    const reader = await rawUpgrade(serve.url, 'permessage-deflate; client_max_window_bits');
    assert.match(reader.head!, /^HTTP\/1\.1 101/);
    assert.match(reader.header('sec-websocket-extensions'), /^permessage-deflate/);
    const peakBefore = rssOf(serve.child.pid, 'VmHWM');
    reader.socket.write(frame({ opcode: Op.Binary, rsv: 4, payload: bomb, masked: true }));
    assert.equal(await withTimeout(reader.closeCode(), 'the close frame'), 1009);
    const peakAfter = rssOf(serve.child.pid, 'VmHWM');
    t.diagnostic(
      `peak RSS of wsx serve: ${(peakBefore / MiB).toFixed(1)} → ${(peakAfter / MiB).toFixed(1)} MiB`,
    );
    assert.ok(
      peakAfter - peakBefore < BOUND,
      `peak RSS grew by ${((peakAfter - peakBefore) / MiB).toFixed(1)} MiB`,
    );
    reader.socket.destroy();
  });

  it('wsx connect: closes with 1009, peak RSS stays far below the bomb size', async (t) => {
    let opened: (reader: RawReader) => void = () => {};
    const open = new Promise<RawReader>((resolve) => (opened = resolve));
    const server = await rawServer('permessage-deflate', (reader) => opened(reader));
    const client = wsx('wsx connect', ['connect', server.url, '--echo']);
    try {
      const reader = await withTimeout(open, 'the wsx client to connect');
      await sleep(300); // let the client settle
      const peakBefore = rssOf(client.pid, 'VmHWM');
      reader.socket.write(frame({ opcode: Op.Binary, rsv: 4, payload: bomb }));
      assert.equal(await withTimeout(reader.closeCode(), 'the close frame'), 1009);
      const peakAfter = rssOf(client.pid, 'VmHWM');
      t.diagnostic(
        `peak RSS of wsx connect: ${(peakBefore / MiB).toFixed(1)} → ${(peakAfter / MiB).toFixed(1)} MiB`,
      );
      assert.ok(
        peakAfter - peakBefore < BOUND,
        `peak RSS grew by ${((peakAfter - peakBefore) / MiB).toFixed(1)} MiB`,
      );
      reader.socket.destroy();
      assert.equal(await withTimeout(client.exited, 'wsx connect to exit'), 1);
    } finally {
      client.kill();
      await server.close();
    }
  });
});
