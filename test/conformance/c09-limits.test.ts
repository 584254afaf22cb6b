// Category 9: big and many messages — payloads up to 16 MiB in one frame and fragmented,
// delivery in many small TCP chunks, thousands of small messages. The server runs with
// --max-payload 67108864; the client keeps its default limit of 16 MiB.
import { asciiText, binaryBytes, fragmentsOf, mixedText } from './data.js';
import { type FrameSpec, Op } from './frames.js';
import { type Case, conformance } from './suite.js';

const KiB = 1024;
const MiB = 1024 * 1024;
const BIG_TIMEOUT = 20_000;

const cache = new Map<string, Buffer>();
function text(n: number): Buffer {
  const key = `t${n}`;
  let b = cache.get(key);
  if (!b) cache.set(key, (b = Buffer.from(asciiText(n))));
  return b;
}
function binary(n: number): Buffer {
  const key = `b${n}`;
  let b = cache.get(key);
  if (!b) cache.set(key, (b = binaryBytes(n, 9)));
  return b;
}

const SIZES = [64 * KiB, 256 * KiB, MiB, 4 * MiB, 16 * MiB];
const CLIENT_SIZES = new Set([MiB, 16 * MiB]);

const cases: Case[] = [];

SIZES.forEach((n, i) => {
  const roles = CLIENT_SIZES.has(n) ? (['server', 'client'] as const) : (['server'] as const);
  cases.push(
    {
      id: `9.1.${i + 1}`,
      title: `text message of ${n / KiB} KiB in one frame`,
      roles,
      timeoutMs: 60_000,
      run: async (p) => {
        await p.text(text(n));
        await p.expectText(text(n), BIG_TIMEOUT);
      },
    },
    {
      id: `9.2.${i + 1}`,
      title: `binary message of ${n / KiB} KiB in one frame`,
      roles,
      timeoutMs: 60_000,
      run: async (p) => {
        await p.binary(binary(n));
        await p.expectBinary(binary(n), BIG_TIMEOUT);
      },
    },
  );
});

// 9.3 a 4 MiB message fragmented into fragments of various sizes.
[64, KiB, 64 * KiB, MiB].forEach((size, i) => {
  cases.push({
    id: `9.3.${i + 1}`,
    title: `binary 4 MiB in fragments of ${size} bytes`,
    roles: size === 64 * KiB ? ['server', 'client'] : ['server'],
    timeoutMs: 60_000,
    run: async (p) => {
      await p.send(fragmentsOf(Op.Binary, binary(4 * MiB), size));
      await p.expectBinary(binary(4 * MiB), BIG_TIMEOUT);
    },
  });
});
cases.push(
  {
    id: '9.3.5',
    title: 'multi-byte text 1 MiB in 999-byte fragments (characters split across fragments)',
    timeoutMs: 60_000,
    run: async (p) => {
      const t = mixedText(MiB);
      await p.send(fragmentsOf(Op.Text, t, 999));
      await p.expectText(t, BIG_TIMEOUT);
    },
  },
  {
    id: '9.3.6',
    title: 'text of exactly 16 MiB in 16 fragments of 1 MiB',
    timeoutMs: 60_000,
    run: async (p) => {
      await p.send(fragmentsOf(Op.Text, text(16 * MiB), MiB));
      await p.expectText(text(16 * MiB), BIG_TIMEOUT);
    },
  },
  {
    id: '9.3.7',
    title: 'binary 32 MiB in one frame (under --max-payload 64 MiB)',
    roles: ['server'],
    timeoutMs: 60_000,
    run: async (p) => {
      const b = Buffer.concat([binary(16 * MiB), binary(16 * MiB)]);
      await p.binary(b);
      await p.expectBinary(b, BIG_TIMEOUT);
    },
  },
);

// 9.4 a 1 MiB message delivered in small TCP chunks.
[
  [64, 'text'],
  [4 * KiB, 'binary'],
  [65 * KiB, 'text'],
].forEach(([size, kind], i) => {
  cases.push({
    id: `9.4.${i + 1}`,
    title: `${kind} 1 MiB in one frame written in TCP chunks of ${size} bytes`,
    roles: i === 1 ? ['server', 'client'] : ['server'],
    timeoutMs: 60_000,
    run: async (p) => {
      const opcode = kind === 'text' ? Op.Text : Op.Binary;
      const payload = kind === 'text' ? mixedText(MiB) : binary(MiB);
      await p.send({ opcode, payload }, { chunkSize: size as number });
      await p.expectMessage(opcode, payload, BIG_TIMEOUT);
    },
  });
});

// 9.5 many small messages.
function many(n: number, kind: 'text' | 'binary' | 'mixed'): FrameSpec[] {
  return Array.from({ length: n }, (_, i) => {
    const binaryMsg = kind === 'binary' || (kind === 'mixed' && i % 2 === 1);
    return binaryMsg
      ? { opcode: Op.Binary, payload: binaryBytes(i % 64, i) }
      : { opcode: Op.Text, payload: `message ${i} ${'κ'.repeat(i % 7)}` };
  });
}
(
  [
    ['1000 text messages in one write', 1000, 'text', 1],
    ['1000 binary messages in one write', 1000, 'binary', 1],
    ['5000 mixed messages in writes of 100', 5000, 'mixed', 100],
    ['2000 mixed messages, each its own write', 2000, 'mixed', 2000],
  ] as const
).forEach(([title, n, kind, writes], i) => {
  cases.push({
    id: `9.5.${i + 1}`,
    title,
    roles: i === 2 ? ['server', 'client'] : ['server'],
    timeoutMs: 60_000,
    run: async (p) => {
      const frames = many(n, kind);
      const per = Math.ceil(n / writes);
      for (let w = 0; w < n; w += per) await p.send(frames.slice(w, w + per));
      for (const f of frames) await p.expectMessage(f.opcode, f.payload ?? '', BIG_TIMEOUT);
    },
  });
});
cases.push({
  id: '9.5.5',
  title: '1000 pings in one write → 1000 pongs',
  roles: ['server'],
  run: async (p) => {
    await p.send(Array.from({ length: 1000 }, (_, i) => ({ opcode: Op.Ping, payload: `${i}` })));
    for (let i = 0; i < 1000; i++) await p.expectPong(`${i}`);
  },
});

// 9.6 concurrency and back-pressure.
cases.push(
  {
    id: '9.6.1',
    title: '50 concurrent connections, each echoing 20 messages',
    roles: ['server'],
    timeoutMs: 60_000,
    run: async (_p, ctx) => {
      const peers = await Promise.all(Array.from({ length: 50 }, () => ctx.open()));
      try {
        await Promise.all(
          peers.map(async (q, i) => {
            const frames = many(20, 'mixed').map((f) => ({ ...f, payload: `${i}:${f.payload}` }));
            await q.send(frames);
            for (const f of frames) await q.expectMessage(f.opcode, f.payload, BIG_TIMEOUT);
            await q.closeNormally();
          }),
        );
      } finally {
        for (const q of peers) q.destroy();
      }
    },
  },
  {
    id: '9.6.2',
    title: 'peer stops reading for 500 ms while sending 4 × 4 MiB: every echo arrives intact afterwards',
    timeoutMs: 60_000,
    run: async (p) => {
      const msgs = [0, 1, 2, 3].map((i) => binaryBytes(4 * MiB, 100 + i));
      p.socket.pause();
      for (const m of msgs) void p.binary(m);
      await new Promise((r) => setTimeout(r, 500));
      p.socket.resume();
      for (const m of msgs) await p.expectBinary(m, BIG_TIMEOUT);
    },
  },
);

conformance('9 big and many', cases, { serverArgs: ['--max-payload', '67108864'] });
