// RFC 6455 §5.5 (control frames), §5.5.2 (ping) and §5.5.3 (pong).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../src/protocol/errors.js';
import {
  assertFailed,
  client,
  clientFrame,
  closePayload,
  feed,
  feedBytewise,
  Op,
  server,
  serverFrame,
} from './helpers.js';

describe('RFC 6455 §5.5.2 ping', () => {
  for (const length of [0, 1, 4, 5, 124, 125]) {
    it(`a server answers a ${length}-byte ping with an unmasked pong of the same payload`, () => {
      const payload = Buffer.alloc(length);
      for (let i = 0; i < length; i++) payload[i] = (i * 7 + 1) & 0xff;
      const { conn, rec } = server();
      feed(conn, clientFrame(Op.Ping, payload));
      const frames = rec.frames;
      assert.equal(frames.length, 1);
      assert.deepEqual(
        [frames[0].opcode, frames[0].fin, frames[0].rsv, frames[0].masked],
        [Op.Pong, true, 0, false],
      );
      assert.ok(frames[0].payload.equals(payload));
      // The pong is queued before the event is reported.
      assert.deepEqual(
        rec.events.map((e) => e.type),
        ['write', 'ping'],
      );
      const ping = rec.events[1];
      assert.ok(ping.type === 'ping' && ping.payload.equals(payload));
    });
  }

  it('a client answers a ping with a masked pong of the same payload', () => {
    const { conn, rec } = client();
    feed(conn, serverFrame(Op.Ping, 'hello'));
    const [pong] = rec.frames;
    assert.equal(pong.opcode, Op.Pong);
    assert.equal(pong.masked, true);
    assert.equal(pong.payload.toString(), 'hello');
    assert.equal(rec.count('ping'), 1);
  });

  it('answers every ping, in order, whatever the split', () => {
    const wire = Buffer.concat(['a', 'bb', '', 'ccc'].map((p) => clientFrame(Op.Ping, p)));
    const { conn, rec } = server();
    feedBytewise(conn, wire);
    assert.deepEqual(
      rec.frames.map((f) => [f.opcode, f.payload.toString()]),
      [
        [Op.Pong, 'a'],
        [Op.Pong, 'bb'],
        [Op.Pong, ''],
        [Op.Pong, 'ccc'],
      ],
    );
    assert.equal(rec.count('ping'), 4);
  });

  it('the ping payload given to the event is not changed by later input', () => {
    const { conn, rec } = server();
    const chunk = clientFrame(Op.Ping, 'keep');
    conn.receive(chunk);
    chunk.fill(0);
    conn.receive(clientFrame(Op.Ping, 'next'));
    assert.equal(rec.frames[0].payload.toString(), 'keep');
  });

  it('does not answer a ping once a close frame was sent, but still reports it', () => {
    const { conn, rec } = server();
    conn.close(1000);
    feed(conn, clientFrame(Op.Ping, 'late'));
    assert.deepEqual(
      rec.frames.map((f) => f.opcode),
      [Op.Close],
    );
    assert.equal(rec.count('ping'), 1);
  });
});

describe('RFC 6455 §5.5.3 pong', () => {
  it('reports an unsolicited pong and writes nothing', () => {
    const { conn, rec } = server();
    feed(conn, clientFrame(Op.Pong, 'unsolicited'));
    assert.deepEqual(rec.summary(), [['pong', Buffer.from('unsolicited').toString('hex')]]);
    assert.equal(rec.written.length, 0);
  });

  it('reports an empty pong and a 125-byte pong', () => {
    const { conn, rec } = client();
    feed(conn, Buffer.concat([serverFrame(Op.Pong, ''), serverFrame(Op.Pong, Buffer.alloc(125, 1))]));
    assert.equal(rec.count('pong'), 2);
    assert.equal(rec.written.length, 0);
    assert.equal(rec.failures.length, 0);
  });
});

describe('RFC 6455 §5.5 control frame rules', () => {
  for (const opcode of [Op.Ping, Op.Pong, Op.Close]) {
    it(`fails with 1002 on a control frame (opcode ${opcode}) of 126 bytes, at its header`, () => {
      const { conn, rec } = server();
      const wire = clientFrame(opcode, Buffer.alloc(126, 0x41));
      feed(conn, wire.subarray(0, 8)); // 2 + 2 (16-bit length) + 4 (key): the header only
      assertFailed(rec, 1002, 'WSX_CONTROL_FRAME_TOO_LONG');
      assert.equal(rec.count('ping') + rec.count('pong') + rec.count('close'), 0);
    });

    it(`fails with 1002 on a fragmented control frame (opcode ${opcode})`, () => {
      const { conn, rec } = client();
      feed(conn, serverFrame(opcode, opcode === Op.Close ? closePayload(1000) : 'x', { fin: false }));
      assertFailed(rec, 1002, 'WSX_FRAGMENTED_CONTROL_FRAME');
      assert.equal(rec.count('ping') + rec.count('pong') + rec.count('close'), 0);
    });
  }

  it('fails with 1002 on a long control frame given with a 64-bit length', () => {
    const { conn, rec } = server();
    feed(conn, clientFrame(Op.Ping, Buffer.alloc(200), { lengthForm: 64 }));
    assertFailed(rec, 1002, 'WSX_CONTROL_FRAME_TOO_LONG');
  });

  it('accepts a 125-byte control frame given with a non-minimal 16-bit length', () => {
    const { conn, rec } = server();
    feed(conn, clientFrame(Op.Ping, Buffer.alloc(125, 2), { lengthForm: 16 }));
    assert.equal(rec.failures.length, 0);
    assert.equal(rec.frames[0].payload.length, 125);
  });
});

describe('sending control frames', () => {
  it('ping() and pong() write control frames; over 125 bytes is a UsageError', () => {
    const { conn, rec } = server();
    assert.equal(conn.ping(), true);
    assert.equal(conn.ping(Buffer.alloc(125, 9)), true);
    assert.equal(conn.pong(Buffer.from('x')), true);
    assert.throws(() => conn.ping(Buffer.alloc(126)), UsageError);
    assert.throws(() => conn.pong(Buffer.alloc(126)), UsageError);
    assert.deepEqual(
      rec.frames.map((f) => [f.opcode, f.fin, f.payload.length]),
      [
        [Op.Ping, true, 0],
        [Op.Ping, true, 125],
        [Op.Pong, true, 1],
      ],
    );
  });

  it('ping() returns false and writes nothing once a close frame was sent', () => {
    const { conn, rec } = client();
    conn.close();
    const before = rec.written.length;
    assert.equal(conn.ping(Buffer.from('x')), false);
    assert.equal(conn.pong(), false);
    assert.equal(rec.written.length, before);
  });
});
