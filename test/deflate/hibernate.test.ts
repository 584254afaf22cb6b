// Freeing a quiet connection's zlib contexts (`hibernate`) without losing context takeover:
// the history kept (one window per direction at most) seeds the rebuilt contexts, so the
// peer's back-references into earlier messages still decode, and ours still refer back.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { constants, inflateRawSync } from 'node:zlib';
import WebSocket from 'ws';
import { createServer, type WebSocketServer } from '../../src/index.js';
import { History } from '../../src/protocol/extensions/history.js';
import { PerMessageDeflate } from '../../src/protocol/extensions/permessage-deflate.js';
import {
  Harness,
  jsonText,
  KiB,
  MiB,
  noise,
  Op,
  params,
  prng,
  rawToBuffer,
  sleep,
  TAIL,
  TakeoverDeflater,
  withTimeout,
} from './helpers.js';

/** Inflates every payload of a context-takeover stream in one go, as a peer that never resets would. */
function inflateStream(payloads: readonly Buffer[], windowBits: number): Buffer {
  const stream = Buffer.concat(payloads.flatMap((payload) => [payload, TAIL]));
  return inflateRawSync(stream, { windowBits, finishFlush: constants.Z_SYNC_FLUSH });
}

describe('History: the last window of bytes, through a ring and compaction', () => {
  it('holds exactly the last `capacity` bytes for any sequence of adds and compactions', () => {
    const random = prng(7);
    for (const capacity of [1, 7, 512, 4096]) {
      const history = new History(capacity);
      let everything = Buffer.alloc(0);
      assert.equal(history.dictionary(), undefined);
      for (let step = 0; step < 300; step++) {
        const size = Math.floor(random() * capacity * (random() < 0.1 ? 3 : 0.7));
        const bytes = noise(size);
        history.add(bytes);
        everything = Buffer.concat([everything, bytes]).subarray(-capacity);
        if (random() < 0.3) history.compact();
        assert.equal(history.length, everything.length);
        if (everything.length === 0) assert.equal(history.dictionary(), undefined);
        else assert.deepEqual(history.dictionary(), everything, `capacity ${capacity}, step ${step}`);
      }
      history.clear();
      assert.equal(history.length, 0);
      assert.equal(history.dictionary(), undefined);
    }
  });
});

describe('hibernate: contexts freed between messages, context takeover kept', () => {
  for (const bits of [9, 10, 12, 15]) {
    it(`compressing with a ${bits}-bit window: messages after a hibernate refer back into earlier ones`, () => {
      const codec = new PerMessageDeflate(params({ localMaxWindowBits: bits }), MiB);
      // Small enough to lie within reach (zlib refers at most 2^bits - 262 bytes back).
      const repeated = Buffer.from(jsonText(Math.min(300, (1 << bits) >> 3), bits));
      const messages: Buffer[] = [];
      const payloads: Buffer[] = [];
      for (let i = 0; i < 24; i++) {
        const message = i % 3 !== 2 ? repeated : Buffer.from(jsonText(40 + i * 97, i));
        messages.push(message);
        payloads.push(codec.encode(message));
        if (i % 2 === 0) {
          assert.equal(codec.hibernate(), true, 'the compressor was freed');
          assert.equal(codec.holdsContexts, false);
        }
      }
      // The first copy of `repeated` stands alone; the second, right after a hibernate, is a
      // back-reference into the seeded dictionary.
      assert.ok(
        payloads[1].length * 3 < payloads[0].length,
        `${payloads[1].length} vs ${payloads[0].length}`,
      );
      assert.deepEqual(inflateStream(payloads, bits), Buffer.concat(messages));
      codec.release();
    });

    it(`decompressing with a ${bits}-bit window: the peer's references across a hibernate decode exactly`, async () => {
      const peer = new TakeoverDeflater(bits);
      const side = new Harness('server', params({ remoteMaxWindowBits: bits }));
      const repeated = jsonText(300, bits + 1);
      const sent: string[] = [];
      for (let i = 0; i < 24; i++) {
        const message = i % 3 === 0 ? repeated : jsonText(40 + i * 113, i);
        sent.push(message);
        side.feed({ opcode: Op.Text, rsv: 4, payload: await peer.message(Buffer.from(message)) });
        if (i % 2 === 1) side.connection.hibernate();
      }
      peer.close();
      assert.equal(side.failure, null);
      assert.deepEqual(
        side.messages.map((m) => m.data.toString()),
        sent,
      );
    });
  }

  it('history longer than the window keeps only the window, and references into it still decode', async () => {
    const peer = new TakeoverDeflater(15);
    const codec = new PerMessageDeflate(params(), 4 * MiB);
    const decoded: Buffer[] = [];
    const big = Buffer.from(jsonText(200 * KiB, 3));
    const tailCopy = big.subarray(-8 * KiB);
    for (const message of [big, tailCopy, Buffer.from(jsonText(1000, 4)), tailCopy]) {
      const parts: Buffer[] = [];
      codec.decode(await peer.message(message), true, {
        appendDecoded: (piece, transient) => parts.push(transient ? Buffer.from(piece) : piece),
      });
      decoded.push(Buffer.concat(parts));
      codec.hibernate();
    }
    peer.close();
    assert.deepEqual(decoded, [big, tailCopy, Buffer.from(jsonText(1000, 4)), tailCopy]);
    codec.release();
  });

  it('keeps a decompressor that is in the middle of a fragmented message', async () => {
    const peer = new TakeoverDeflater(15);
    const codec = new PerMessageDeflate(params(), MiB);
    const message = Buffer.from(jsonText(20 * KiB, 9));
    const payload = await peer.message(message);
    peer.close();
    const parts: Buffer[] = [];
    const half = payload.length >> 1;
    codec.decode(payload.subarray(0, half), false, {
      appendDecoded: (piece, transient) => parts.push(transient ? Buffer.from(piece) : piece),
    });
    assert.equal(codec.hibernate(), false, 'nothing freed mid-message');
    assert.equal(codec.holdsContexts, true);
    codec.decode(payload.subarray(half), true, {
      appendDecoded: (piece, transient) => parts.push(transient ? Buffer.from(piece) : piece),
    });
    assert.deepEqual(Buffer.concat(parts), message);
    assert.equal(codec.hibernate(), true);
    codec.release();
  });

  it('without context takeover there is no history to keep, and messages still decode', async () => {
    const codec = new PerMessageDeflate(
      params({ localNoContextTakeover: true, remoteNoContextTakeover: true }),
      MiB,
    );
    for (let i = 0; i < 4; i++) {
      const message = Buffer.from(jsonText(3000, i));
      const parts: Buffer[] = [];
      codec.decode(codec.encode(message), true, {
        appendDecoded: (piece, transient) => parts.push(transient ? Buffer.from(piece) : piece),
      });
      assert.deepEqual(Buffer.concat(parts), message);
      assert.equal(codec.holdsContexts, false, 'nothing is held between messages');
      assert.equal(codec.hibernate(), false);
    }
  });
});

describe("the server frees quiet sockets' zlib contexts (releaseAfter), against ws", () => {
  let server: WebSocketServer;
  let url = '';

  before(async () => {
    // A compressor per socket too (context takeover both ways), so both directions are freed and rebuilt.
    server = createServer({
      perMessageDeflate: { releaseAfter: 40, threshold: 0, serverNoContextTakeover: false },
    });
    server.route('/*', { message: (socket, data, isBinary) => socket.send(data, { binary: isBinary }) });
    const { port } = await server.listen({ port: 0, host: '127.0.0.1' });
    url = `ws://127.0.0.1:${port}/`;
  });

  after(async () => {
    await server.close({ timeout: 500 });
  });

  it('releases once per quiet spell, and echoes that refer back across releases stay exact', async () => {
    const client = new WebSocket(url, { perMessageDeflate: { threshold: 0 } });
    const inbox: Buffer[] = [];
    let arrived: () => void = () => {};
    client.on('message', (data) => {
      inbox.push(rawToBuffer(data));
      arrived();
    });
    let failed: (error: Error) => void = () => {};
    const closed = new Promise<number>((resolve) =>
      client.on('close', (code) => {
        failed(new Error(`closed with ${code} before the echo`));
        resolve(code);
      }),
    );
    await withTimeout(new Promise((resolve) => client.on('open', resolve)), 'open');
    assert.match(client.extensions, /permessage-deflate/);
    const message = jsonText(6 * KiB, 5);
    const variant = `${message.slice(0, 3000)}!${message.slice(3001)}`;
    for (let round = 0; round < 4; round++) {
      const before = server.stats().compressionReleases;
      // The same text again: ws's compressor (context kept) sends little more than back-references
      // into the previous message, which the server decodes from the history it kept.
      const text = round % 2 === 0 ? message : variant;
      const echoed = new Promise<void>((resolve, reject) => {
        arrived = resolve;
        failed = reject;
      });
      client.send(text);
      await withTimeout(echoed, `echo ${round}`);
      assert.equal(inbox.at(-1)?.toString(), text);
      await withTimeout(
        (async () => {
          while (server.stats().compressionReleases === before) await sleep(10);
        })(),
        `release ${round}`,
      );
      // Quiet for several more periods: still one release for this spell.
      await sleep(150);
      assert.equal(server.stats().compressionReleases, before + 1);
    }
    assert.match(server.metrics(), /wsx_compression_releases_total 4\b/);
    client.close(1000);
    assert.equal(await withTimeout(closed, 'close'), 1000);
  });
});
