// RFC 6455 §8.1 (text must be valid UTF-8; fail as soon as it cannot be): Utf8Validator
// against node's isUtf8 and a naive decoder, over every split, and text messages in Connection.
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { describe, it } from 'node:test';
import { Utf8Validator } from '../../src/protocol/utf8.js';
import { assertFailed, client, clientFrame, feed, Op, prng, server, serverFrame } from './helpers.js';

/**
 * Index of the first byte at which `bytes` stops being a prefix of any valid UTF-8 text
 * (Unicode table 3-7), or -1 if it never does; `complete` tells whether it ends cleanly.
 */
function firstInvalid(bytes: Uint8Array): { index: number; complete: boolean } {
  let need = 0;
  let lo = 0x80;
  let hi = 0xbf;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (need === 0) {
      if (b < 0x80) continue;
      if (b >= 0xc2 && b <= 0xdf) need = 1;
      else if (b === 0xe0) [need, lo] = [2, 0xa0];
      else if (b === 0xed) [need, hi] = [2, 0x9f];
      else if (b >= 0xe1 && b <= 0xef) need = 2;
      else if (b === 0xf0) [need, lo] = [3, 0x90];
      else if (b === 0xf4) [need, hi] = [3, 0x8f];
      else if (b >= 0xf1 && b <= 0xf3) need = 3;
      else return { index: i, complete: false };
    } else {
      if (b < lo || b > hi) return { index: i, complete: false };
      lo = 0x80;
      hi = 0xbf;
      need--;
    }
  }
  return { index: -1, complete: need === 0 };
}

const VALID = [
  '',
  'hello',
  '\u0000\u007f',
  '\u0080\u07ff',
  '\u0800\uffff',
  '\ud7ff\ue000',
  '\u{10000}\u{10ffff}',
  'κόσμε',
  'a€b𝄞c',
  'Ünïcödé ✓ 日本語 🎉',
  '€'.repeat(20),
  '𝄞'.repeat(10),
].map((s) => Buffer.from(s, 'utf8'));

const INVALID = [
  [0x80],
  [0xbf],
  [0x61, 0x80, 0x61],
  [0xc0, 0x80], // overlong NUL
  [0xc1, 0xbf],
  [0xe0, 0x80, 0x80], // overlong
  [0xe0, 0x9f, 0xbf],
  [0xf0, 0x80, 0x80, 0x80],
  [0xf0, 0x8f, 0xbf, 0xbf],
  [0xed, 0xa0, 0x80], // surrogates
  [0xed, 0xbf, 0xbf],
  [0xed, 0xa0, 0x80, 0xed, 0xb0, 0x80],
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  [0xf5, 0x80, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xfe],
  [0xff],
  [0xc2], // truncated at the end
  [0xe2, 0x82],
  [0xf0, 0x9d, 0x84],
  [0x61, 0xc2, 0x61], // lead followed by ASCII
  [0xe2, 0x82, 0x61],
  [0xf0, 0x9d, 0x84, 0x61],
  [0xe2, 0x82, 0xac, 0x80], // one continuation too many
  [
    0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80, 0x65, 0x64, 0x69,
    0x74, 0x65, 0x64,
  ],
  [0x68, 0x65, 0x6c, 0x6c, 0x6f, 0xf4, 0x8f, 0xbf, 0xbf, 0xf4, 0x90],
].map((b) => Buffer.from(b));

/** Feeds `pieces` in order; returns the index of the piece that failed (-1: none) and completeness. */
function validate(pieces: Uint8Array[]): { failedAt: number; complete: boolean } {
  const v = new Utf8Validator();
  for (let i = 0; i < pieces.length; i++) if (!v.write(pieces[i])) return { failedAt: i, complete: false };
  return { failedAt: -1, complete: v.complete };
}

function pieces(data: Buffer, cuts: number[]): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (const cut of [...cuts, data.length]) {
    out.push(data.subarray(start, cut));
    start = cut;
  }
  return out;
}

/** Checks validity against isUtf8, and that a failure is reported on the piece where it appears. */
function check(data: Buffer, cuts: number[]): void {
  const split = pieces(data, cuts);
  const result = validate(split);
  const ref = firstInvalid(data);
  const label = `${data.toString('hex')} cut at ${cuts.join(',')}`;
  assert.equal(result.failedAt === -1 && result.complete, isUtf8(data), label);
  if (ref.index === -1) {
    assert.equal(result.failedAt, -1, `${label}: valid prefix refused`);
    assert.equal(result.complete, ref.complete, label);
  } else {
    // The piece holding byte ref.index must be the one that fails (fail-fast, RFC 6455 §8.1).
    let piece = 0;
    let end = split[0].length;
    while (end <= ref.index) end += split[++piece].length;
    assert.equal(result.failedAt, piece, `${label}: failed on piece ${result.failedAt}, not ${piece}`);
  }
}

describe('RFC 6455 §8.1 Utf8Validator', () => {
  it('the reference decoder agrees with isUtf8 on the corpus', () => {
    for (const data of [...VALID, ...INVALID]) {
      const ref = firstInvalid(data);
      assert.equal(ref.index === -1 && ref.complete, isUtf8(data), data.toString('hex'));
    }
  });

  it('gives the same answer as isUtf8 on the whole text in one piece', () => {
    for (const data of [...VALID, ...INVALID]) check(data, []);
  });

  it('split at every byte into two pieces', () => {
    for (const data of [...VALID, ...INVALID]) {
      for (let cut = 0; cut <= data.length; cut++) check(data, [cut]);
    }
  });

  it('split at every pair of bytes into three pieces', () => {
    for (const data of [...VALID, ...INVALID]) {
      for (let a = 0; a <= data.length; a++) for (let b = a; b <= data.length; b++) check(data, [a, b]);
    }
  });

  it('one byte at a time, and with empty pieces between', () => {
    for (const data of [...VALID, ...INVALID]) {
      check(
        data,
        Array.from({ length: data.length }, (_, i) => i),
      );
      check(
        data,
        Array.from({ length: data.length * 2 }, (_, i) => i >> 1),
      );
    }
  });

  it('every 1- and 2-byte sequence, and every 3-byte sequence from E0-EF, in every split', () => {
    for (let a = 0; a < 256; a++) {
      check(Buffer.from([a]), []);
      for (let b = 0; b < 256; b++) {
        const two = Buffer.from([a, b]);
        check(two, []);
        check(two, [1]);
      }
    }
    for (let a = 0xe0; a <= 0xef; a++) {
      for (let b = 0x70; b < 0xd0; b++) {
        for (const c of [0x00, 0x7f, 0x80, 0xbf, 0xc0]) {
          const three = Buffer.from([a, b, c]);
          check(three, []);
          check(three, [1]);
          check(three, [2]);
          check(three, [1, 2]);
        }
      }
    }
  });

  it('every 4-byte lead with boundary second bytes, in every split', () => {
    for (let a = 0xf0; a <= 0xf7; a++) {
      for (const b of [0x7f, 0x80, 0x8f, 0x90, 0xbf, 0xc0]) {
        const four = Buffer.from([a, b, 0x80, 0x80]);
        for (let x = 0; x <= 4; x++) for (let y = x; y <= 4; y++) check(four, [x, y]);
      }
    }
  });

  it('random mixes of valid characters and stray bytes, in random splits (fuzz)', () => {
    const random = prng(8);
    const alphabet = ['a', 'é', '€', '𝄞', '\u07ff', '\u0800', '\ud7ff', '\ue000', '\u{10ffff}'].map((s) =>
      Buffer.from(s),
    );
    const strays = [0x80, 0xbf, 0xc0, 0xc2, 0xe0, 0xed, 0xf0, 0xf4, 0xf5, 0xff, 0xa0, 0x90].map((b) =>
      Buffer.from([b]),
    );
    for (let run = 0; run < 3000; run++) {
      const parts: Buffer[] = [];
      const count = 1 + Math.floor(random() * 12);
      for (let i = 0; i < count; i++) {
        parts.push(
          random() < 0.85
            ? alphabet[Math.floor(random() * alphabet.length)]
            : strays[Math.floor(random() * strays.length)],
        );
      }
      const data = Buffer.concat(parts);
      const cuts: number[] = [];
      for (let i = 1; i < data.length; i++) if (random() < 0.4) cuts.push(i);
      check(data, cuts);
    }
  });

  it('reset() forgets a sequence left open', () => {
    const v = new Utf8Validator();
    assert.equal(v.write(Buffer.from([0xe2, 0x82])), true);
    assert.equal(v.complete, false);
    v.reset();
    assert.equal(v.complete, true);
    assert.equal(v.write(Buffer.from('a')), true);
    assert.equal(v.complete, true);
  });

  it('validates long text in large pieces', () => {
    const text = Buffer.from('ab€𝄞'.repeat(20000));
    const random = prng(9);
    for (let run = 0; run < 10; run++) {
      const cuts: number[] = [];
      for (let at = Math.floor(random() * 5000); at < text.length; at += 1 + Math.floor(random() * 9000)) {
        cuts.push(at);
      }
      check(text, cuts);
      const broken = Buffer.from(text);
      broken[Math.floor(random() * broken.length)] = 0xff;
      check(broken, cuts);
    }
  });
});

describe('RFC 6455 §8.1 text messages in Connection', () => {
  it('delivers valid text, whole, split at every byte, and fragmented at every byte', () => {
    const utf8 = Buffer.from('a€𝄞κ');
    const wire = clientFrame(Op.Text, utf8);
    for (let cut = 1; cut < wire.length; cut++) {
      const { conn, rec } = server();
      feed(conn, wire, [cut]);
      assert.equal(rec.failures.length, 0);
      assert.ok(rec.messages[0].data.equals(utf8));
    }
    for (let cut = 0; cut <= utf8.length; cut++) {
      const { conn, rec } = server();
      feed(
        conn,
        Buffer.concat([
          clientFrame(Op.Text, utf8.subarray(0, cut), { fin: false }),
          clientFrame(Op.Continuation, utf8.subarray(cut)),
        ]),
      );
      assert.equal(rec.failures.length, 0);
      assert.ok(rec.messages[0].data.equals(utf8));
    }
  });

  for (const data of INVALID) {
    it(`fails with 1007 on text ${data.toString('hex')}`, () => {
      const { conn, rec } = server();
      feed(conn, clientFrame(Op.Text, data));
      assertFailed(rec, 1007, 'WSX_INVALID_UTF8');
      assert.equal(rec.messages.length, 0);
    });
  }

  it('fails with 1007 on invalid text in any split and any fragmentation', () => {
    const data = Buffer.from([0x61, 0x62, 0xed, 0xa0, 0x80, 0x63]);
    for (let cut = 0; cut <= data.length; cut++) {
      const fragmented = server();
      feed(
        fragmented.conn,
        Buffer.concat([
          clientFrame(Op.Text, data.subarray(0, cut), { fin: false }),
          clientFrame(Op.Continuation, data.subarray(cut)),
        ]),
      );
      assertFailed(fragmented.rec, 1007, 'WSX_INVALID_UTF8');
      const wire = clientFrame(Op.Text, data);
      const split = server();
      feed(split.conn, wire, [Math.min(6 + cut, wire.length - 1)]);
      assertFailed(split.rec, 1007, 'WSX_INVALID_UTF8');
    }
  });

  it('fails on the first fragment that is invalid, before the message ends', () => {
    const { conn, rec } = server();
    feed(conn, clientFrame(Op.Text, 'fine', { fin: false }));
    assert.equal(rec.failures.length, 0);
    feed(conn, clientFrame(Op.Continuation, Buffer.from([0x61, 0xc0, 0x80]), { fin: false }));
    assertFailed(rec, 1007, 'WSX_INVALID_UTF8');
  });

  it('fails on an impossible prefix as soon as it arrives, inside one frame split across reads', () => {
    const payload = Buffer.concat([Buffer.from('ok '), Buffer.from([0xf4, 0x90]), Buffer.alloc(1000, 0x61)]);
    const wire = clientFrame(Op.Text, payload);
    const { conn, rec } = server();
    feed(conn, wire.subarray(0, 8 + 4)); // header (with 16-bit length and key), "ok " then F4
    assert.equal(rec.failures.length, 0, 'F4 alone may still become valid');
    feed(conn, wire.subarray(12, 13)); // 90: past U+10FFFF
    assertFailed(rec, 1007, 'WSX_INVALID_UTF8');
  });

  it('a sequence cut by the end of a fragment may continue in the next; one left open at the end fails', () => {
    const open = server();
    feed(open.conn, clientFrame(Op.Text, Buffer.from([0x61, 0xe2, 0x82]), { fin: false }));
    assert.equal(open.rec.failures.length, 0);
    feed(open.conn, clientFrame(Op.Continuation, ''));
    assertFailed(open.rec, 1007, 'WSX_INVALID_UTF8');

    const c = client();
    feed(c.conn, serverFrame(Op.Text, Buffer.from([0xf0, 0x9f]), { fin: false }));
    feed(c.conn, serverFrame(Op.Continuation, Buffer.from([0x8e]), { fin: false }));
    feed(c.conn, serverFrame(Op.Continuation, Buffer.from([0x89])));
    assert.equal(c.rec.failures.length, 0);
    assert.equal(c.rec.messages[0].data.toString(), '🎉');
  });

  it('binary messages are not validated', () => {
    const { conn, rec } = server();
    feed(conn, clientFrame(Op.Binary, Buffer.from([0xff, 0xc0, 0xed, 0xa0, 0x80])));
    assert.equal(rec.failures.length, 0);
    assert.equal(rec.messages[0].isBinary, true);
  });

  it('validation state does not leak from one message to the next', () => {
    const { conn, rec } = server();
    feed(conn, clientFrame(Op.Binary, Buffer.from([0xe2, 0x82]), { fin: false }));
    feed(conn, clientFrame(Op.Continuation, ''));
    feed(conn, clientFrame(Op.Text, Buffer.from([0xac])));
    assertFailed(rec, 1007, 'WSX_INVALID_UTF8');
    assert.equal(rec.messages.length, 1);
  });
});
