// Category 4: opcodes (RFC 6455 5.2): 0x3-0x7 are reserved non-control opcodes and 0xB-0xF
// reserved control opcodes; receiving any of them MUST fail the connection (1002).
import { Op } from './frames.js';
import { type Case, conformance } from './suite.js';

const RESERVED = [3, 4, 5, 6, 7, 11, 12, 13, 14, 15];

const cases: Case[] = [];

RESERVED.forEach((opcode, i) => {
  const group = opcode < 8 ? 1 : 2;
  cases.push(
    {
      id: `4.${group}.${i + 1}.1`,
      title: `reserved opcode ${opcode} without payload → 1002`,
      run: async (p) => {
        await p.send({ opcode });
        await p.expectFailure(1002);
      },
    },
    {
      id: `4.${group}.${i + 1}.2`,
      title: `reserved opcode ${opcode} with payload → 1002`,
      roles: ['server'],
      run: async (p) => {
        await p.send({ opcode, payload: 'reserved opcode payload' });
        await p.expectFailure(1002);
      },
    },
    {
      id: `4.${group}.${i + 1}.3`,
      title: `valid text echoed, then reserved opcode ${opcode} and a ping in one write → 1002, no pong`,
      roles: opcode === 3 || opcode === 11 ? ['server', 'client'] : ['server'],
      run: async (p) => {
        await p.echo(Op.Text, 'Hello');
        await p.send([{ opcode, payload: 'x' }, { opcode: Op.Ping }]);
        await p.expectFailure(1002);
      },
    },
  );
});

cases.push(
  {
    id: '4.3.1',
    title: 'text, reserved opcode 5, ping in one write → echo, then 1002 (no pong)',
    run: async (p) => {
      await p.send([{ opcode: Op.Text, payload: 'Hello' }, { opcode: 5 }, { opcode: Op.Ping }]);
      await p.expectText('Hello');
      await p.expectFailure(1002);
    },
  },
  {
    id: '4.3.2',
    title: 'reserved opcode 7 with fin=0 → 1002',
    roles: ['server'],
    run: async (p) => {
      await p.send({ opcode: 7, payload: 'x', fin: false });
      await p.expectFailure(1002);
    },
  },
  {
    id: '4.3.3',
    title: 'reserved opcode 13 between two fragments → 1002',
    run: async (p) => {
      await p.send([
        { opcode: Op.Text, payload: 'Hel', fin: false },
        { opcode: 13 },
        { opcode: Op.Continuation, payload: 'lo' },
      ]);
      await p.expectFailure(1002);
    },
  },
);

conformance('4 opcodes', cases);
