// RFC 6455 §5.4 (fragmentation): reassembly, control frames between fragments, the
// continuation rules, maxFragments, and how Connection sends fragments.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assertFailed,
  client,
  clientFrame,
  closePayload,
  feed,
  feedBytewise,
  Op,
  prng,
  randomCuts,
  server,
  serverFrame,
} from './helpers.js';

describe('RFC 6455 §5.4 reassembly', () => {
  it('joins a text message sent in three fragments', () => {
    const { conn, rec } = server();
    feed(conn, clientFrame(Op.Text, 'Hel', { fin: false }));
    feed(conn, clientFrame(Op.Continuation, 'lo, ', { fin: false }));
    assert.equal(rec.messages.length, 0, 'no message before the final fragment');
    feed(conn, clientFrame(Op.Continuation, 'world'));
    assert.deepEqual(
      rec.messages.map((m) => [m.data.toString(), m.isBinary]),
      [['Hello, world', false]],
    );
    assert.equal(rec.failures.length, 0);
  });

  it('joins a binary message, and keeps the type of the first frame', () => {
    const { conn, rec } = client();
    feed(
      conn,
      Buffer.concat([
        serverFrame(Op.Binary, Buffer.from([0xff, 0xfe]), { fin: false }),
        serverFrame(Op.Continuation, Buffer.from([0x80]), { fin: false }),
        serverFrame(Op.Continuation, Buffer.from([0x00])),
      ]),
    );
    assert.equal(rec.messages.length, 1);
    assert.deepEqual([...rec.messages[0].data], [0xff, 0xfe, 0x80, 0x00]);
    assert.equal(rec.messages[0].isBinary, true);
  });

  it('accepts empty first, middle and last fragments', () => {
    const layouts = [
      ['', 'abc', ''],
      ['', '', ''],
      ['a', '', 'b'],
      ['', 'x'],
      ['x', ''],
    ];
    for (const parts of layouts) {
      const { conn, rec } = server();
      const wire = Buffer.concat(
        parts.map((p, i) =>
          clientFrame(i === 0 ? Op.Text : Op.Continuation, p, { fin: i === parts.length - 1 }),
        ),
      );
      feed(conn, wire);
      assert.equal(rec.messages.length, 1, JSON.stringify(parts));
      assert.equal(rec.messages[0].data.toString(), parts.join(''));
    }
  });

  it('a multi-byte character may be split across fragments', () => {
    const text = 'a€𝄞b';
    const utf8 = Buffer.from(text);
    for (let cut = 0; cut <= utf8.length; cut++) {
      for (let cut2 = cut; cut2 <= utf8.length; cut2++) {
        const { conn, rec } = server();
        feed(
          conn,
          Buffer.concat([
            clientFrame(Op.Text, utf8.subarray(0, cut), { fin: false }),
            clientFrame(Op.Continuation, utf8.subarray(cut, cut2), { fin: false }),
            clientFrame(Op.Continuation, utf8.subarray(cut2)),
          ]),
        );
        assert.equal(rec.failures.length, 0, `cuts ${cut}, ${cut2}`);
        assert.equal(rec.messages[0].data.toString(), text);
      }
    }
  });

  it('consecutive fragmented messages are kept apart', () => {
    const wire = Buffer.concat([
      clientFrame(Op.Text, 'one-', { fin: false }),
      clientFrame(Op.Continuation, 'a'),
      clientFrame(Op.Binary, 'two-', { fin: false }),
      clientFrame(Op.Continuation, 'b', { fin: false }),
      clientFrame(Op.Continuation, 'c'),
      clientFrame(Op.Text, 'three'),
    ]);
    for (const cuts of [[], randomCuts(wire.length, prng(3), 3)]) {
      const run = server();
      feed(run.conn, wire, cuts);
      assert.deepEqual(
        run.rec.messages.map((m) => [m.data.toString(), m.isBinary]),
        [
          ['one-a', false],
          ['two-bc', true],
          ['three', false],
        ],
      );
    }
  });

  it('reassembles large fragments fed in random splits', () => {
    const random = prng(11);
    const parts = [70000, 1, 0, 126, 65536, 3].map((n) => Buffer.alloc(n, n & 0xff));
    const wire = Buffer.concat(
      parts.map((p, i) =>
        clientFrame(i === 0 ? Op.Binary : Op.Continuation, p, { fin: i === parts.length - 1 }),
      ),
    );
    for (let run = 0; run < 10; run++) {
      const { conn, rec } = server();
      feed(conn, wire, randomCuts(wire.length, random, 5000));
      assert.equal(rec.messages.length, 1);
      assert.ok(rec.messages[0].data.equals(Buffer.concat(parts)));
    }
  });
});

describe('RFC 6455 §5.4 control frames between fragments', () => {
  it('answers a ping in the middle of a fragmented message at once', () => {
    const { conn, rec } = server();
    feed(conn, clientFrame(Op.Text, 'frag', { fin: false }));
    feed(conn, clientFrame(Op.Ping, 'mid'));
    assert.equal(rec.messages.length, 0);
    const frames = rec.frames;
    assert.deepEqual(
      frames.map((f) => [f.opcode, f.payload.toString()]),
      [[Op.Pong, 'mid']],
    );
    feed(conn, clientFrame(Op.Continuation, 'ment'));
    assert.deepEqual(
      rec.summary().map((e) => (e as unknown[])[0]),
      ['frame', 'ping', 'message'],
    );
    assert.equal(rec.messages[0].data.toString(), 'fragment');
  });

  it('reports pongs between fragments, and the message is unaffected', () => {
    const { conn, rec } = client();
    feed(
      conn,
      Buffer.concat([
        serverFrame(Op.Binary, 'a', { fin: false }),
        serverFrame(Op.Pong, 'p1'),
        serverFrame(Op.Continuation, 'b', { fin: false }),
        serverFrame(Op.Ping, 'p2'),
        serverFrame(Op.Pong, ''),
        serverFrame(Op.Continuation, 'c'),
      ]),
    );
    assert.deepEqual(
      rec.summary().map((e) => ((e as unknown[])[0] === 'frame' ? 'frame' : e)),
      [['pong', '7031'], 'frame', ['ping', '7032'], ['pong', ''], ['message', true, '616263']],
    );
  });

  it('a close frame between fragments ends the connection without delivering the partial message', () => {
    const { conn, rec } = server();
    feed(
      conn,
      Buffer.concat([
        clientFrame(Op.Text, 'partial', { fin: false }),
        clientFrame(Op.Close, closePayload(1000)),
        clientFrame(Op.Continuation, 'rest'),
      ]),
    );
    assert.equal(rec.messages.length, 0);
    assert.equal(rec.count('close'), 1);
    assert.equal(rec.failures.length, 0);
  });
});

describe('RFC 6455 §5.4 continuation rules', () => {
  it('fails with 1002 on a continuation frame without a message to continue', () => {
    for (const fin of [true, false]) {
      const { conn, rec } = server();
      feed(conn, clientFrame(Op.Continuation, 'orphan', { fin }));
      assertFailed(rec, 1002, 'WSX_UNEXPECTED_CONTINUATION');
    }
  });

  it('fails with 1002 on a continuation frame after a finished message', () => {
    const { conn, rec } = server();
    feed(conn, Buffer.concat([clientFrame(Op.Text, 'done'), clientFrame(Op.Continuation, 'more')]));
    assert.equal(rec.messages.length, 1);
    assertFailed(rec, 1002, 'WSX_UNEXPECTED_CONTINUATION');
  });

  it('fails with 1002 on a continuation after a finished fragmented message', () => {
    const { conn, rec } = client();
    feed(
      conn,
      Buffer.concat([
        serverFrame(Op.Text, 'a', { fin: false }),
        serverFrame(Op.Continuation, 'b'),
        serverFrame(Op.Continuation, 'c'),
      ]),
    );
    assert.equal(rec.messages.length, 1);
    assertFailed(rec, 1002, 'WSX_UNEXPECTED_CONTINUATION');
  });

  for (const [name, opcode] of [
    ['text', Op.Text],
    ['binary', Op.Binary],
  ] as const) {
    it(`fails with 1002 on a new ${name} frame inside a fragmented message`, () => {
      for (const fin of [true, false]) {
        const { conn, rec } = server();
        feed(conn, clientFrame(Op.Binary, 'start', { fin: false }));
        feed(conn, clientFrame(opcode, 'intruder', { fin }));
        assertFailed(rec, 1002, 'WSX_EXPECTED_CONTINUATION');
        assert.equal(rec.messages.length, 0);
      }
    });
  }

  it('fails on the intruding frame’s header alone, before its payload', () => {
    const { conn, rec } = server();
    feed(conn, clientFrame(Op.Text, 'start', { fin: false }));
    feed(conn, clientFrame(Op.Text, 'x'.repeat(50)).subarray(0, 6));
    assertFailed(rec, 1002, 'WSX_EXPECTED_CONTINUATION');
  });
});

describe('maxFragments', () => {
  function fragmented(count: number): Buffer {
    return Buffer.concat(
      Array.from({ length: count }, (_, i) =>
        clientFrame(i === 0 ? Op.Binary : Op.Continuation, 'x', { fin: i === count - 1 }),
      ),
    );
  }

  it('accepts a message of exactly maxFragments frames', () => {
    const { conn, rec } = server({ maxFragments: 3 });
    feed(conn, fragmented(3));
    assert.equal(rec.failures.length, 0);
    assert.equal(rec.messages[0].data.toString(), 'xxx');
  });

  it('fails with 1008 on frame maxFragments + 1, at its header', () => {
    const { conn, rec } = server({ maxFragments: 3 });
    const wire = fragmented(5);
    const frameLength = clientFrame(Op.Continuation, 'x').length;
    // Three whole frames, then only the 6-byte header (with mask key) of the fourth.
    feed(conn, wire.subarray(0, 3 * frameLength + 6));
    assertFailed(rec, 1008, 'WSX_TOO_MANY_FRAGMENTS');
    assert.equal(rec.messages.length, 0);
  });

  it('counts per message: the count starts again with each message', () => {
    const { conn, rec } = server({ maxFragments: 3 });
    feed(conn, Buffer.concat([fragmented(3), fragmented(3), fragmented(1), fragmented(2)]));
    assert.equal(rec.failures.length, 0);
    assert.equal(rec.messages.length, 4);
  });

  it('control frames between fragments do not count', () => {
    const { conn, rec } = server({ maxFragments: 2 });
    feed(
      conn,
      Buffer.concat([
        clientFrame(Op.Text, 'a', { fin: false }),
        clientFrame(Op.Ping, ''),
        clientFrame(Op.Pong, ''),
        clientFrame(Op.Ping, ''),
        clientFrame(Op.Continuation, 'b'),
      ]),
    );
    assert.equal(rec.failures.length, 0);
    assert.equal(rec.messages[0].data.toString(), 'ab');
  });

  it('many tiny fragments under the default limit are accepted (byte by byte)', () => {
    const { conn, rec } = server();
    const wire = fragmented(500);
    feedBytewise(conn, wire);
    assert.equal(rec.failures.length, 0);
    assert.equal(rec.messages[0].data.length, 500);
  });
});

describe('RFC 6455 §5.4 sending fragments', () => {
  it('sends the type on the first fragment and continuations after, with control frames between', () => {
    const { conn, rec } = server();
    assert.equal(conn.sendFragment(false, 'a', false), true);
    conn.ping(Buffer.from('p'));
    conn.sendFragment(false, Buffer.from('b'), false);
    conn.sendFragment(false, 'c', true);
    conn.sendFragment(true, Buffer.from([1]), true);
    conn.sendFragment(true, Buffer.from([2]), false);
    conn.sendFragment(true, Buffer.from([3]), true);
    conn.sendText('whole');
    assert.deepEqual(
      rec.frames.map((f) => [f.opcode, f.fin, f.payload.toString('hex')]),
      [
        [Op.Text, false, '61'],
        [Op.Ping, true, '70'],
        [Op.Continuation, false, '62'],
        [Op.Continuation, true, '63'],
        [Op.Binary, true, '01'],
        [Op.Binary, false, '02'],
        [Op.Continuation, true, '03'],
        [Op.Text, true, '77686f6c65'],
      ],
    );
  });

  it('what one Connection sends as fragments, another reassembles', () => {
    const sender = client();
    sender.conn.sendFragment(false, 'Zwei ', false);
    sender.conn.sendFragment(false, Buffer.from('€').subarray(0, 2), false);
    sender.conn.sendFragment(false, Buffer.from('€').subarray(2), true);
    const receiver = server();
    feed(receiver.conn, sender.rec.written);
    assert.equal(receiver.rec.failures.length, 0);
    assert.equal(receiver.rec.messages[0].data.toString(), 'Zwei €');
  });
});
