// Category 3: reserved bits (RFC 6455 5.2): RSV1-3 MUST be 0 unless an extension defining them
// was negotiated — none is here — and the receiver MUST fail the connection (1002).
import { binaryBytes } from './data.js';
import { Op, RSV1, RSV2, RSV3 } from './frames.js';
import { type Case, conformance } from './suite.js';

const RSV_VALUES: [string, number][] = [
  ['RSV1', RSV1],
  ['RSV2', RSV2],
  ['RSV3', RSV3],
  ['RSV1+RSV2', RSV1 | RSV2],
  ['RSV1+RSV3', RSV1 | RSV3],
  ['RSV2+RSV3', RSV2 | RSV3],
  ['RSV1+RSV2+RSV3', RSV1 | RSV2 | RSV3],
];

const FRAMES: [string, number, string | Buffer][] = [
  ['text', Op.Text, 'Hello'],
  ['binary', Op.Binary, binaryBytes(16, 1)],
  ['ping', Op.Ping, 'ping'],
  ['pong', Op.Pong, 'pong'],
  ['close', Op.Close, Buffer.from([0x03, 0xe8])],
];

const cases: Case[] = [];

FRAMES.forEach(([name, opcode, payload], fi) => {
  RSV_VALUES.forEach(([rsvName, rsv], ri) => {
    const basic = ri < 3;
    cases.push({
      id: `3.${fi + 1}.${ri + 1}`,
      title: `${name} frame with ${rsvName} set → 1002`,
      // The client role runs the single-bit variants only (each client case is a process).
      roles: basic || opcode === Op.Text ? ['server', 'client'] : ['server'],
      run: async (p) => {
        await p.send({ opcode, payload, rsv });
        await p.expectFailure(1002);
      },
    });
  });
});

cases.push(
  {
    id: '3.6.1',
    title: 'valid text echoed, then text with RSV2 → 1002',
    run: async (p) => {
      await p.echo(Op.Text, 'Hello');
      await p.send({ opcode: Op.Text, payload: 'Hello', rsv: RSV2 });
      await p.expectFailure(1002);
    },
  },
  {
    id: '3.6.2',
    title: 'text, text with RSV1+RSV2, ping in one write → echo, then 1002 (no pong)',
    run: async (p) => {
      await p.send([
        { opcode: Op.Text, payload: 'Hello' },
        { opcode: Op.Text, payload: 'Hello', rsv: RSV1 | RSV2 },
        { opcode: Op.Ping, payload: '' },
      ]);
      await p.expectText('Hello');
      await p.expectFailure(1002);
    },
  },
  {
    id: '3.6.3',
    title: 'same three frames written frame by frame with pauses → echo, then 1002',
    run: async (p) => {
      await p.sendEach(
        [
          { opcode: Op.Text, payload: 'Hello' },
          { opcode: Op.Text, payload: 'Hello', rsv: RSV3 },
          { opcode: Op.Ping, payload: '' },
        ],
        10,
      );
      await p.expectText('Hello');
      await p.expectFailure(1002);
    },
  },
  {
    id: '3.6.4',
    title: 'first fragment of a text message with RSV1 → 1002',
    run: async (p) => {
      await p.send([
        { opcode: Op.Text, payload: 'Hel', fin: false, rsv: RSV1 },
        { opcode: Op.Continuation, payload: 'lo' },
      ]);
      await p.expectFailure(1002);
    },
  },
  {
    id: '3.6.5',
    title: 'continuation frame with RSV1 → 1002',
    run: async (p) => {
      await p.send([
        { opcode: Op.Text, payload: 'Hel', fin: false },
        { opcode: Op.Continuation, payload: 'lo', rsv: RSV1 },
      ]);
      await p.expectFailure(1002);
    },
  },
  {
    id: '3.6.6',
    title: 'binary with RSV3 and a 16-bit length, written byte by byte → 1002',
    roles: ['server'],
    run: async (p) => {
      await p.send({ opcode: Op.Binary, payload: binaryBytes(200, 3), rsv: RSV3 }, { chunkSize: 'byte' });
      await p.expectFailure(1002);
    },
  },
);

conformance('3 reserved bits', cases);
