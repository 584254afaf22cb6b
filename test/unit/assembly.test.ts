// Message assembly with unmasking folded in: a message whole in one chunk is unmasked in
// place and delivered as a view of the chunk; any other message is unmasked while it is
// copied into its own buffer. Frames are split at every position, on both sides of the
// SIMD kernel's threshold, as binary, text and fragmented messages, masked and unmasked.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Connection } from '../../src/protocol/connection.js';
import { CloseCode } from '../../src/protocol/errors.js';
import { client, clientFrame, feed, Op, prng, randomBytes, server, serverFrame } from './helpers.js';

/** Text of `length` bytes that mixes 1- to 4-byte characters, so cuts fall inside characters. */
function textOf(length: number): Buffer {
  const chars = ['a', 'é', '€', '𝄞', ' '];
  let text = '';
  for (let i = 0; Buffer.byteLength(text) < length; i++) text += chars[i % chars.length];
  return Buffer.from(text);
}

/** The messages a fresh server gets from `wire` cut at `cuts`; fails the test on a failure. */
function serverMessages(wire: Buffer, cuts: number[]): Array<{ data: Buffer; isBinary: boolean }> {
  const { conn, rec } = server();
  feed(conn, wire, cuts);
  assert.deepEqual(
    rec.failures.map((f) => f.code),
    [],
    `cuts ${cuts.join(',')}`,
  );
  return rec.messages;
}

describe('message assembly with unmasking', () => {
  for (const length of [1, 7, 126, 1100, 3000]) {
    it(`a masked ${length}-byte binary frame cut at every position gives the same message`, () => {
      const payload = randomBytes(length, prng(length));
      const wire = clientFrame(Op.Binary, payload);
      for (let cut = 1; cut < wire.length; cut++) {
        const messages = serverMessages(wire, [cut]);
        assert.equal(messages.length, 1, `cut at ${cut}`);
        assert.ok(messages[0].data.equals(payload), `cut at ${cut}`);
      }
    });
  }

  for (const length of [5, 130, 1500]) {
    it(`a masked ${length}-byte text frame of multi-byte characters cut at every position`, () => {
      const payload = textOf(length);
      const wire = clientFrame(Op.Text, payload);
      for (let cut = 1; cut < wire.length; cut++) {
        const messages = serverMessages(wire, [cut]);
        assert.equal(messages.length, 1);
        assert.equal(messages[0].isBinary, false);
        assert.ok(messages[0].data.equals(payload), `cut at ${cut}`);
      }
    });
  }

  it('a masked frame cut in three at many pairs of positions, with key phases in every combination', () => {
    const random = prng(77);
    const payload = randomBytes(1301, random);
    const wire = clientFrame(Op.Binary, payload, { mask: randomBytes(4, random) });
    for (let first = 1; first < wire.length; first += 7) {
      for (let second = first + 1; second < wire.length; second += 97) {
        const messages = serverMessages(wire, [first, second]);
        assert.ok(messages[0].data.equals(payload), `cuts at ${first}, ${second}`);
      }
    }
  });

  it('a fragmented masked message (three keys, text) cut at every position', () => {
    const random = prng(78);
    const text = textOf(2500);
    const parts = [text.subarray(0, 1030), text.subarray(1030, 1031), text.subarray(1031)];
    const wire = Buffer.concat([
      clientFrame(Op.Text, parts[0], { fin: false, mask: randomBytes(4, random) }),
      clientFrame(Op.Continuation, parts[1], { fin: false, mask: randomBytes(4, random) }),
      clientFrame(Op.Continuation, parts[2], { mask: randomBytes(4, random) }),
    ]);
    for (let cut = 1; cut < wire.length; cut++) {
      const messages = serverMessages(wire, [cut]);
      assert.equal(messages.length, 1);
      assert.ok(messages[0].data.equals(text), `cut at ${cut}`);
    }
  });

  it('an unmasked 3000-byte server frame cut at every position (client side)', () => {
    const payload = randomBytes(3000, prng(79));
    const wire = serverFrame(Op.Binary, payload);
    for (let cut = 1; cut < wire.length; cut++) {
      const { conn, rec } = client();
      feed(conn, wire, [cut]);
      assert.equal(rec.messages.length, 1);
      assert.ok(rec.messages[0].data.equals(payload), `cut at ${cut}`);
    }
  });

  it('a message whole in one chunk is delivered as a view of that chunk, unmasked', () => {
    for (const length of [0, 10, 5000]) {
      const payload = randomBytes(length, prng(80));
      const wire = Buffer.concat([clientFrame(Op.Binary, payload), clientFrame(Op.Binary, payload)]);
      const delivered: Buffer[] = [];
      const conn = new Connection('server', {
        write() {},
        messageReceived(data) {
          delivered.push(data);
        },
        pingReceived() {},
        pongReceived() {},
        closeReceived() {},
        failed(error) {
          throw error;
        },
        endTransport() {},
      });
      conn.receive(wire);
      assert.equal(delivered.length, 2);
      for (const data of delivered) {
        assert.ok(data.equals(payload));
        if (length > 0) assert.equal(data.buffer, wire.buffer, 'not a view of the chunk');
      }
    }
  });

  it('a message split across chunks gets a buffer of its own: later chunks cannot change it', () => {
    const payload = randomBytes(4000, prng(81));
    const wire = clientFrame(Op.Binary, payload);
    const chunks = [Buffer.from(wire.subarray(0, 1500)), Buffer.from(wire.subarray(1500))];
    const delivered: Buffer[] = [];
    const conn = new Connection('server', {
      write() {},
      messageReceived(data) {
        delivered.push(data);
      },
      pingReceived() {},
      pongReceived() {},
      closeReceived() {},
      failed(error) {
        throw error;
      },
      endTransport() {},
    });
    for (const chunk of chunks) conn.receive(chunk);
    for (const chunk of chunks) chunk.fill(0x55);
    assert.ok(delivered[0].equals(payload));
  });

  it('invalid UTF-8 in the first piece of a split masked text frame fails before the rest arrives', () => {
    const payload = Buffer.concat([textOf(2000), Buffer.from([0xc3, 0x28]), textOf(2000)]);
    const wire = clientFrame(Op.Text, payload);
    const { conn, rec } = server();
    conn.receive(Buffer.from(wire.subarray(0, 2100)));
    assert.equal(rec.failures.length, 1);
    assert.equal(rec.failures[0].closeCode, CloseCode.InvalidPayload);
  });
});
