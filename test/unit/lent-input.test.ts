// Connection.receiveLent: the caller reuses the chunk's memory once the call returns (a
// binding's read buffer), so every message, held byte and kept piece must be a copy. Each
// case feeds through one scratch buffer that is overwritten after every call, then checks
// what was delivered against what was sent. Every case runs twice: with a scratch of its
// own, and with the masking kernel's read memory, where frames are unmasked where they lie.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { constants, deflateRawSync } from 'node:zlib';
import type { Connection } from '../../src/protocol/connection.js';
import { kernelReadMemory } from '../../src/protocol/mask.js';
import { Harness, params } from '../deflate/helpers.js';
import { client, clientFrame, Op, prng, randomBytes, randomCuts, server, serverFrame } from './helpers.js';

/** A server agreed to permessage-deflate, and the buffers it delivers themselves (the harness records copies). */
function deflateServer(): { harness: Harness; conn: Connection; delivered: Buffer[] } {
  const harness = new Harness('server', params({ remoteNoContextTakeover: true }));
  const delivered: Buffer[] = [];
  const conn = harness.connection;
  const events = (
    conn as unknown as { events: { messageReceived: (data: Buffer, isBinary: boolean) => void } }
  ).events;
  events.messageReceived = (message) => delivered.push(message);
  return { harness, conn, delivered };
}

const KERNEL_MEMORY = kernelReadMemory();

for (const inKernel of [false, true]) {
  /**
   * Feeds `data` cut at `cuts` through one reused scratch, scribbled over after each call;
   * in the kernel's 64 KiB read memory, reads are at most that long.
   */
  const feedLent = (conn: Connection, data: Uint8Array, cuts: readonly number[] = []): void => {
    const scratch = inKernel ? KERNEL_MEMORY! : Buffer.alloc(data.length);
    let start = 0;
    for (const cut of [...cuts, data.length]) {
      for (let from = start; from < cut || from === start; from += scratch.length) {
        const to = Math.min(cut, from + scratch.length);
        scratch.set(data.subarray(from, to));
        conn.receiveLent(scratch.subarray(0, to - from));
        scratch.fill(0xa5);
        if (to === cut) break;
      }
      start = cut;
    }
  };

  /** The delivered buffers themselves (the recorder keeps copies, which would hide a view). */
  function capture(rec: ReturnType<typeof server>['rec']): Buffer[] {
    const delivered: Buffer[] = [];
    const original = rec.messageReceived.bind(rec);
    rec.messageReceived = (data, isBinary) => {
      delivered.push(data);
      original(data, isBinary);
    };
    return delivered;
  }

  const SIZES = [0, 1, 3, 32, 125, 126, 127, 200, 4096, 65_535, 65_536, 70_000];

  function payloads(random: () => number): Buffer[] {
    return SIZES.map((size) => randomBytes(size, random));
  }

  describe(`Connection.receiveLent, ${inKernel ? "in the masking kernel's read memory" : 'from a buffer'}`, () => {
    if (inKernel) assert.notEqual(KERNEL_MEMORY, null, 'this Node runs WebAssembly SIMD');
    it('delivers whole masked messages of every size intact after the chunk is reused', () => {
      const random = prng(7);
      const sent = payloads(random);
      const { conn, rec } = server();
      const delivered = capture(rec);
      feedLent(conn, Buffer.concat(sent.map((payload) => clientFrame(Op.Binary, payload))));
      assert.equal(rec.failures.length, 0);
      assert.deepEqual(delivered, sent);
    });

    it('keeps messages intact across any split, text and binary, fragmented or not', () => {
      const random = prng(11);
      for (let round = 0; round < 20; round++) {
        const sent = payloads(random).map((bytes, index) =>
          index % 2 === 0 ? bytes : Buffer.from(bytes.toString('hex')),
        );
        const frames = sent.flatMap((payload, index) => {
          const opcode = index % 2 === 0 ? Op.Binary : Op.Text;
          if (payload.length < 4 || index % 3 !== 0) return [clientFrame(opcode, payload)];
          // In three fragments, one of them empty.
          const third = Math.floor(payload.length / 3);
          return [
            clientFrame(opcode, payload.subarray(0, third), { fin: false }),
            clientFrame(Op.Continuation, payload.subarray(third, third), { fin: false }),
            clientFrame(Op.Continuation, payload.subarray(third)),
          ];
        });
        const wire = Buffer.concat(frames);
        const { conn, rec } = server();
        const delivered = capture(rec);
        feedLent(conn, wire, randomCuts(wire.length, random, 3000));
        assert.equal(rec.failures.length, 0);
        assert.deepEqual(delivered, sent);
      }
    });

    it('a message alone in its read keeps only its own bytes; messages of one read share one copy', () => {
      const random = prng(19);
      // Buffers from half of Node's pool size up get memory of their own (smaller ones are cut
      // from the pool, 8 KiB in Node 20 and 64 KiB from Node 24 on). Room left in the slab of an
      // earlier read (at most 64 KiB) takes the first few.
      const own = Math.max(4096, Buffer.poolSize >>> 1);
      const alone = [...Array.from({ length: 40 }, () => own), own + 5000, 65_000].map((size) =>
        randomBytes(size, random),
      );
      const { conn, rec } = server();
      const delivered = capture(rec);
      for (const payload of alone) feedLent(conn, clientFrame(Op.Binary, payload));
      const pair = [randomBytes(5000, random), randomBytes(6000, random)];
      feedLent(conn, Buffer.concat(pair.map((payload) => clientFrame(Op.Binary, payload))));
      assert.equal(rec.failures.length, 0);
      assert.deepEqual(delivered, [...alone, ...pair]);
      for (const message of delivered.slice(20, alone.length)) {
        assert.equal(
          message.buffer.byteLength,
          message.length,
          `a ${message.length} B message keeps only itself`,
        );
      }
      const [first, second] = delivered.slice(alone.length);
      assert.equal(first!.buffer, second!.buffer, 'the two messages of one read share one allocation');
    });

    it('on a client, unmasked messages (kept as views when owned) are copied too', () => {
      const random = prng(13);
      const sent = payloads(random);
      const wire = Buffer.concat(sent.map((payload) => serverFrame(Op.Binary, payload)));
      for (const cuts of [[], randomCuts(wire.length, random, 5000)]) {
        const { conn, rec } = client();
        const delivered = capture(rec);
        feedLent(conn, wire, cuts);
        assert.equal(rec.failures.length, 0);
        assert.deepEqual(delivered, sent);
      }
    });

    it('keeps what a handler held, as a copy, and reads it on release', () => {
      const { conn, rec } = server();
      const delivered = capture(rec);
      const original = rec.messageReceived.bind(rec);
      let holds = 0;
      rec.messageReceived = (data, isBinary) => {
        original(data, isBinary);
        if (holds++ === 0) conn.holdInput();
      };
      const sent = ['first', 'second', 'third'].map((text) => Buffer.from(text.repeat(50)));
      feedLent(conn, Buffer.concat(sent.map((payload) => clientFrame(Op.Text, payload))));
      assert.equal(rec.messages.length, 1);
      feedLent(conn, clientFrame(Op.Text, 'fourth')); // arrives while held
      conn.releaseInput();
      assert.equal(rec.failures.length, 0);
      assert.deepEqual(delivered.map(String), [...sent.map(String), 'fourth']);
    });

    it('delivers inflated messages intact, each inflated piece copied once from the inflater', () => {
      const random = prng(17);
      const sent = [70_000, 5_000, 300].map((size) =>
        Buffer.from(Array.from({ length: size }, () => 'abcdefgh'[Math.floor(random() * 8)]).join('')),
      );
      const { harness, conn, delivered } = deflateServer();
      const wire = Buffer.concat(
        sent.map((payload) => {
          const compressed = deflateRawSync(payload, { finishFlush: constants.Z_SYNC_FLUSH });
          return clientFrame(Op.Binary, compressed.subarray(0, compressed.length - 4), { rsv: 4 });
        }),
      );
      feedLent(conn, wire, randomCuts(wire.length, random, 700));
      assert.equal(harness.failure, null);
      assert.deepEqual(delivered, sent);
    });

    it('copies a compressed message of stored blocks, whose pieces are views of the payload', () => {
      const data = Buffer.from('stored, not compressed: taken out of the frame as it is');
      const stored = Buffer.concat([
        Buffer.from([
          0x00,
          data.length & 0xff,
          data.length >> 8,
          ~data.length & 0xff,
          (~data.length >> 8) & 0xff,
        ]),
        data,
        Buffer.from([0x00]),
      ]);
      const { harness, conn, delivered } = deflateServer();
      const wire = Buffer.concat([
        clientFrame(Op.Text, stored, { rsv: 4 }),
        clientFrame(Op.Text, stored, { rsv: 4 }),
      ]);
      feedLent(conn, wire);
      assert.equal(harness.failure, null);
      assert.deepEqual(delivered.map(String), [String(data), String(data)]);
    });
  });
}
