// Connection limits (SECURITY.md): maxMessageSize and maxFrameSize fail with 1009 as soon
// as a frame header announces too much — before any of its payload is read.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Connection } from '../../src/protocol/connection.js';
import { DEFAULT_LIMITS, resolveLimits } from '../../src/protocol/limits.js';
import { assertFailed, client, clientFrame, feed, Op, Recorder, server, serverFrame } from './helpers.js';

describe('resolveLimits', () => {
  it('gives resolved limits back as they are, so the connections of a server share one object', () => {
    const limits = resolveLimits({ maxMessageSize: 1000 });
    assert.equal(resolveLimits(limits), limits);
    assert.ok(Object.isFrozen(limits));
    // A plain object with the same fields is resolved (and checked) afresh.
    const copy = { ...limits };
    assert.notEqual(resolveLimits(copy), copy);
    assert.throws(() => resolveLimits({ ...limits, maxFragments: 0 }), RangeError);
  });

  it('a connection checks its limits when made, before any byte arrives', () => {
    assert.throws(() => new Connection('server', new Recorder(), { maxMessageSize: -1 }), RangeError);
  });

  it('fills in the defaults', () => {
    assert.deepEqual(resolveLimits(), DEFAULT_LIMITS);
    assert.deepEqual(DEFAULT_LIMITS, {
      maxMessageSize: 16 * 1024 * 1024,
      maxFrameSize: 16 * 1024 * 1024,
      maxFragments: 131_072,
    });
  });

  it('maxFrameSize follows maxMessageSize and never exceeds it', () => {
    assert.equal(resolveLimits({ maxMessageSize: 1000 }).maxFrameSize, 1000);
    assert.equal(resolveLimits({ maxMessageSize: 1000, maxFrameSize: 10 }).maxFrameSize, 10);
    assert.equal(resolveLimits({ maxMessageSize: 1000, maxFrameSize: 5000 }).maxFrameSize, 1000);
  });

  it('refuses limits that are not positive integers, in Connection too', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => resolveLimits({ maxMessageSize: bad }), RangeError, `maxMessageSize ${bad}`);
      // An infinite maxFrameSize just means "as large as a message".
      if (bad !== Number.POSITIVE_INFINITY) {
        assert.throws(() => resolveLimits({ maxFrameSize: bad }), RangeError, `maxFrameSize ${bad}`);
      }
      assert.throws(() => resolveLimits({ maxFragments: bad }), RangeError, `maxFragments ${bad}`);
      assert.throws(() => new Connection('server', new Recorder(), { maxMessageSize: bad }), RangeError);
    }
  });
});

describe('maxMessageSize', () => {
  it('accepts a message of exactly maxMessageSize bytes', () => {
    const { conn, rec } = server({ maxMessageSize: 100 });
    feed(conn, clientFrame(Op.Binary, Buffer.alloc(100)));
    assert.equal(rec.failures.length, 0);
    assert.equal(rec.messages[0].data.length, 100);
  });

  for (const [name, length] of [
    ['one byte over', 101],
    ['16-bit length', 60000],
    ['64-bit length', 2 ** 40],
  ] as const) {
    it(`fails with 1009 on the frame header alone (${name})`, () => {
      const { conn, rec } = server({ maxMessageSize: 100 });
      const header = clientFrame(Op.Binary, '', { declaredLength: BigInt(length) });
      feed(conn, header); // the header announces the length; no payload follows
      assertFailed(rec, 1009);
      assert.ok(['WSX_MESSAGE_TOO_BIG', 'WSX_FRAME_TOO_BIG'].includes(rec.failures[0].code));
      assert.equal(rec.messages.length, 0);
    });
  }

  it('fails on a fragmented message over the limit at the header of the frame that crosses it', () => {
    const { conn, rec } = server({ maxMessageSize: 100 });
    feed(conn, clientFrame(Op.Text, 'x'.repeat(60), { fin: false }));
    feed(conn, clientFrame(Op.Continuation, 'y'.repeat(40), { fin: false }));
    assert.equal(rec.failures.length, 0, 'exactly 100 bytes so far');
    feed(conn, clientFrame(Op.Continuation, 'z', { declaredLength: 1n }).subarray(0, 6));
    assertFailed(rec, 1009, 'WSX_MESSAGE_TOO_BIG');
    assert.equal(rec.messages.length, 0);
  });

  it('accepts a fragmented message of exactly maxMessageSize, with empty fragments', () => {
    const { conn, rec } = client({ maxMessageSize: 100 });
    feed(
      conn,
      Buffer.concat([
        serverFrame(Op.Binary, Buffer.alloc(50), { fin: false }),
        serverFrame(Op.Continuation, '', { fin: false }),
        serverFrame(Op.Continuation, Buffer.alloc(50), { fin: false }),
        serverFrame(Op.Continuation, ''),
      ]),
    );
    assert.equal(rec.failures.length, 0);
    assert.equal(rec.messages[0].data.length, 100);
  });

  it('counts each message on its own', () => {
    const { conn, rec } = server({ maxMessageSize: 100 });
    for (let i = 0; i < 5; i++) {
      feed(conn, clientFrame(Op.Binary, Buffer.alloc(60), { fin: false }));
      feed(conn, clientFrame(Op.Continuation, Buffer.alloc(40)));
    }
    assert.equal(rec.failures.length, 0);
    assert.equal(rec.messages.length, 5);
  });

  it('control frames between fragments do not count toward the message', () => {
    const { conn, rec } = server({ maxMessageSize: 100 });
    feed(
      conn,
      Buffer.concat([
        clientFrame(Op.Binary, Buffer.alloc(100), { fin: false }),
        clientFrame(Op.Ping, Buffer.alloc(125)),
        clientFrame(Op.Pong, Buffer.alloc(125)),
        clientFrame(Op.Continuation, ''),
      ]),
    );
    assert.equal(rec.failures.length, 0);
    assert.equal(rec.messages[0].data.length, 100);
  });

  it('a client applies the limit to what the server sends', () => {
    const { conn, rec } = client({ maxMessageSize: 10 });
    feed(conn, serverFrame(Op.Text, '', { declaredLength: 11n }));
    assertFailed(rec, 1009);
  });
});

describe('maxFrameSize', () => {
  it('fails with 1009 (FrameTooBigError) on a frame over maxFrameSize, at its header', () => {
    const { conn, rec } = server({ maxMessageSize: 1000, maxFrameSize: 10 });
    feed(conn, clientFrame(Op.Binary, '', { declaredLength: 11n }));
    assertFailed(rec, 1009, 'WSX_FRAME_TOO_BIG');
  });

  it('accepts a message over maxFrameSize split into frames of at most maxFrameSize', () => {
    const { conn, rec } = server({ maxMessageSize: 1000, maxFrameSize: 10 });
    const wire = Buffer.concat(
      Array.from({ length: 100 }, (_, i) =>
        clientFrame(i === 0 ? Op.Binary : Op.Continuation, Buffer.alloc(10, i), { fin: i === 99 }),
      ),
    );
    feed(conn, wire);
    assert.equal(rec.failures.length, 0);
    assert.equal(rec.messages[0].data.length, 1000);
  });

  it('a continuation frame over maxFrameSize fails too', () => {
    const { conn, rec } = server({ maxMessageSize: 1000, maxFrameSize: 10 });
    feed(conn, clientFrame(Op.Binary, Buffer.alloc(10), { fin: false }));
    feed(conn, clientFrame(Op.Continuation, '', { declaredLength: 11n }));
    assertFailed(rec, 1009, 'WSX_FRAME_TOO_BIG');
  });

  it('control frames are bounded by 125 bytes, not by maxFrameSize', () => {
    const { conn, rec } = server({ maxMessageSize: 10 });
    feed(conn, clientFrame(Op.Ping, Buffer.alloc(125)));
    assert.equal(rec.failures.length, 0);
    assert.equal(rec.frames[0].payload.length, 125);
  });
});
