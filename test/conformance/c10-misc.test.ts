// Category 10: limits and process behaviour — messages over --max-payload fail with 1009,
// the default limit of 16 MiB, and shutdown on SIGTERM (close 1001, exit 0).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { binaryBytes, fragmentsOf } from './data.js';
import { Op } from './frames.js';
import { connectPeer } from './peer.js';
import { type Case, conformance } from './suite.js';
import { startServer, within } from './target.js';

const MiB = 1024 * 1024;

const small: Case[] = [
  {
    id: '10.1.1',
    title: 'binary of exactly --max-payload (1024) bytes is echoed',
    roles: ['server'],
    run: (p) => p.echo(Op.Binary, binaryBytes(1024, 1)),
  },
  {
    id: '10.1.2',
    title: 'text of 1025 bytes over --max-payload 1024 → 1009',
    roles: ['server'],
    run: async (p) => {
      await p.text('x'.repeat(1025));
      await p.expectFailure(1009);
    },
  },
  {
    id: '10.1.3',
    title: 'binary in fragments of 512 + 513 bytes (message over the limit) → 1009',
    roles: ['server'],
    run: async (p) => {
      await p.send(fragmentsOf(Op.Binary, binaryBytes(1025, 2), 512));
      await p.expectFailure(1009);
    },
  },
  {
    id: '10.1.4',
    title: 'binary 1024 bytes in 4 fragments is echoed',
    roles: ['server'],
    run: async (p) => {
      await p.send(fragmentsOf(Op.Binary, binaryBytes(1024, 3), 256));
      await p.expectBinary(binaryBytes(1024, 3));
    },
  },
  {
    id: '10.1.5',
    title: 'frame header announcing 2^32 bytes → 1009 without waiting for the payload',
    roles: ['server'],
    run: async (p) => {
      await p.send({ opcode: Op.Binary, payload: '', lengthForm: 64, declaredLength: 1n << 32n });
      await p.expectFailure(1009);
    },
  },
  {
    id: '10.1.6',
    title: 'many fragments each under the limit, together over it → 1009',
    roles: ['server'],
    run: async (p) => {
      await p.send(fragmentsOf(Op.Text, 'y'.repeat(2000), 100));
      await p.expectFailure(1009);
    },
  },
];

const defaults: Case[] = [
  {
    id: '10.2.1',
    title: 'binary of exactly 16 MiB (the default limit) is echoed',
    timeoutMs: 60_000,
    run: async (p) => {
      const b = binaryBytes(16 * MiB, 4);
      await p.binary(b);
      await p.expectBinary(b, 20_000);
    },
  },
  {
    id: '10.2.2',
    title: 'binary of 16 MiB + 1 byte (over the default limit) → 1009',
    timeoutMs: 60_000,
    run: async (p) => {
      await p.binary(binaryBytes(16 * MiB + 1, 5));
      await p.expectFailure(1009, 20_000);
    },
  },
  {
    id: '10.2.3',
    title: 'fragments of 8 MiB + 8 MiB + 1 byte → 1009',
    roles: ['server'],
    timeoutMs: 60_000,
    run: async (p) => {
      await p.send(fragmentsOf(Op.Binary, binaryBytes(16 * MiB + 1, 6), [8 * MiB, 8 * MiB]));
      await p.expectFailure(1009, 20_000);
    },
  },
  {
    id: '10.2.4',
    title: 'frame header announcing 2^40 bytes → 1009',
    run: async (p) => {
      await p.send({ opcode: Op.Text, payload: '', lengthForm: 64, declaredLength: 1n << 40n });
      await p.expectFailure(1009);
    },
  },
];

conformance('10 max payload 1024', small, { serverArgs: ['--max-payload', '1024'] });
conformance('10 default limits', defaults);

describe('10.3 process behaviour', () => {
  it('10.3.1 SIGTERM closes every connection with 1001 and exits 0; stdout holds only the listening line', async () => {
    const server = await startServer();
    const peers = [];
    try {
      for (let i = 0; i < 2; i++) peers.push((await connectPeer(server.url)).peer);
      await peers[0].echo(Op.Text, 'before shutdown');
      server.proc.kill('SIGTERM');
      for (const p of peers) {
        await p.expectClose(1001);
        await p.close(1001);
        await p.expectTcpClosed();
      }
      const exit = await within(server.exited, 5000);
      assert.ok(exit, 'the server did not exit within 5 s after SIGTERM');
      assert.deepEqual(exit, { code: 0, signal: null });
      assert.equal(server.stdoutAfterFirstLine(), '', 'stdout must hold only the listening line');
    } catch (err) {
      const e = err as Error;
      e.message += peers.map((p, i) => `\n  --- connection ${i} ---\n${p.transcript()}`).join('');
      e.message += `\n  --- server stderr ---\n${server.stderr().slice(-1500)}`;
      throw e;
    } finally {
      for (const p of peers) p.destroy();
      await server.stop(1000);
    }
  });

  it('10.3.2 SIGTERM right after the listening line exits 0 (8 times)', async () => {
    // A supervisor may signal as soon as it sees the listening line: the handler must already
    // be installed by then.
    const failures: string[] = [];
    for (let i = 0; i < 8; i++) {
      const server = await startServer();
      try {
        server.proc.kill('SIGTERM');
        const exit = await within(server.exited, 5000);
        if (!exit) failures.push(`run ${i}: no exit within 5 s`);
        else if (exit.code !== 0) failures.push(`run ${i}: exit code ${exit.code}, signal ${exit.signal}`);
      } finally {
        await server.stop(1000);
      }
    }
    assert.deepEqual(
      failures,
      [],
      'the server must exit 0 on SIGTERM at any time after printing its listening line',
    );
  });
});
