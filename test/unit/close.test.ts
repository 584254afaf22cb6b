// RFC 6455 §5.5.1 (close frames) and §7 (closing the connection): close codes and reasons,
// the closing handshake for each role, failing the connection, and what is reported after.
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { describe, it } from 'node:test';
import {
  encodeClosePayload,
  isValidWireCloseCode,
  MAX_CLOSE_REASON_BYTES,
  parseClosePayload,
  validateCloseToSend,
} from '../../src/protocol/close.js';
import {
  InternalError,
  InvalidCloseCodeError,
  InvalidClosePayloadError,
  InvalidCloseReasonError,
  TooManyFragmentsError,
  UsageError,
} from '../../src/protocol/errors.js';
import {
  assertFailed,
  client,
  clientFrame,
  closeOf,
  closePayload,
  feed,
  Op,
  server,
  serverFrame,
} from './helpers.js';

/** RFC 6455 §7.4 and the IANA registry: what may appear in a close frame. */
function referenceValid(code: number): boolean {
  if (code >= 3000 && code <= 4999) return true;
  return [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014].includes(code);
}

const VALID_CODES = [
  1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999,
];
const INVALID_CODES = [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];

describe('RFC 6455 §5.5.1 close payloads', () => {
  it('isValidWireCloseCode agrees with the registry on every 16-bit code', () => {
    for (let code = 0; code <= 0xffff; code++) {
      assert.equal(isValidWireCloseCode(code), referenceValid(code), `code ${code}`);
    }
  });

  it('an empty payload means no status: 1005', () => {
    assert.deepEqual(parseClosePayload(Buffer.alloc(0)), { code: 1005, reason: '' });
  });

  it('a 1-byte payload is refused', () => {
    for (const b of [0x03, 0xe8, 0x00]) {
      assert.throws(() => parseClosePayload(Buffer.from([b])), InvalidClosePayloadError);
    }
  });

  it('reads valid codes and UTF-8 reasons', () => {
    for (const code of VALID_CODES) {
      assert.deepEqual(parseClosePayload(closePayload(code)), { code, reason: '' });
      assert.deepEqual(parseClosePayload(closePayload(code, 'bye ✓')), { code, reason: 'bye ✓' });
    }
    const longest = `${'é'.repeat(61)}x`;
    assert.deepEqual(parseClosePayload(closePayload(1000, longest)), { code: 1000, reason: longest });
  });

  it('refuses invalid codes', () => {
    for (const code of INVALID_CODES) {
      assert.throws(() => parseClosePayload(closePayload(code, 'r')), InvalidCloseCodeError, `code ${code}`);
    }
  });

  it('refuses reasons that are not UTF-8', () => {
    for (const reason of [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0x61, 0xe2, 0x82], [0xc0, 0xaf]]) {
      assert.throws(
        () => parseClosePayload(closePayload(1000, Uint8Array.from(reason))),
        InvalidCloseReasonError,
      );
    }
  });

  it('validateCloseToSend refuses what may not go on the wire', () => {
    for (const code of [...INVALID_CODES, 1000.5, Number.NaN]) {
      assert.throws(() => validateCloseToSend(code, ''), UsageError, `code ${code}`);
    }
    assert.equal(validateCloseToSend(1000, '€'.repeat(41)).length, 123);
    assert.throws(() => validateCloseToSend(1000, `${'€'.repeat(41)}x`), UsageError);
    assert.equal(MAX_CLOSE_REASON_BYTES, 123);
  });

  it('encodeClosePayload writes the code big-endian then the reason; 1005 is empty', () => {
    assert.deepEqual([...encodeClosePayload(1000, Buffer.from('ok'))], [0x03, 0xe8, 0x6f, 0x6b]);
    assert.deepEqual([...encodeClosePayload(4999, Buffer.alloc(0))], [0x13, 0x87]);
    assert.equal(encodeClosePayload(1005, Buffer.from('ignored')).length, 0);
  });
});

describe('RFC 6455 §7 receiving a close frame', () => {
  it('a server reports the close, echoes its code and reason, then ends the transport', () => {
    const { conn, rec } = server();
    feed(conn, clientFrame(Op.Close, closePayload(1001, 'going')));
    assert.deepEqual(
      rec.events.map((e) => e.type),
      ['close', 'write', 'endTransport'],
    );
    const [echo] = rec.frames;
    assert.equal(echo.masked, false);
    assert.deepEqual(closeOf(echo), { code: 1001, reason: 'going' });
    assert.deepEqual(rec.summary()[0], ['close', 1001, 'going']);
    assert.equal(conn.state, 'closed');
    assert.equal(conn.wasClean, true);
    assert.deepEqual(conn.closeResult(), { code: 1001, reason: 'going', wasClean: true });
  });

  for (const code of VALID_CODES) {
    it(`echoes a received ${code}, with no reason when it came with none`, () => {
      const { conn, rec } = server();
      feed(conn, clientFrame(Op.Close, closePayload(code)));
      assert.deepEqual([...rec.frames[0].payload], [code >> 8, code & 0xff]);
      assert.equal(rec.failures.length, 0);
    });
  }

  it('echoes the reason byte for byte, up to the longest one (123 bytes)', () => {
    for (const reason of ['bye-é', `${'é'.repeat(61)}x`, '€'.repeat(41)]) {
      const { conn, rec } = server();
      feed(conn, clientFrame(Op.Close, closePayload(4000, reason)));
      assert.deepEqual(rec.frames[0].payload, closePayload(4000, reason));
      assert.deepEqual(conn.closeSent, { code: 4000, reason });
    }
  });

  it('answers with the code and reason the application passes to close() when it hears of the close', () => {
    for (const { conn, rec } of [server(), client()]) {
      rec.onClose = () => conn.close(4001, 'mine');
      feed(
        conn,
        conn.role === 'server'
          ? clientFrame(Op.Close, closePayload(4000, 'bye'))
          : serverFrame(Op.Close, closePayload(4000, 'bye')),
      );
      assert.equal(rec.frames.length, 1, 'one close frame');
      assert.deepEqual(closeOf(rec.frames[0]), { code: 4001, reason: 'mine' });
      assert.equal(rec.endTransports, conn.role === 'server' ? 1 : 0);
      assert.deepEqual(conn.closeResult(), { code: 4000, reason: 'bye', wasClean: true });
    }
  });

  it('refuses data sent once the peer’s close has arrived, before the reply', () => {
    const { conn, rec } = server();
    const sends: boolean[] = [];
    rec.onClose = () => sends.push(conn.sendText('late'), conn.sendBinary(Buffer.from('late')), conn.ping());
    feed(conn, clientFrame(Op.Close, closePayload(1000)));
    assert.deepEqual(sends, [false, false, false]);
    assert.deepEqual(
      rec.frames.map((f) => f.opcode),
      [Op.Close],
    );
  });

  it('a handler that throws on the close makes the reply 1011, sent once', () => {
    const { conn, rec } = server();
    rec.onClose = () => {
      throw new Error('handler bug');
    };
    feed(conn, clientFrame(Op.Close, closePayload(1000, 'bye')));
    assertFailed(rec, 1011, 'WSX_INTERNAL');
    assert.equal(rec.frames.length, 1, 'one close frame');
    assert.equal(rec.endTransports, 1);
  });

  it('answers an empty close frame with an empty close frame; the result is 1005', () => {
    const { conn, rec } = server();
    feed(conn, clientFrame(Op.Close, ''));
    assert.equal(rec.frames[0].opcode, Op.Close);
    assert.equal(rec.frames[0].payload.length, 0);
    assert.deepEqual(rec.summary()[0], ['close', 1005, '']);
    assert.deepEqual(conn.closeResult(), { code: 1005, reason: '', wasClean: true });
  });

  it('a client echoes the close (masked) and waits for the server to end the transport', () => {
    const { conn, rec } = client();
    feed(conn, serverFrame(Op.Close, closePayload(1000, 'bye')));
    assert.deepEqual(
      rec.events.map((e) => e.type),
      ['close', 'write'],
    );
    assert.equal(rec.frames[0].masked, true);
    assert.deepEqual(closeOf(rec.frames[0]), { code: 1000, reason: 'bye' });
    assert.equal(conn.state, 'closed');
    assert.deepEqual(conn.closeResult(), { code: 1000, reason: 'bye', wasClean: true });
  });

  for (const code of INVALID_CODES) {
    it(`fails with 1002 on a received close code ${code}`, () => {
      const { conn, rec } = server();
      feed(conn, clientFrame(Op.Close, closePayload(code)));
      assertFailed(rec, 1002, 'WSX_INVALID_CLOSE_CODE');
      assert.equal(rec.count('close'), 0);
      assert.equal(rec.frames.length, 1, 'one close frame only');
      assert.equal(conn.closeResult().code, 1002);
      assert.equal(conn.closeResult().wasClean, false);
    });
  }

  it('fails with 1002 on a 1-byte close payload', () => {
    const { conn, rec } = client();
    feed(conn, serverFrame(Op.Close, Buffer.from([0x03])));
    assertFailed(rec, 1002, 'WSX_INVALID_CLOSE_PAYLOAD');
  });

  it('fails with 1007 on a close reason that is not UTF-8', () => {
    const { conn, rec } = server();
    feed(conn, clientFrame(Op.Close, closePayload(1000, Uint8Array.from([0xce, 0xba, 0xe1, 0xbd]))));
    assertFailed(rec, 1007, 'WSX_INVALID_CLOSE_REASON');
  });

  it('discards input after a close frame: in the same chunk and in later ones', () => {
    const { conn, rec } = server();
    feed(
      conn,
      Buffer.concat([
        clientFrame(Op.Text, 'before'),
        clientFrame(Op.Close, closePayload(1000)),
        clientFrame(Op.Text, 'after'),
        clientFrame(Op.Ping, 'after'),
      ]),
    );
    feed(conn, clientFrame(Op.Text, 'later'));
    feed(conn, Buffer.from([0xff, 0xff, 0xff])); // garbage: not even a violation any more
    assert.deepEqual(
      rec.messages.map((m) => m.data.toString()),
      ['before'],
    );
    assert.equal(rec.count('ping'), 0);
    assert.equal(rec.failures.length, 0);
    assert.deepEqual(
      rec.frames.map((f) => f.opcode),
      [Op.Close],
    );
    assert.equal(conn.canRead(), false);
  });
});

describe('RFC 6455 §7 starting the closing handshake', () => {
  it('a server sends close, writes nothing more, and ends the transport when the answer comes', () => {
    const { conn, rec } = server();
    conn.close(4000, 'app');
    assert.deepEqual(closeOf(rec.frames[0]), { code: 4000, reason: 'app' });
    assert.equal(conn.state, 'closing');
    assert.equal(conn.canWrite(), false);
    assert.equal(conn.sendText('no'), false);
    assert.equal(conn.sendBinary(Buffer.from('no')), false);
    assert.equal(conn.sendFragment(false, 'no', true), false);
    assert.equal(conn.ping(), false);
    conn.close(1000); // a second close does nothing
    assert.equal(rec.frames.length, 1);
    assert.equal(rec.endTransports, 0);

    // Data still arriving before the peer's close is delivered (§7.1.2 only stops sending).
    feed(conn, clientFrame(Op.Text, 'in flight'));
    assert.equal(rec.messages.length, 1);

    feed(conn, clientFrame(Op.Close, closePayload(4000)));
    assert.equal(rec.frames.length, 1, 'no second close frame');
    assert.deepEqual(
      rec.events.slice(-2).map((e) => e.type),
      ['close', 'endTransport'],
    );
    assert.equal(conn.state, 'closed');
    assert.deepEqual(conn.closeResult(), { code: 4000, reason: '', wasClean: true });
  });

  it('a client sends a masked close and does not end the transport when the answer comes', () => {
    const { conn, rec } = client();
    conn.close(1000, 'done');
    assert.equal(rec.frames[0].masked, true);
    assert.deepEqual(closeOf(rec.frames[0]), { code: 1000, reason: 'done' });
    feed(conn, serverFrame(Op.Close, closePayload(1000)));
    assert.equal(rec.frames.length, 1);
    assert.equal(rec.endTransports, 0);
    assert.equal(conn.wasClean, true);
  });

  it('close() without a code sends an empty close frame (the peer sees 1005); close(1000) sends 1000', () => {
    const a = server();
    a.conn.close();
    assert.equal(a.rec.frames[0].opcode, Op.Close);
    assert.equal(a.rec.frames[0].payload.length, 0);
    const b = server();
    b.conn.close(1000);
    assert.deepEqual(closeOf(b.rec.frames[0]), { code: 1000, reason: '' });
  });

  it('close() refuses codes and reasons that cannot be sent, and writes nothing', () => {
    const { conn, rec } = server();
    for (const code of [1004, 1005, 1006, 1015, 999, 5000]) assert.throws(() => conn.close(code), UsageError);
    assert.throws(() => conn.close(1000, 'x'.repeat(124)), UsageError);
    assert.equal(rec.written.length, 0);
    assert.equal(conn.state, 'open');
  });

  it('nothing is written after the close frame, whatever happens next', () => {
    const { conn, rec } = server();
    conn.close(1000);
    feed(conn, clientFrame(Op.Ping, 'x'));
    feed(conn, clientFrame(Op.Binary, 'x', { mask: null })); // a violation after our close
    const frames = rec.frames;
    assert.deepEqual(
      frames.map((f) => f.opcode),
      [Op.Close],
    );
    assert.equal(rec.failures.length, 1);
    assert.equal(rec.endTransports, 1);
  });
});

describe('RFC 6455 §7.1.7 failing the connection', () => {
  it('fail() writes a close frame with the violation’s code, then reports failed and ends the transport', () => {
    const { conn, rec } = server();
    const error = new TooManyFragmentsError('test');
    conn.fail(error);
    assertFailed(rec, 1008, 'WSX_TOO_MANY_FRAGMENTS');
    assert.equal(rec.failures[0], error);
    const { reason } = closeOf(rec.frames[0]);
    assert.ok(Buffer.byteLength(reason) <= 123);
    assert.equal(conn.canWrite(), false);
    assert.equal(conn.canRead(), false);
    assert.equal(conn.sendText('x'), false);
    conn.fail(new TooManyFragmentsError());
    assert.equal(rec.failures.length, 1, 'a second fail() does nothing');
    assert.equal(rec.frames.length, 1);
    assert.deepEqual(conn.closeResult(), { code: 1008, reason: error.message, wasClean: false });
  });

  it('a violation with a long non-ASCII message is sent with a reason cut to 123 bytes of whole characters', () => {
    const { conn, rec } = server();
    // Characters of 2 and 3 bytes: the first 100 characters of the message are 175 bytes of UTF-8.
    const error = new TooManyFragmentsError('é€'.repeat(50));
    conn.fail(error);
    assertFailed(rec, 1008, 'WSX_TOO_MANY_FRAGMENTS');
    const frame = rec.frames[0];
    assert.ok(frame.payload.length <= 125, `close payload of ${frame.payload.length} bytes`);
    assert.ok(isUtf8(frame.payload.subarray(2)), 'the reason is cut between characters');
    const { reason } = closeOf(frame);
    assert.ok(error.message.startsWith(reason), 'the reason is the start of the message');
    assert.ok(
      Buffer.byteLength(reason) >= 121,
      `reason of ${Buffer.byteLength(reason)} bytes: cut no shorter than needed`,
    );
  });

  it('a client that fails the connection also ends the transport', () => {
    const { conn, rec } = client();
    feed(conn, serverFrame(Op.Text, 'x', { mask: Uint8Array.from([1, 2, 3, 4]) }));
    assertFailed(rec, 1002);
    assert.equal(rec.frames[0].masked, true);
  });

  it('an internal error is sent as 1011 with no reason', () => {
    const { conn, rec } = server();
    conn.fail(new InternalError('secret detail'));
    assertFailed(rec, 1011, 'WSX_INTERNAL');
    assert.equal(closeOf(rec.frames[0]).reason, '');
  });

  it('an exception thrown by an event handler fails the connection with 1011', () => {
    const { conn, rec } = server();
    rec.throwOnMessage = new Error('handler bug');
    feed(conn, Buffer.concat([clientFrame(Op.Text, 'boom'), clientFrame(Op.Text, 'never')]));
    assert.equal(rec.messages.length, 1);
    assertFailed(rec, 1011, 'WSX_INTERNAL');
    assert.equal(closeOf(rec.frames[0]).reason, '');
  });

  it('fail() after our close frame sends no second close frame', () => {
    const { conn, rec } = server();
    conn.close(1000);
    conn.fail(new TooManyFragmentsError());
    assert.equal(rec.frames.length, 1);
    assert.equal(closeOf(rec.frames[0]).code, 1000);
    assert.deepEqual(
      rec.events.slice(-2).map((e) => e.type),
      ['failed', 'endTransport'],
    );
  });

  it('fail() after the peer closed the transport writes nothing', () => {
    const { conn, rec } = server();
    conn.receiveEof();
    assert.equal(conn.state, 'closing');
    conn.fail(new TooManyFragmentsError());
    assert.equal(rec.written.length, 0);
    assert.equal(rec.failures.length, 1);
    assert.equal(rec.endTransports, 1);
  });
});

describe('RFC 6455 §7.1.5 close result', () => {
  it('is 1006, not clean, when the transport closed without a close frame', () => {
    const { conn } = server();
    assert.deepEqual(conn.closeResult(), { code: 1006, reason: '', wasClean: false });
    conn.receiveEof();
    assert.deepEqual(conn.closeResult(), { code: 1006, reason: '', wasClean: false });
    assert.equal(conn.canRead(), false);
  });

  it('is 1006 after we sent a close frame but none came back', () => {
    const { conn } = client();
    conn.close(1000);
    conn.receiveEof();
    assert.deepEqual(conn.closeResult(), { code: 1006, reason: '', wasClean: false });
  });

  it('is the received code and reason, clean, when the peer started the closing handshake', () => {
    const { conn, rec } = server();
    feed(conn, clientFrame(Op.Close, closePayload(3001, 'r')));
    assert.equal(rec.failures.length, 0);
    assert.deepEqual(conn.closeResult(), { code: 3001, reason: 'r', wasClean: true });
  });
});
