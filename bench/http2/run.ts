// WebSockets over HTTP/2 (RFC 8441) against HTTP/1.1, side by side in one run, against one
// wsx server (bench/http2/server.ts, its own process) on one TLS port:
//   - opens: N WebSockets over one h2 connection vs N over their own TLS connections:
//     sockets opened per second, and the server's memory per socket (heap and RSS after GC);
//   - echo: 32 B and 4 KiB messages, 16 sockets, 64 messages in flight on each: messages/s.
// Rounds alternate the protocols; the report gives medians and the h2/HTTP/1.1 ratio.
//   node .build/bench/http2/run.js [--sockets=1000] [--rounds=5] [--messages=100000]
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from '../../src/index.js';

const args = new Map(
  process.argv.slice(2).map((arg) => {
    const [name, value] = arg.replace(/^--/, '').split('=');
    return [name, Number(value)] as const;
  }),
);
const SOCKETS = args.get('sockets') ?? 1_000;
const ROUNDS = args.get('rounds') ?? 5;
const MESSAGES = args.get('messages') ?? 100_000;
const ECHO_SOCKETS = 16;
const IN_FLIGHT = 64;
const TLS = { rejectUnauthorized: false };
type Version = 'h2' | 'http/1.1';

interface Memory {
  rss: number;
  heapUsed: number;
  connections: number;
}

async function startServer(): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(new URL('./server.js', import.meta.url), [], { execArgv: ['--expose-gc'] });
  const [ready] = (await once(child, 'message')) as [{ port: number }];
  return { child, port: ready.port };
}

async function memory(child: ChildProcess): Promise<Memory> {
  child.send('memory');
  const [reply] = (await once(child, 'message')) as [Memory];
  return reply;
}

/** Options that open over `version`; a fresh TLS options object gives h2 a fresh pooled session. */
function options(version: Version, tls: object) {
  return version === 'h2'
    ? { http2: true as const, tls, perMessageDeflate: false }
    : { tls, perMessageDeflate: false };
}

async function opens(version: Version, port: number, child: ChildProcess) {
  const before = await memory(child);
  const tls = { ...TLS };
  const started = process.hrtime.bigint();
  // At most 100 handshakes in flight, as a browser or a load balancer would pace them.
  const sockets: Socket[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 100 }, async () => {
      while (next < SOCKETS) {
        next++;
        sockets.push(await connect(`wss://127.0.0.1:${port}/`, options(version, tls)));
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const after = await memory(child);
  if (after.connections - before.connections !== SOCKETS)
    throw new Error(`expected ${SOCKETS} sockets open, server has ${after.connections - before.connections}`);
  await closeAll(sockets);
  return {
    opensPerSecond: SOCKETS / seconds,
    heapPerSocket: (after.heapUsed - before.heapUsed) / SOCKETS,
    rssPerSocket: (after.rss - before.rss) / SOCKETS,
  };
}

async function echo(version: Version, port: number, size: number): Promise<number> {
  const tls = { ...TLS };
  const payload = Buffer.alloc(size, 'e');
  const perSocket = Math.ceil(MESSAGES / ECHO_SOCKETS);
  let done!: () => void;
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  let remaining = ECHO_SOCKETS;
  const received = new Map<Socket, number>();
  const sockets = await Promise.all(
    Array.from({ length: ECHO_SOCKETS }, () =>
      connect(`wss://127.0.0.1:${port}/`, {
        ...options(version, tls),
        handlers: {
          message: (socket) => {
            const count = (received.get(socket) ?? 0) + 1;
            received.set(socket, count);
            if (count + IN_FLIGHT <= perSocket) socket.send(payload);
            if (count === perSocket && --remaining === 0) done();
          },
        },
      }),
    ),
  );
  const started = process.hrtime.bigint();
  for (const socket of sockets) for (let i = 0; i < IN_FLIGHT; i++) socket.send(payload);
  await finished;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await closeAll(sockets);
  return (perSocket * ECHO_SOCKETS) / seconds;
}

/** Closes every socket and waits until each has closed, so the next measurement starts clean. */
async function closeAll(sockets: readonly Socket[]): Promise<void> {
  for (const socket of sockets) socket.close();
  while (sockets.some((socket) => socket.readyState !== 'closed')) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const { child, port } = await startServer();
const results: Record<string, Record<Version, number[]>> = {};
const record = (name: string, version: Version, value: number) => {
  results[name] ??= { h2: [], 'http/1.1': [] };
  results[name][version].push(value);
};
for (let round = 0; round < ROUNDS; round++) {
  // Alternate which protocol goes first, so neither always meets a warmer machine.
  const order: Version[] = round % 2 === 0 ? ['h2', 'http/1.1'] : ['http/1.1', 'h2'];
  for (const version of order) {
    const opened = await opens(version, port, child);
    record(`open ${SOCKETS} sockets (per s)`, version, opened.opensPerSecond);
    record('server heap per socket (bytes)', version, opened.heapPerSocket);
    record('server RSS per socket (bytes)', version, opened.rssPerSocket);
    record('echo 32 B (messages/s)', version, await echo(version, port, 32));
    record('echo 4 KiB (messages/s)', version, await echo(version, port, 4096));
  }
  process.stderr.write(`round ${round + 1}/${ROUNDS} done\n`);
}
child.disconnect();

const rows = Object.entries(results).map(([name, byVersion]) => {
  const h2 = median(byVersion.h2);
  const h1 = median(byVersion['http/1.1']);
  return `| ${name} | ${Math.round(h2).toLocaleString('en')} | ${Math.round(h1).toLocaleString('en')} | ${(h2 / h1).toFixed(2)} |`;
});
process.stdout.write(
  `Medians of ${ROUNDS} rounds, Node ${process.version}, ${SOCKETS} sockets, echo: ${ECHO_SOCKETS} sockets x ${IN_FLIGHT} in flight, ${MESSAGES} messages, TLS\n\n` +
    '| | HTTP/2 (one connection) | HTTP/1.1 (a connection each) | h2 / HTTP/1.1 |\n|---|---:|---:|---:|\n' +
    `${rows.join('\n')}\n`,
);
process.exit(0);
