// Category 1: basic framing (RFC 6455 5.2, 5.3, 5.6): text and binary messages at every
// length-encoding boundary, delivery in TCP chunks, length encodings and masking.
import { asciiText, binaryBytes } from './data.js';
import { encodeFrame, type FrameSpec, Op } from './frames.js';
import type { WsPeer } from './peer.js';
import { type Case, conformance } from './suite.js';

const LENGTHS = [0, 1, 125, 126, 127, 128, 65535, 65536];

/** Either echoes the message or fails with `code`: both are conforming reactions. */
async function expectEchoOrFailure(peer: WsPeer, opcode: number, payload: Buffer | string, code: number) {
  const f = await peer.peekFrame();
  if (f.opcode === Op.Close) await peer.expectFailure(code);
  else await peer.expectMessage(opcode, payload);
}

const cases: Case[] = [];

// 1.1 text / 1.2 binary, one frame, each length-encoding boundary.
LENGTHS.forEach((n, i) => {
  cases.push({
    id: `1.1.${i + 1}`,
    title: `text message of ${n} bytes`,
    run: (p) => p.echo(Op.Text, asciiText(n)),
  });
  cases.push({
    id: `1.2.${i + 1}`,
    title: `binary message of ${n} bytes`,
    run: (p) => p.echo(Op.Binary, binaryBytes(n, i)),
  });
});

// 1.3 chunked delivery.
cases.push(
  {
    id: '1.3.1',
    title: 'text 65536 bytes written in 997-byte TCP chunks',
    run: (p) => p.echo(Op.Text, asciiText(65536), { chunkSize: 997 }),
  },
  {
    id: '1.3.2',
    title: 'binary 65536 bytes written in 997-byte TCP chunks',
    run: (p) => p.echo(Op.Binary, binaryBytes(65536, 7), { chunkSize: 997 }),
  },
  {
    id: '1.3.3',
    title: 'text 125 bytes written byte by byte with 1 ms pauses',
    run: (p) => p.echo(Op.Text, asciiText(125), { chunkSize: 'byte', delayMs: 1 }),
  },
  {
    id: '1.3.4',
    title: 'binary 126 bytes (16-bit length) written byte by byte',
    run: (p) => p.echo(Op.Binary, binaryBytes(126, 3), { chunkSize: 'byte' }),
  },
  {
    id: '1.3.5',
    title: 'binary 65536 bytes (64-bit length): header byte by byte with pauses, then 4 KiB chunks',
    run: (p) => {
      const cuts = Array.from({ length: 14 }, (_, i) => i + 1);
      for (let off = 4096; off < 65536; off += 4096) cuts.push(off);
      return p.echo(Op.Binary, binaryBytes(65536, 4), { cuts, delayMs: 1 });
    },
  },
  {
    id: '1.3.6',
    title: 'three messages in one TCP write',
    run: async (p) => {
      await p.send([
        { opcode: Op.Text, payload: 'one' },
        { opcode: Op.Binary, payload: binaryBytes(300, 1) },
        { opcode: Op.Text, payload: '' },
      ]);
      await p.expectText('one');
      await p.expectBinary(binaryBytes(300, 1));
      await p.expectText('');
    },
  },
  {
    id: '1.3.7',
    title: 'a message and the first half of the next in one TCP write',
    run: async (p) => {
      const first = { opcode: Op.Text, payload: asciiText(200) };
      const second = binaryBytes(70000, 9);
      const mask = p.side === 'client';
      const bytes = Buffer.concat([
        encodeFrame(first, mask),
        encodeFrame({ opcode: Op.Binary, payload: second }, mask),
      ]);
      const cut = 200 + 8 + 35000;
      await p.sendRaw(bytes.subarray(0, cut), {}, 'text 200 + first half of binary 70000');
      await p.expectText(asciiText(200));
      await p.sendRaw(bytes.subarray(cut), {}, 'rest of binary 70000');
      await p.expectBinary(second);
    },
  },
);

// 1.4 length encodings.
const nonMinimal: [string, FrameSpec][] = [
  ['text 5 bytes with a 16-bit length', { opcode: Op.Text, payload: 'Hello', lengthForm: 16 }],
  ['text 5 bytes with a 64-bit length', { opcode: Op.Text, payload: 'Hello', lengthForm: 64 }],
  [
    'binary 200 bytes with a 64-bit length',
    { opcode: Op.Binary, payload: binaryBytes(200, 2), lengthForm: 64 },
  ],
  ['text 0 bytes with a 16-bit length', { opcode: Op.Text, payload: '', lengthForm: 16 }],
];
nonMinimal.forEach(([title, spec], i) => {
  cases.push({
    id: `1.4.${i + 1}`,
    title: `${title} (non-minimal): echoed or failed with 1002`,
    run: async (p) => {
      await p.send(spec);
      await expectEchoOrFailure(p, spec.opcode, spec.payload as Buffer | string, 1002);
    },
  });
});
const HIGH_BIT = 1n << 63n;
cases.push(
  {
    id: '1.4.5',
    title: '64-bit length with the most significant bit set → 1002',
    tags: ['len64-high-bit'],
    run: async (p) => {
      await p.send({ opcode: Op.Binary, payload: 'abc', lengthForm: 64, declaredLength: HIGH_BIT | 3n });
      await p.expectFailure(1002);
    },
  },
  {
    id: '1.4.6',
    title: '64-bit length 0xFFFFFFFFFFFFFFFF → 1002',
    tags: ['len64-high-bit'],
    run: async (p) => {
      await p.send({ opcode: Op.Text, payload: '', lengthForm: 64, declaredLength: (1n << 64n) - 1n });
      await p.expectFailure(1002);
    },
  },
  {
    id: '1.4.7',
    title: '64-bit length with the high bit set, header sent byte by byte → 1002',
    tags: ['len64-high-bit'],
    run: async (p) => {
      await p.send(
        { opcode: Op.Binary, payload: '', lengthForm: 64, declaredLength: HIGH_BIT },
        { chunkSize: 'byte', delayMs: 1 },
      );
      await p.expectFailure(1002);
    },
  },
);

// 1.5 masking.
cases.push(
  {
    id: '1.5.1',
    title: 'unmasked text frame from the client → 1002',
    roles: ['server'],
    run: async (p) => {
      await p.send({ opcode: Op.Text, payload: 'Hello', mask: false });
      await p.expectFailure(1002);
    },
  },
  {
    id: '1.5.2',
    title: 'unmasked empty binary frame from the client after a valid message → 1002',
    roles: ['server'],
    run: async (p) => {
      await p.echo(Op.Text, 'valid');
      await p.send({ opcode: Op.Binary, payload: '', mask: false });
      await p.expectFailure(1002);
    },
  },
  {
    id: '1.5.3',
    title: 'unmasked ping from the client → 1002',
    roles: ['server'],
    run: async (p) => {
      await p.send({ opcode: Op.Ping, payload: 'x', mask: false });
      await p.expectFailure(1002);
    },
  },
  {
    id: '1.5.4',
    title: 'all-zero mask key is valid',
    roles: ['server'],
    run: async (p) => {
      await p.send({ opcode: Op.Text, payload: 'zero mask', mask: new Uint8Array(4) });
      await p.expectText('zero mask');
    },
  },
  {
    id: '1.5.5',
    title: 'masked text frame from the server → 1002',
    roles: ['client'],
    run: async (p) => {
      await p.send({ opcode: Op.Text, payload: 'Hello', mask: true });
      await p.expectFailure(1002);
    },
  },
  {
    id: '1.5.6',
    title: 'masked empty binary frame from the server after a valid message → 1002',
    roles: ['client'],
    run: async (p) => {
      await p.echo(Op.Text, 'valid');
      await p.send({ opcode: Op.Binary, payload: '', mask: new Uint8Array(4) });
      await p.expectFailure(1002);
    },
  },
  {
    id: '1.5.7',
    title: 'masked ping from the server → 1002',
    roles: ['client'],
    run: async (p) => {
      await p.send({ opcode: Op.Ping, payload: 'x', mask: true });
      await p.expectFailure(1002);
    },
  },
  {
    id: '1.5.8',
    title: 'the client masks every frame with a fresh key',
    roles: ['client'],
    run: async (p) => {
      for (let i = 0; i < 16; i++) await p.echo(Op.Binary, binaryBytes(64, i));
      const keys = new Set(p.maskKeys.map((k) => k.toString('hex')));
      if (keys.size < 8)
        throw new Error(`only ${keys.size} distinct mask keys in 16 frames: ${[...keys].join(' ')}`);
    },
  },
);

conformance('1 framing', cases);
