// Category 7: the closing handshake (RFC 6455 5.5.1, 7.1-7.4): close codes and reasons,
// 1-byte and oversized payloads, data after a close, and who closes TCP.
import assert from 'node:assert/strict';
import { binaryBytes } from './data.js';
import { closePayload, Op } from './frames.js';
import type { WsPeer } from './peer.js';
import { type Case, conformance } from './suite.js';
import { hexBytes } from './utf8.js';

const VALID_CODES = [
  1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999,
];
const INVALID_CODES = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];
const CLIENT_VALID = new Set([1000, 1001, 1003, 1011, 3000, 4999]);
const CLIENT_INVALID = new Set([0, 999, 1004, 1005, 1006, 1015, 2999, 5000]);

/**
 * Sends a close frame with `payload` and expects the reply to carry the same bytes: the code
 * and the reason (as browsers and other stacks answer), or nothing when the close had nothing.
 */
async function expectCloseEchoed(p: WsPeer, payload: Buffer): Promise<void> {
  await p.send({ opcode: Op.Close, payload });
  const reply = await p.expectClose('any');
  assert.equal(
    reply.payload.toString('hex'),
    payload.toString('hex'),
    'the close reply echoes the close payload',
  );
  await p.finishTcp();
  p.outcome = 'clean';
}

const cases: Case[] = [
  {
    id: '7.1.1',
    title: 'close 1000 → close 1000 reply, then the server closes TCP',
    run: (p) => p.closeNormally(1000),
  },
  {
    id: '7.1.2',
    title: 'close without payload → close reply (empty or 1000)',
    run: (p) => p.closeNormally(undefined),
  },
  {
    id: '7.1.3',
    title: 'close 1000 with a reason → close 1000',
    run: (p) => p.closeNormally(1000, 'Hello World!'),
  },
  {
    id: '7.1.4',
    title: 'close, then text in the same write → close reply only, text ignored',
    run: async (p) => {
      await p.send([
        { opcode: Op.Close, payload: closePayload(1000) },
        { opcode: Op.Text, payload: 'after close' },
      ]);
      await p.expectClose(1000);
      await p.finishTcp();
      p.outcome = 'clean';
    },
  },
  {
    id: '7.1.5',
    title: 'close, then ping in the same write → no pong',
    run: async (p) => {
      await p.send([
        { opcode: Op.Close, payload: closePayload(1000) },
        { opcode: Op.Ping, payload: 'after close' },
      ]);
      await p.expectClose(1000);
      await p.finishTcp();
      p.outcome = 'clean';
    },
  },
  {
    id: '7.1.6',
    title: 'two close frames in one write → exactly one close reply',
    run: async (p) => {
      await p.send([
        { opcode: Op.Close, payload: closePayload(1000) },
        { opcode: Op.Close, payload: closePayload(1001) },
      ]);
      await p.expectClose(1000);
      await p.finishTcp();
      p.outcome = 'clean';
    },
  },
  {
    id: '7.1.7',
    title: 'text and close in one write → echo, then close reply',
    run: async (p) => {
      await p.send([
        { opcode: Op.Text, payload: 'before close' },
        { opcode: Op.Close, payload: closePayload(1000) },
      ]);
      await p.expectText('before close');
      await p.expectClose(1000);
      await p.finishTcp();
      p.outcome = 'clean';
    },
  },
  {
    id: '7.1.8',
    title: 'data sent after the close reply arrived is ignored',
    run: async (p) => {
      await p.close(1000);
      await p.expectClose(1000);
      await p.send([
        { opcode: Op.Text, payload: 'late text' },
        { opcode: Op.Ping, payload: 'late ping' },
      ]);
      await p.finishTcp();
      p.outcome = 'clean';
    },
  },
  {
    id: '7.1.9',
    title: 'close after a fragmented message was completed → close reply',
    run: async (p) => {
      await p.send([
        { opcode: Op.Binary, payload: 'frag', fin: false },
        { opcode: Op.Continuation, payload: 'ment' },
      ]);
      await p.expectBinary('fragment');
      await p.closeNormally(1000);
    },
  },
  {
    id: '7.1.10',
    title: '256 KiB text, close and ping in one write → echo, close reply, no pong',
    run: async (p) => {
      const big = 'z'.repeat(256 * 1024);
      await p.send([
        { opcode: Op.Text, payload: big },
        { opcode: Op.Close, payload: closePayload(1000) },
        { opcode: Op.Ping, payload: 'after close' },
      ]);
      await p.expectText(big);
      await p.expectClose(1000);
      await p.finishTcp();
      p.outcome = 'clean';
    },
  },
  {
    id: '7.1.11',
    title: "close 4000 'bye-é' → the reply carries 4000 and 'bye-é'",
    run: (p) => expectCloseEchoed(p, closePayload(4000, 'bye-é')),
  },
  {
    id: '7.1.12',
    title: 'close 4000 without a reason → the reply carries 4000 and no reason',
    run: (p) => expectCloseEchoed(p, closePayload(4000)),
  },
  {
    id: '7.1.13',
    title: 'close without payload → an empty close reply',
    run: (p) => expectCloseEchoed(p, closePayload()),
  },
  {
    id: '7.1.14',
    title: 'close with a 123-byte reason → the reply carries the same 123 bytes',
    run: (p) => expectCloseEchoed(p, closePayload(1000, `${'é'.repeat(61)}x`)),
  },
  {
    id: '7.2.1',
    title: 'close with a 1-byte payload → 1002',
    run: async (p) => {
      await p.send({ opcode: Op.Close, payload: Buffer.from([0x03]) });
      await p.expectFailure(1002);
    },
  },
  {
    id: '7.2.2',
    title: 'close 1000 with a 123-byte reason (125-byte payload) → close 1000',
    run: (p) => p.closeNormally(1000, 'r'.repeat(123)),
  },
  {
    id: '7.2.3',
    title: 'close 1000 with a 124-byte reason (126-byte payload) → 1002',
    run: async (p) => {
      await p.close(1000, 'r'.repeat(124));
      await p.expectClose(1002);
      await p.finishTcp();
      p.outcome = 'failed';
    },
  },
  {
    id: '7.2.4',
    title: 'close 1000 with a multi-byte UTF-8 reason → close 1000',
    run: (p) => p.closeNormally(1000, 'κόσμε 中文 😀'),
  },
  {
    id: '7.2.5',
    title: 'close 1000 with a 123-byte reason of 4-byte characters split at the end → 1007',
    roles: ['server'],
    run: async (p) => {
      // 30 × 4-byte characters = 120 bytes, then the first 3 bytes of another: invalid UTF-8.
      const reason = Buffer.concat([Buffer.from('😀'.repeat(30)), Buffer.from('😀').subarray(0, 3)]);
      await p.close(1000, reason);
      await p.expectClose(1007);
      await p.finishTcp();
      p.outcome = 'failed';
    },
  },
];

VALID_CODES.forEach((code, i) => {
  cases.push({
    id: `7.3.${i + 1}`,
    title: `close with valid code ${code} → the code is echoed`,
    roles: CLIENT_VALID.has(code) ? ['server', 'client'] : ['server'],
    run: async (p) => {
      await p.close(code, `code ${code}`);
      await p.expectClose(code);
      await p.finishTcp();
      p.outcome = 'clean';
    },
  });
});

INVALID_CODES.forEach((code, i) => {
  cases.push({
    id: `7.4.${i + 1}`,
    title: `close with invalid code ${code} → 1002`,
    roles: CLIENT_INVALID.has(code) ? ['server', 'client'] : ['server'],
    run: async (p) => {
      await p.close(code);
      await p.expectClose(1002);
      await p.finishTcp();
      p.outcome = 'failed';
    },
  });
});

const BAD_REASONS: [string, string][] = [
  ['surrogate', 'ce ba e1 bd b9 ed a0 80'],
  ['overlong', 'c0 80'],
  ['above U+10FFFF', 'f4 90 80 80'],
  ['byte FF', '48 65 ff 6c 6c 6f'],
  ['truncated at the end', '48 65 6c 6c 6f ce'],
];
BAD_REASONS.forEach(([name, hex], i) => {
  cases.push({
    id: `7.5.${i + 1}`,
    title: `close 1000 with an invalid UTF-8 reason (${name}) → 1007`,
    roles: i < 2 ? ['server', 'client'] : ['server'],
    run: async (p) => {
      await p.close(1000, hexBytes(hex));
      await p.expectClose(1007);
      await p.finishTcp();
      p.outcome = 'failed';
    },
  });
});

cases.push(
  {
    id: '7.6.1',
    title: 'after failing the connection the server closes TCP even if the client never answers',
    roles: ['server'],
    run: async (p) => {
      await p.send({ opcode: 5 });
      await p.expectClose(1002);
      await p.expectTcpClosed(3000);
      p.outcome = 'failed';
    },
  },
  {
    id: '7.6.2',
    title: 'after a normal close the server closes TCP while the client keeps it open',
    roles: ['server'],
    run: async (p) => {
      await p.echo(Op.Binary, binaryBytes(10, 1));
      await p.close(1000);
      await p.expectClose(1000);
      await p.expectTcpClosed(3000);
      p.outcome = 'clean';
    },
  },
  {
    id: '7.6.3',
    title: 'server-initiated close: the client replies and does not close TCP before the server',
    roles: ['client'],
    tags: ['client-closes-tcp-first'],
    run: async (p) => {
      await p.echo(Op.Text, 'hello');
      await p.close(1000, 'bye');
      await p.expectClose(1000);
      await p.expectSilence(300);
      await p.end();
      await p.expectTcpClosed();
      p.outcome = 'clean';
    },
  },
  {
    id: '7.6.4',
    title: 'server sends close and then text in one write: the client ignores the text',
    roles: ['client'],
    run: async (p) => {
      await p.send([
        { opcode: Op.Close, payload: closePayload(1000) },
        { opcode: Op.Text, payload: 'after close' },
      ]);
      await p.expectClose(1000);
      await p.finishTcp();
      p.outcome = 'clean';
    },
  },
  {
    id: '7.6.5',
    title: 'server drops TCP without a close frame: the client exits non-zero',
    roles: ['client'],
    clientExit: 'nonzero',
    run: async (p) => {
      await p.echo(Op.Text, 'hello');
      p.destroy();
      p.outcome = 'failed';
    },
  },
  {
    id: '7.6.6',
    title: 'a clean close exits 0 also after a server close with code 1001 and no reason',
    roles: ['client'],
    clientExit: 'zero',
    run: async (p) => {
      await p.close(1001);
      await p.expectClose(1001);
      await p.finishTcp();
      p.outcome = 'clean';
    },
  },
);

conformance('7 close', cases);
