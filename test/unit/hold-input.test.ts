// Connection.holdInput/releaseInput: a handler can stop delivery between two frames of one
// chunk; what follows is kept (a copy, not a view of the caller's buffer) and read in order on
// release, across any split, with an end of input that arrived meanwhile applied last.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientFrame, closePayload, Op, server } from './helpers.js';

function texts(rec: ReturnType<typeof server>['rec']): string[] {
  return rec.messages.map((message) => message.data.toString());
}

describe('Connection.holdInput', () => {
  it('stops after the message whose handler held input; release reads the rest in order', () => {
    const { conn, rec } = server();
    const chunk = Buffer.concat([
      clientFrame(Op.Text, 'one'),
      clientFrame(Op.Ping, 'p'),
      clientFrame(Op.Text, 'two'),
      clientFrame(Op.Text, 'three'),
    ]);
    let held = 0;
    const original = rec.messageReceived.bind(rec);
    rec.messageReceived = (data, isBinary) => {
      original(data, isBinary);
      if (held++ < 2) conn.holdInput();
    };
    conn.receive(chunk);
    chunk.fill(0); // the caller reuses its buffer: what was held must not change
    assert.deepEqual(texts(rec), ['one']);
    assert.equal(rec.count('ping'), 0);
    assert.equal(conn.isInputHeld, true);

    conn.receive(clientFrame(Op.Text, 'four')); // arrives while held: kept behind the rest
    assert.deepEqual(texts(rec), ['one']);

    conn.releaseInput(); // reads the ping and 'two', whose handler holds again
    assert.deepEqual(texts(rec), ['one', 'two']);
    assert.equal(rec.count('ping'), 1);
    conn.releaseInput();
    assert.deepEqual(texts(rec), ['one', 'two', 'three', 'four']);
    assert.equal(conn.isInputHeld, false);
    assert.equal(rec.failures.length, 0);
  });

  it('a hold released by the same handler goes on reading the chunk', () => {
    const { conn, rec } = server();
    const original = rec.messageReceived.bind(rec);
    rec.messageReceived = (data, isBinary) => {
      original(data, isBinary);
      conn.holdInput();
      conn.releaseInput();
    };
    conn.receive(Buffer.concat([clientFrame(Op.Text, 'a'), clientFrame(Op.Text, 'b')]));
    assert.deepEqual(texts(rec), ['a', 'b']);
    assert.equal(conn.isInputHeld, false);
  });

  it('a hold outside any handler keeps whole chunks until release', () => {
    const { conn, rec } = server();
    conn.holdInput();
    const frame = clientFrame(Op.Text, 'later');
    conn.receive(frame.subarray(0, 3));
    conn.receive(frame.subarray(3));
    assert.deepEqual(texts(rec), []);
    conn.releaseInput();
    assert.deepEqual(texts(rec), ['later']);
  });

  it('an end of input during a hold comes after the held frames, so their close is read', () => {
    const { conn, rec } = server();
    const original = rec.messageReceived.bind(rec);
    rec.messageReceived = (data, isBinary) => {
      original(data, isBinary);
      if (rec.messages.length === 1) conn.holdInput();
    };
    conn.receive(
      Buffer.concat([
        clientFrame(Op.Text, 'one'),
        clientFrame(Op.Text, 'two'),
        clientFrame(Op.Close, closePayload(1000)),
      ]),
    );
    conn.receiveEof();
    assert.equal(conn.eofReceived, false, 'not yet: frames before it are still held');
    conn.releaseInput();
    assert.deepEqual(texts(rec), ['one', 'two']);
    assert.equal(rec.count('close'), 1);
    assert.equal(conn.eofReceived, true);
    assert.equal(conn.wasClean, true);
  });

  it('a violation in the held bytes fails the connection only once they are read', () => {
    const { conn, rec } = server();
    const original = rec.messageReceived.bind(rec);
    rec.messageReceived = (data, isBinary) => {
      original(data, isBinary);
      conn.holdInput();
    };
    conn.receive(Buffer.concat([clientFrame(Op.Text, 'fine'), clientFrame(0x3, 'reserved')]));
    assert.equal(rec.failures.length, 0);
    conn.sendText('reply');
    conn.releaseInput();
    assert.equal(rec.failures.length, 1);
    assert.deepEqual(
      rec.frames.map((frame) => frame.opcode),
      [Op.Text, Op.Close],
      'the reply went out before the close frame',
    );
  });
});
