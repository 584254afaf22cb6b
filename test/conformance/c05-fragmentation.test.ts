// Category 5: fragmentation (RFC 6455 5.4): messages split into fragments, control frames
// interleaved between fragments, and the sequencing errors that MUST fail the connection.
import { asciiText, binaryBytes, fragmentsOf, mixedText } from './data.js';
import { type FrameSpec, Op } from './frames.js';
import { type Case, conformance } from './suite.js';

const cases: Case[] = [];

// 5.1 fragmented control frames.
cases.push(
  {
    id: '5.1.1',
    title: 'ping fragmented into 2 frames → 1002',
    run: async (p) => {
      await p.send([
        { opcode: Op.Ping, payload: 'frag', fin: false },
        { opcode: Op.Continuation, payload: 'ment' },
      ]);
      await p.expectFailure(1002);
    },
  },
  {
    id: '5.1.2',
    title: 'pong fragmented into 2 frames → 1002',
    run: async (p) => {
      await p.send([
        { opcode: Op.Pong, payload: 'frag', fin: false },
        { opcode: Op.Continuation, payload: 'ment' },
      ]);
      await p.expectFailure(1002);
    },
  },
  {
    id: '5.1.3',
    title: 'close fragmented into 2 frames → 1002',
    run: async (p) => {
      await p.send([
        { opcode: Op.Close, payload: Buffer.from([0x03]), fin: false },
        { opcode: Op.Continuation, payload: Buffer.from([0xe8]) },
      ]);
      await p.expectFailure(1002);
    },
  },
  {
    id: '5.1.4',
    title: 'ping with fin=0 inside a fragmented text message → 1002',
    run: async (p) => {
      await p.send([
        { opcode: Op.Text, payload: 'Hel', fin: false },
        { opcode: Op.Ping, payload: 'x', fin: false },
        { opcode: Op.Continuation, payload: 'lo' },
      ]);
      await p.expectFailure(1002);
    },
  },
);

// 5.2 valid fragmented messages.

function fragmented(
  id: string,
  title: string,
  opcode: number,
  payload: Buffer | string,
  sizes: number | number[],
  opts: { delayMs?: number; byteWise?: boolean; roles?: Case['roles'] } = {},
): Case {
  return {
    id,
    title,
    roles: opts.roles,
    run: async (p) => {
      const frames = fragmentsOf(opcode, payload, sizes);
      if (opts.byteWise) await p.send(frames, { chunkSize: 'byte' });
      else if (opts.delayMs !== undefined) await p.sendEach(frames, opts.delayMs);
      else await p.send(frames);
      await p.expectMessage(opcode, payload);
    },
  };
}

cases.push(
  fragmented('5.2.1', 'text in 2 fragments, one write', Op.Text, 'fragment1fragment2', 9),
  fragmented('5.2.2', 'binary in 2 fragments, one write', Op.Binary, binaryBytes(40, 1), 20),
  fragmented('5.2.3', 'text in 2 fragments, written with a 20 ms pause', Op.Text, 'fragment1fragment2', 9, {
    delayMs: 20,
  }),
  fragmented('5.2.4', 'text in 3 fragments', Op.Text, 'abcdefghi', 3),
  fragmented('5.2.5', 'text in 10 fragments', Op.Text, asciiText(100), 10, { roles: ['server'] }),
  fragmented('5.2.6', 'binary in 100 fragments', Op.Binary, binaryBytes(1000, 2), 10),
  fragmented('5.2.7', 'text in 1-byte fragments', Op.Text, 'Hello, world!', 1),
  fragmented('5.2.8', 'multi-byte text in 1-byte fragments', Op.Text, mixedText(40), 1),
  fragmented('5.2.9', 'binary in 1-byte fragments written byte by byte', Op.Binary, binaryBytes(20, 3), 1, {
    byteWise: true,
  }),
  fragmented('5.2.10', 'text: empty first fragment', Op.Text, 'payload', [0]),
  fragmented('5.2.11', 'text: empty last fragment', Op.Text, 'payload', [7, 0]),
  fragmented('5.2.12', 'text: all three fragments empty', Op.Text, '', [0, 0, 0]),
  fragmented(
    '5.2.13',
    'binary: empty fragments between data',
    Op.Binary,
    binaryBytes(6, 4),
    [2, 0, 0, 2, 0, 2, 0],
  ),
  fragmented(
    '5.2.14',
    'binary 200000 bytes in 3 fragments (7-, 16- and 64-bit lengths)',
    Op.Binary,
    binaryBytes(200000, 5),
    [100, 60000],
  ),
  fragmented('5.2.15', 'text 65536 bytes in 64 fragments', Op.Text, asciiText(65536), 1024, {
    roles: ['server'],
  }),
);

// 5.3 control frames interleaved between fragments.
cases.push(
  {
    id: '5.3.1',
    title: 'ping between two text fragments (one write) → pong, then echo',
    run: async (p) => {
      await p.send([
        { opcode: Op.Text, payload: 'fragment1', fin: false },
        { opcode: Op.Ping, payload: 'ping payload' },
        { opcode: Op.Continuation, payload: 'fragment2' },
      ]);
      await p.expectPong('ping payload');
      await p.expectText('fragment1fragment2');
    },
  },
  {
    id: '5.3.2',
    title: 'ping between two text fragments written with pauses → pong, then echo',
    run: async (p) => {
      await p.send({ opcode: Op.Text, payload: 'fragment1', fin: false });
      await p.ping('ping payload');
      await p.expectPong('ping payload');
      await p.send({ opcode: Op.Continuation, payload: 'fragment2' });
      await p.expectText('fragment1fragment2');
    },
  },
  {
    id: '5.3.3',
    title: 'ping between two binary fragments written byte by byte → pong, then echo',
    run: async (p) => {
      await p.send(
        [
          { opcode: Op.Binary, payload: binaryBytes(5, 1), fin: false },
          { opcode: Op.Ping, payload: 'ping payload' },
          { opcode: Op.Continuation, payload: binaryBytes(5, 2) },
        ],
        { chunkSize: 'byte' },
      );
      await p.expectPong('ping payload');
      await p.expectBinary(Buffer.concat([binaryBytes(5, 1), binaryBytes(5, 2)]));
    },
  },
  {
    id: '5.3.4',
    title: 'unsolicited pong between two text fragments → echo only',
    run: async (p) => {
      await p.send([
        { opcode: Op.Text, payload: 'fragment1', fin: false },
        { opcode: Op.Pong, payload: 'unsolicited' },
        { opcode: Op.Continuation, payload: 'fragment2' },
      ]);
      await p.expectText('fragment1fragment2');
    },
  },
  {
    id: '5.3.5',
    title: 'pings between each of 5 fragments, one write → 4 pongs, then echo',
    run: async (p) => {
      const frames: FrameSpec[] = [];
      const parts = ['a', 'b', 'c', 'd', 'e'];
      parts.forEach((part, i) => {
        frames.push({
          opcode: i === 0 ? Op.Text : Op.Continuation,
          payload: part,
          fin: i === parts.length - 1,
        });
        if (i < parts.length - 1) frames.push({ opcode: Op.Ping, payload: `ping-${i}` });
      });
      await p.send(frames);
      for (let i = 0; i < 4; i++) await p.expectPong(`ping-${i}`);
      await p.expectText('abcde');
    },
  },
  {
    id: '5.3.6',
    title: 'ping and pong between fragments, with a split multi-byte character',
    run: async (p) => {
      const text = Buffer.from('κόσμε', 'utf8');
      await p.send([
        { opcode: Op.Text, payload: text.subarray(0, 3), fin: false },
        { opcode: Op.Ping, payload: 'p1' },
        { opcode: Op.Pong, payload: 'p2' },
        { opcode: Op.Continuation, payload: text.subarray(3) },
      ]);
      await p.expectPong('p1');
      await p.expectText(text);
    },
  },
  {
    id: '5.3.7',
    title: 'close 1000 inside a fragmented message → close reply, unfinished message not echoed',
    run: async (p) => {
      await p.send({ opcode: Op.Text, payload: 'fragment1', fin: false });
      await p.closeNormally(1000);
    },
  },
);

// 5.4 sequencing errors.
cases.push(
  {
    id: '5.4.1',
    title: 'continuation with fin=1 without a started message → 1002',
    run: async (p) => {
      await p.send({ opcode: Op.Continuation, payload: 'non-continuation payload' });
      await p.expectFailure(1002);
    },
  },
  {
    id: '5.4.2',
    title: 'continuation with fin=0, then fin=1, without a started message → 1002',
    run: async (p) => {
      await p.send([
        { opcode: Op.Continuation, payload: 'fragment1', fin: false },
        { opcode: Op.Continuation, payload: 'fragment2' },
      ]);
      await p.expectFailure(1002);
    },
  },
  {
    id: '5.4.3',
    title: 'continuation after a complete message → echo, then 1002',
    run: async (p) => {
      await p.send([
        { opcode: Op.Text, payload: 'complete' },
        { opcode: Op.Continuation, payload: 'stray' },
      ]);
      await p.expectText('complete');
      await p.expectFailure(1002);
    },
  },
  {
    id: '5.4.4',
    title: 'continuation after a completed fragmented message → echo, then 1002',
    run: async (p) => {
      await p.send([
        { opcode: Op.Text, payload: 'frag', fin: false },
        { opcode: Op.Continuation, payload: 'ment' },
        { opcode: Op.Continuation, payload: 'stray' },
      ]);
      await p.expectText('fragment');
      await p.expectFailure(1002);
    },
  },
  {
    id: '5.4.5',
    title: 'empty continuation with fin=1 as the first frame → 1002',
    run: async (p) => {
      await p.send({ opcode: Op.Continuation });
      await p.expectFailure(1002);
    },
  },
  {
    id: '5.4.6',
    title: 'text frame (fin=1) inside a fragmented text message → 1002',
    run: async (p) => {
      await p.send([
        { opcode: Op.Text, payload: 'fragment1', fin: false },
        { opcode: Op.Text, payload: 'fragment2' },
      ]);
      await p.expectFailure(1002);
    },
  },
  {
    id: '5.4.7',
    title: 'text frame (fin=0) inside a fragmented text message → 1002',
    run: async (p) => {
      await p.send([
        { opcode: Op.Text, payload: 'fragment1', fin: false },
        { opcode: Op.Text, payload: 'fragment2', fin: false },
        { opcode: Op.Continuation, payload: 'fragment3' },
      ]);
      await p.expectFailure(1002);
    },
  },
  {
    id: '5.4.8',
    title: 'binary frame inside a fragmented text message → 1002',
    run: async (p) => {
      await p.send([
        { opcode: Op.Text, payload: 'fragment1', fin: false },
        { opcode: Op.Binary, payload: 'fragment2' },
      ]);
      await p.expectFailure(1002);
    },
  },
  {
    id: '5.4.9',
    title: 'text frame inside a fragmented binary message, written with pauses → 1002',
    run: async (p) => {
      await p.sendEach(
        [
          { opcode: Op.Binary, payload: 'fragment1', fin: false },
          { opcode: Op.Continuation, payload: 'fragment2', fin: false },
          { opcode: Op.Text, payload: 'fragment3' },
        ],
        10,
      );
      await p.expectFailure(1002);
    },
  },
  {
    id: '5.4.10',
    title: 'ping interleaved, then a new text frame inside the fragmented message → pong, then 1002',
    run: async (p) => {
      await p.send([
        { opcode: Op.Text, payload: 'fragment1', fin: false },
        { opcode: Op.Ping, payload: 'pp' },
        { opcode: Op.Text, payload: 'fragment2' },
      ]);
      await p.expectPong('pp');
      await p.expectFailure(1002);
    },
  },
  {
    id: '5.4.11',
    title: 'continuation without start written byte by byte with pauses → 1002',
    roles: ['server'],
    run: async (p) => {
      await p.send({ opcode: Op.Continuation, payload: 'abc' }, { chunkSize: 'byte', delayMs: 1 });
      await p.expectFailure(1002);
    },
  },
);

conformance('5 fragmentation', cases);
