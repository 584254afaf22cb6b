// Category 6: UTF-8 handling (RFC 6455 5.6 and 8.1, RFC 3629): valid text in every split,
// invalid sequences (overlongs, surrogates, code points above U+10FFFF, truncations) MUST fail
// the connection with 1007 — as soon as the invalid bytes arrive (fail-fast), not only once the
// whole message is complete.
import { mixedText } from './data.js';
import { encodeFrame, Op } from './frames.js';
import type { WsPeer } from './peer.js';
import { type Case, type CaseContext, conformance, expectFailFast, perConnection } from './suite.js';
import { checkUtf8, hexBytes } from './utf8.js';

interface Sample {
  name: string;
  bytes: Buffer;
}

const VALID: Sample[] = [
  { name: 'Latin-1 mix', bytes: Buffer.from('Hello-µ@ßöäüàá-UTF-8!!', 'utf8') },
  { name: 'Greek', bytes: hexBytes('ce ba e1 bd b9 cf 83 ce bc ce b5') },
  { name: 'CJK', bytes: Buffer.from('中文字符テスト한국어', 'utf8') },
  { name: 'emoji (4-byte)', bytes: Buffer.from('😀👍🏽🇩🇪', 'utf8') },
  {
    name: 'first of each length U+0000 U+0080 U+0800 U+10000',
    bytes: hexBytes('00 c2 80 e0 a0 80 f0 90 80 80'),
  },
  {
    name: 'last of each length U+007F U+07FF U+FFFF U+10FFFF',
    bytes: hexBytes('7f df bf ef bf bf f4 8f bf bf'),
  },
  { name: 'around the surrogates U+D7FF U+E000', bytes: hexBytes('ed 9f bf ee 80 80') },
  { name: 'U+FFFD U+FFFE U+FDD0 (noncharacters are valid)', bytes: hexBytes('ef bf bd ef bf be ef b7 90') },
  { name: 'mixed 1- to 4-byte characters', bytes: mixedText(48) },
];

// [name, bytes, cut at the end (true: the sample is only truncated at its very end)]
const INVALID: [string, string, boolean?][] = [
  ['lone continuation 0x80', '80'],
  ['lone continuation 0xBF', 'bf'],
  ['continuation after a complete character', 'ce ba 80'],
  ['overlong 2-byte NUL C0 80', 'c0 80'],
  ['overlong 2-byte C1 BF', 'c1 bf'],
  ['overlong 3-byte U+007F', 'e0 81 bf'],
  ['overlong 3-byte U+07FF', 'e0 9f bf'],
  ['overlong 4-byte NUL', 'f0 80 80 80'],
  ['overlong 4-byte U+FFFF', 'f0 8f bf bf'],
  ['5-byte sequence', 'f8 88 80 80 80'],
  ['6-byte sequence', 'fc 84 80 80 80 80'],
  ['high surrogate U+D800', 'ed a0 80'],
  ['low surrogate U+DFFF', 'ed bf bf'],
  ['surrogate pair (CESU-8) U+D83D U+DE00', 'ed a0 bd ed b8 80'],
  ['U+110000 (above U+10FFFF)', 'f4 90 80 80'],
  ['U+13FFFF', 'f4 bf bf bf'],
  ['lead byte F5', 'f5 80 80 80'],
  ['lead byte F7', 'f7 bf bf bf'],
  ['byte FE', 'fe'],
  ['byte FF', 'ff'],
  ['2-byte lead then ASCII', 'c2 41'],
  ['3-byte lead, bad second byte', 'e2 28 a1'],
  ['4-byte sequence missing its last byte, then ASCII', 'f0 9f 98 41'],
  ['truncated 2-byte at the end', 'c2', true],
  ['truncated 3-byte at the end', 'e2 82', true],
  ['truncated 4-byte at the end', 'f0 9f 98', true],
];

const PREFIX = Buffer.from('κό', 'utf8');
const SUFFIX = Buffer.from('-ed', 'utf8');

function embedded([, hex, atEnd]: [string, string, boolean?]): Buffer {
  return Buffer.concat([PREFIX, hexBytes(hex), atEnd ? Buffer.alloc(0) : SUFFIX]);
}

function positions(len: number): number[] {
  return Array.from({ length: len + 1 }, (_, i) => i);
}

/** Text frame written as two TCP chunks cut `p` bytes into the payload. */
async function sendChunkSplit(peer: WsPeer, bytes: Buffer, p: number, delayMs = 0) {
  const wire = encodeFrame({ opcode: Op.Text, payload: bytes }, peer.side === 'client');
  const header = wire.length - bytes.length;
  await peer.sendRaw(
    wire.subarray(0, header + p),
    {},
    `text frame len=${bytes.length}, first ${p} payload bytes`,
  );
  if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
  await peer.sendRaw(
    wire.subarray(header + p),
    {},
    `rest of the text frame (${bytes.length - p} payload bytes)`,
  );
}

/** Invalid text split into two fragments at `p`; fail-fast when the first already holds the error. */
async function invalidFragmentSplit(
  peer: WsPeer,
  ctx: CaseContext,
  bytes: Buffer,
  p: number,
  strict?: boolean,
) {
  const v = checkUtf8(bytes);
  const first = () => peer.send({ opcode: Op.Text, payload: bytes.subarray(0, p), fin: false });
  const rest = () => peer.send({ opcode: Op.Continuation, payload: bytes.subarray(p) });
  if (!v.truncated && v.failAt <= p) await expectFailFast(peer, ctx, 1007, first, rest, strict);
  else {
    await first();
    await rest();
    await peer.expectFailure(1007);
  }
}

/** Invalid text frame sent in two TCP chunks cut at payload offset `p`. */
async function invalidChunkSplit(peer: WsPeer, ctx: CaseContext, bytes: Buffer, p: number, strict?: boolean) {
  const v = checkUtf8(bytes);
  const wire = encodeFrame({ opcode: Op.Text, payload: bytes }, peer.side === 'client');
  const cut = wire.length - bytes.length + p;
  const first = () =>
    peer.sendRaw(wire.subarray(0, cut), {}, `text frame len=${bytes.length}, first ${p} payload bytes`);
  const rest = () =>
    peer.sendRaw(wire.subarray(cut), {}, `rest of the frame (${bytes.length - p} payload bytes)`);
  if (!v.truncated && v.failAt <= p && p < bytes.length)
    await expectFailFast(peer, ctx, 1007, first, rest, strict);
  else {
    await first();
    await rest();
    await peer.expectFailure(1007);
  }
}

const cases: Case[] = [];

// 6.1 valid text: one frame, then split into two fragments at every byte position, then one
// frame split into two TCP chunks at every payload position — all on one connection.
VALID.forEach((s, i) => {
  if (!checkUtf8(s.bytes).valid) throw new Error(`sample ${s.name} is not valid UTF-8`);
  cases.push({
    id: `6.1.${i + 1}`,
    title: `valid text "${s.name}": one frame, every fragment split, every TCP chunk split`,
    roles: ['server'],
    run: async (p) => {
      await p.echo(Op.Text, s.bytes);
      for (const at of positions(s.bytes.length)) {
        await p.send([
          { opcode: Op.Text, payload: s.bytes.subarray(0, at), fin: false },
          { opcode: Op.Continuation, payload: s.bytes.subarray(at) },
        ]);
        await p.expectText(s.bytes);
      }
      for (const at of positions(s.bytes.length)) {
        await sendChunkSplit(p, s.bytes, at, 1);
        await p.expectText(s.bytes);
      }
      await p.send(
        s.bytes.length
          ? [...s.bytes].map((_, k) => ({
              opcode: k === 0 ? Op.Text : Op.Continuation,
              payload: s.bytes.subarray(k, k + 1),
              fin: k === s.bytes.length - 1,
            }))
          : [{ opcode: Op.Text }],
      );
      await p.expectText(s.bytes);
    },
  });
});
// The client role: all valid samples on one connection per delivery mode.
cases.push(
  {
    id: '6.1.20',
    title: 'all valid texts, one frame each',
    roles: ['client'],
    run: async (p) => {
      for (const s of VALID) await p.echo(Op.Text, s.bytes);
    },
  },
  {
    id: '6.1.21',
    title: 'all valid texts split into two fragments at every byte position',
    roles: ['client'],
    run: async (p) => {
      for (const s of VALID)
        for (const at of positions(s.bytes.length)) {
          await p.send([
            { opcode: Op.Text, payload: s.bytes.subarray(0, at), fin: false },
            { opcode: Op.Continuation, payload: s.bytes.subarray(at) },
          ]);
          await p.expectText(s.bytes);
        }
    },
  },
  {
    id: '6.1.22',
    title: 'all valid texts in one frame split into two TCP chunks at every byte position',
    roles: ['client'],
    run: async (p) => {
      for (const s of VALID)
        for (const at of positions(s.bytes.length)) {
          await sendChunkSplit(p, s.bytes, at, 1);
          await p.expectText(s.bytes);
        }
    },
  },
);

// 6.2 invalid text in one frame → 1007 (bare, and embedded between valid characters).
INVALID.forEach((inv, i) => {
  const [name, hex] = inv;
  cases.push(
    {
      id: `6.2.${i + 1}.1`,
      title: `invalid text ${name} [${hex}] in one frame → 1007`,
      roles: ['server'],
      run: async (p) => {
        await p.send({ opcode: Op.Text, payload: hexBytes(hex) });
        await p.expectFailure(1007);
      },
    },
    {
      id: `6.2.${i + 1}.2`,
      title: `invalid text "κό" + ${name} [${hex}]${inv[2] ? '' : ' + "-ed"'} in one frame → 1007`,
      run: async (p) => {
        await p.send({ opcode: Op.Text, payload: embedded(inv) });
        await p.expectFailure(1007);
      },
    },
  );
});

// 6.3 / 6.4 invalid text split at every byte position, each on its own connection: into two
// fragments, and into two TCP chunks of one frame. Where the first part already holds the
// invalid byte, the 1007 must arrive before the second part is sent.
INVALID.forEach((inv, i) => {
  const bytes = embedded(inv);
  cases.push(
    {
      id: `6.3.${i + 1}`,
      title: `invalid text with ${inv[0]} split into two fragments at every position → 1007 (fail-fast)`,
      roles: ['server'],
      run: (_p, ctx) =>
        perConnection(
          ctx,
          positions(bytes.length),
          (at) => `split at ${at}`,
          (p, at) => invalidFragmentSplit(p, ctx, bytes, at),
        ),
    },
    {
      id: `6.4.${i + 1}`,
      title: `invalid text with ${inv[0]} in one frame split into two TCP chunks at every position → 1007 (fail-fast)`,
      roles: ['server'],
      run: (_p, ctx) =>
        perConnection(
          ctx,
          positions(bytes.length),
          (at) => `cut at ${at}`,
          (p, at) => invalidChunkSplit(p, ctx, bytes, at),
        ),
    },
  );
});

// 6.5 fail-fast, both roles: the invalid bytes arrive in an early fragment or TCP chunk and
// the 1007 must come before the rest of the message is sent (strict even for the reference).
const FAIL_FAST: [string, Buffer][] = [
  ['U+110000', Buffer.concat([Buffer.from('κόσμε'), hexBytes('f4 90 80 80'), Buffer.from('-edited')])],
  ['surrogate', Buffer.concat([Buffer.from('κόσμε'), hexBytes('ed a0 80'), Buffer.from('-edited')])],
  ['overlong', Buffer.concat([Buffer.from('abc'), hexBytes('c0 af'), Buffer.from('xyz')])],
  ['lone continuation', Buffer.concat([Buffer.from('abc'), hexBytes('80'), Buffer.from('xyz')])],
];
FAIL_FAST.forEach(([name, bytes], i) => {
  const at = checkUtf8(bytes).failAt;
  cases.push(
    {
      id: `6.5.${i + 1}.1`,
      title: `fail-fast: ${name} in the 2nd of 3 fragments → 1007 before the 3rd is sent`,
      tags: ['fail-fast'],
      run: async (p, ctx) => {
        await p.send({ opcode: Op.Text, payload: bytes.subarray(0, 3), fin: false });
        await expectFailFast(
          p,
          ctx,
          1007,
          () => p.send({ opcode: Op.Continuation, payload: bytes.subarray(3, at + 1), fin: false }),
          () => p.send({ opcode: Op.Continuation, payload: bytes.subarray(at + 1) }),
          true,
        );
      },
    },
    {
      id: `6.5.${i + 1}.2`,
      title: `fail-fast: ${name} in the first TCP chunk of one text frame → 1007 before the rest is sent`,
      tags: ['fail-fast'],
      run: (p, ctx) => invalidChunkSplit(p, ctx, bytes, at + 1, true),
    },
    {
      id: `6.5.${i + 1}.3`,
      title: `fail-fast: ${name} ending the first of two fragments → 1007 before the second is sent`,
      tags: ['fail-fast'],
      roles: ['server'],
      run: (p, ctx) => invalidFragmentSplit(p, ctx, bytes, at, true),
    },
  );
});

// 6.6 invalid text in a fragmented message with control frames interleaved.
cases.push(
  {
    id: '6.6.1',
    title: 'valid fragment, ping, invalid fragment → pong, then 1007',
    run: async (p) => {
      await p.send([
        { opcode: Op.Text, payload: 'valid', fin: false },
        { opcode: Op.Ping, payload: 'ping' },
        { opcode: Op.Continuation, payload: hexBytes('ed a0 80') },
      ]);
      await p.expectPong('ping');
      await p.expectFailure(1007);
    },
  },
  {
    id: '6.6.2',
    title: 'binary messages are not UTF-8 checked',
    run: (p) => p.echo(Op.Binary, hexBytes('c0 80 ed a0 80 f4 90 80 80 ff fe')),
  },
  {
    id: '6.6.3',
    title: 'invalid text after a valid echo → 1007',
    run: async (p) => {
      await p.echo(Op.Text, 'valid');
      await p.send({ opcode: Op.Text, payload: hexBytes('ce ba e1 bd b9 cf 83 ce bc ce b5 ed a0 80 65 64') });
      await p.expectFailure(1007);
    },
  },
);

conformance('6 UTF-8', cases);
