// Category 2: ping and pong (RFC 6455 5.5.2, 5.5.3): a ping is answered by a pong with the
// identical payload, control payloads are limited to 125 bytes, unsolicited pongs are ignored.
import { asciiText, binaryBytes } from './data.js';
import { Op } from './frames.js';
import { type Case, conformance } from './suite.js';

const cases: Case[] = [
  {
    id: '2.1',
    title: 'ping without payload → pong without payload',
    run: async (p) => {
      await p.ping();
      await p.expectPong();
    },
  },
  {
    id: '2.2',
    title: 'ping with a small text payload → identical pong',
    run: async (p) => {
      await p.ping('Hello, wsx!');
      await p.expectPong('Hello, wsx!');
    },
  },
  {
    id: '2.3',
    title: 'ping with a binary payload (all byte values) → identical pong',
    run: async (p) => {
      const payload = Buffer.from([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff, 0x80, 0xc0]);
      await p.ping(payload);
      await p.expectPong(payload);
    },
  },
  {
    id: '2.4',
    title: 'ping with 125 bytes of binary payload → identical pong',
    run: async (p) => {
      await p.ping(binaryBytes(125, 2));
      await p.expectPong(binaryBytes(125, 2));
    },
  },
  {
    id: '2.5',
    title: 'ping with 126 bytes of payload → 1002',
    run: async (p) => {
      await p.ping(binaryBytes(126, 2));
      await p.expectFailure(1002);
    },
  },
  {
    id: '2.6',
    title: 'ping with 125 bytes written byte by byte with pauses → identical pong',
    run: async (p) => {
      await p.ping(asciiText(125), { chunkSize: 'byte', delayMs: 1 });
      await p.expectPong(asciiText(125));
    },
  },
  {
    id: '2.7',
    title: 'unsolicited pong without payload is ignored',
    run: async (p) => {
      await p.pong();
      await p.echo(Op.Text, 'after pong');
    },
  },
  {
    id: '2.8',
    title: 'unsolicited pong with payload is ignored',
    run: async (p) => {
      await p.pong('unsolicited pong payload');
      await p.expectSilence(50);
      await p.echo(Op.Text, 'after pong');
    },
  },
  {
    id: '2.9',
    title: 'unsolicited pong, then ping → exactly one pong for the ping',
    run: async (p) => {
      await p.pong('unsolicited pong payload');
      await p.ping('my ping payload');
      await p.expectPong('my ping payload');
      await p.expectSilence(50);
    },
  },
  {
    id: '2.10',
    title: '10 pings in one write → 10 pongs in order',
    run: async (p) => {
      await p.send(Array.from({ length: 10 }, (_, i) => ({ opcode: Op.Ping, payload: `payload-${i}` })));
      for (let i = 0; i < 10; i++) await p.expectPong(`payload-${i}`);
    },
  },
  {
    id: '2.11',
    title: '10 pings written one by one with 10 ms pauses → 10 pongs in order',
    run: async (p) => {
      await p.sendEach(
        Array.from({ length: 10 }, (_, i) => ({ opcode: Op.Ping, payload: `payload-${i}` })),
        10,
      );
      for (let i = 0; i < 10; i++) await p.expectPong(`payload-${i}`);
    },
  },
  {
    id: '2.12',
    title: 'pong with 126 bytes of payload → 1002',
    run: async (p) => {
      await p.pong(binaryBytes(126, 5));
      await p.expectFailure(1002);
    },
  },
  {
    id: '2.13',
    title: 'ping with payload 126 announced with a 16-bit length → 1002',
    run: async (p) => {
      await p.send({ opcode: Op.Ping, payload: binaryBytes(126, 6), lengthForm: 16 });
      await p.expectFailure(1002);
    },
  },
  {
    id: '2.14',
    title: 'ping with 5 bytes announced with a 16-bit length (non-minimal): pong or 1002',
    run: async (p) => {
      await p.send({ opcode: Op.Ping, payload: 'Hello', lengthForm: 16 });
      const f = await p.peekFrame();
      if (f.opcode === Op.Close) await p.expectFailure(1002);
      else await p.expectPong('Hello');
    },
  },
  {
    id: '2.15',
    title: 'ping between two messages → pong ordered between the echoes',
    run: async (p) => {
      await p.send([
        { opcode: Op.Text, payload: 'first' },
        { opcode: Op.Ping, payload: 'middle' },
        { opcode: Op.Binary, payload: 'last' },
      ]);
      await p.expectText('first');
      await p.expectPong('middle');
      await p.expectBinary('last');
    },
  },
];

// 2.16.x: ping payload sizes 0..125.
for (const n of [0, 1, 2, 3, 10, 50, 100, 123, 124, 125]) {
  cases.push({
    id: `2.16.${n}`,
    title: `ping with ${n} bytes → identical pong`,
    roles: n === 0 || n === 125 ? ['server', 'client'] : ['server'],
    run: async (p) => {
      await p.ping(binaryBytes(n, n));
      await p.expectPong(binaryBytes(n, n));
    },
  });
}

conformance('2 ping/pong', cases);
