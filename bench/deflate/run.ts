/**
 * permessage-deflate benchmark: wsx against ws, both with compression on, side by side.
 *
 *   node .build/bench/deflate/run.js [--runs=3] [--conns=10000] [--workers=4] [--quick]
 *
 * Workloads (each repetition runs every server once, the order rotating between repetitions):
 *   memory  N connections that agreed to permessage-deflate (the browser offer), held idle:
 *           server RSS after a forced GC before and after, per connection. Then every
 *           connection sends one compressed 1 KiB message and gets its compressed echo, so each
 *           holds a decompressor and a compressor (context takeover): RSS per active connection.
 *           Then all stay quiet for `--quiet` seconds (default 12: wsx frees a quiet socket's
 *           zlib contexts after 10 s by default, keeping only its history): RSS per quiet
 *           connection, the steady state of a server whose sockets talk now and then.
 *   echo    1 KiB of JSON-like text, compressed both ways with context takeover, 100
 *           connections x 8 in flight: echoes/s, and server CPU time per echo.
 *
 * Servers (bench/deflate/server.ts): wsx with its defaults (compression is on by default), and
 * ws with `perMessageDeflate: true` (ws turns compression OFF by default; `true` is its default
 * compression settings), ws without bufferutil as `npm install ws` gives it. Load comes from
 * separate processes (bench/deflate/load.ts) pinned to another core than the server when
 * taskset and two cores are there. Table on stdout, every sample in bench/results/deflate.json.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { median } from './common.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..', '..');
const SERVER = join(HERE, 'server.js');
const LOAD = join(HERE, 'load.js');

/** Ratio columns, each shown when both servers ran: the goal of issue 16 is wsx ≥ 1x uWS. */
const RATIOS: Array<[string, string]> = [
  ['wsx', 'ws'],
  ['wsx', 'uws-shared'],
  ['wsx', 'uws-dedicated'],
  ['wsx-takeover', 'uws-dedicated'],
  ['wsx', 'net-deflate'],
  ['net-deflate', 'uws-shared'],
];

function echoName(o: Options): string {
  return `compressed echo ${o.size} B JSON, ${o.echoConns}x${o.inflight}`;
}

const SERVERS = [
  'wsx',
  'wsx-takeover',
  'ws',
  'uws-shared',
  'uws-dedicated',
  'uws-shared-nct',
  'net',
  'net-deflate',
];
/** Floors that only echo (no memory rows): net-deflate keeps nothing a server would for a quiet socket. */
const ECHO_ONLY = ['net-deflate'];
/** Floors that only hold sockets (no echo row): net reflects frames without zlib. */
const MEMORY_ONLY = ['net'];

interface Options {
  runs: number;
  conns: number;
  workers: number;
  echoConns: number;
  inflight: number;
  size: number;
  warmup: number;
  duration: number;
  quiet: number;
  servers: string[];
  only: string[];
  out: string;
}

function parseOptions(): Options {
  const argv = process.argv.slice(2);
  const get = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const quick = argv.includes('--quick');
  const options: Options = {
    runs: Number(get('runs') ?? (quick ? 1 : 3)),
    conns: Number(get('conns') ?? (quick ? 2000 : 10_000)),
    workers: Number(get('workers') ?? 4),
    echoConns: Number(get('echo-conns') ?? 100),
    inflight: Number(get('inflight') ?? 8),
    size: Number(get('size') ?? 1024),
    warmup: Number(get('warmup') ?? (quick ? 0.5 : 1)),
    duration: Number(get('duration') ?? (quick ? 1 : 3)),
    quiet: Number(get('quiet') ?? 12),
    servers: (get('servers') ?? 'wsx,wsx-takeover,ws,uws-shared,uws-dedicated,net').split(','),
    only: (get('only') ?? 'memory,memory-plain,echo').split(','),
    out: get('out') ?? join(ROOT, 'bench', 'results', 'deflate.json'),
  };
  for (const s of options.servers) if (!SERVERS.includes(s)) throw new Error(`unknown server ${s}`);
  return options;
}

// ---- processes ----

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => process.exit(130));
}

let taskset = false;
function pinned(cpu: number, argv: string[]): string[] {
  return taskset ? ['taskset', '-c', String(cpu), ...argv] : argv;
}

/** Through sh, to raise the fd limit to the hard limit first; exec keeps the pid. */
function launch(argv: string[], env: NodeJS.ProcessEnv = process.env): Proc {
  const child = spawn('/bin/sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'sh', ...argv], {
    cwd: ROOT,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return new Proc(child);
}

class Proc {
  readonly lines: string[] = [];
  stderr = '';
  private waiters: Array<() => void> = [];
  exited = false;

  constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.lines.push(line);
      for (const wake of this.waiters.splice(0)) wake();
    });
    child.stderr!.on('data', (data: Buffer) => {
      this.stderr = (this.stderr + data.toString()).slice(-4000);
    });
    child.on('exit', () => {
      this.exited = true;
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  /** The first line matching `re` (read or still to come), removed from the list. */
  async take(re: RegExp, ms: number, what: string): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const index = this.lines.findIndex((l) => re.test(l));
      if (index >= 0) return this.lines.splice(index, 1)[0].match(re)!;
      const error = this.lines.find((l) => l.startsWith('ERROR'));
      if (error) throw new Error(`${what}: ${error}`);
      if (this.exited)
        throw new Error(`${what}: exited ${this.stderr.trim().split('\n').slice(-3).join(' | ')}`);
      if (Date.now() > deadline) throw new Error(`${what}: timed out after ${ms} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  send(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await new Promise<void>((resolve) =>
      this.exited ? resolve() : this.child.once('exit', () => resolve()),
    );
    clearTimeout(timer);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Server {
  proc: Proc;
  port: number;
  pid: number;
  gcCount: number;
}

async function startServer(name: string): Promise<Server> {
  const env = { ...process.env };
  if (name === 'ws') env.WS_NO_BUFFER_UTIL = '1';
  const proc = launch(
    pinned(0, [process.execPath, '--expose-gc', SERVER, `--impl=${name}`, '--port=0']),
    env,
  );
  const m = await proc.take(/^READY port=(\d+) pid=(\d+)/, 20_000, `${name} start`);
  return { proc, port: Number(m[1]), pid: Number(m[2]), gcCount: 0 };
}

function rssOf(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

interface Memory {
  rss: number;
  /** V8 heap in use and external memory (Buffers), as the server reported after its GC. */
  heap: number;
  external: number;
}

/** Full GC in the server, then its RSS (from /proc) and heap figures. */
async function gcRss(server: Server): Promise<Memory> {
  process.kill(server.pid, 'SIGUSR2');
  const m = await server.proc.take(/^GC rss=(\d+) heap=(\d+) external=(\d+)/, 10_000, 'GC');
  await sleep(200);
  return { rss: rssOf(server.pid), heap: Number(m[2]), external: Number(m[3]) };
}

/** Server CPU seconds so far (user + system), from /proc/PID/stat. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

// ---- workloads ----

interface MemorySample {
  server: string;
  /** No extension offered: the reference without permessage-deflate (no active phase). */
  plain: boolean;
  conns: number;
  base: Memory;
  idle: Memory;
  active: Memory | null;
  /** After `quiet` seconds without traffic, following the active phase. */
  quiet: Memory | null;
  /** RSS growth per connection, bytes. */
  idlePerConn: number;
  activePerConn: number;
  quietPerConn: number;
  /** V8 heap growth per idle connection, bytes. */
  idleHeapPerConn: number;
  extensions: string;
}

async function memorySample(name: string, o: Options, plain: boolean): Promise<MemorySample> {
  const server = await startServer(name);
  const workers: Proc[] = [];
  try {
    await sleep(300);
    const base = await gcRss(server);
    const per = Math.ceil(o.conns / o.workers);
    let extensions = '';
    let opened = 0;
    for (let i = 0; i < o.workers; i++) {
      const count = Math.min(per, o.conns - i * per);
      if (count <= 0) break;
      workers.push(
        launch(
          pinned(1, [
            process.execPath,
            LOAD,
            '--mode=hold',
            `--url=ws://127.0.0.1:${server.port}/`,
            `--conns=${count}`,
            `--offer=${plain ? 'none' : 'deflate'}`,
          ]),
        ),
      );
    }
    for (const worker of workers) {
      const m = await worker.take(/^OPEN (\d+) ?(.*)$/, 120_000, `${name}: open connections`);
      opened += Number(m[1]);
      extensions = m[2];
    }
    if (opened !== o.conns) throw new Error(`${name}: opened ${opened} of ${o.conns}`);
    await sleep(500);
    const idle = await gcRss(server);
    const idlePerConn = (idle.rss - base.rss) / o.conns;
    const idleHeapPerConn = (idle.heap - base.heap) / o.conns;
    if (plain) {
      return {
        server: name,
        plain,
        conns: o.conns,
        base,
        idle,
        active: null,
        quiet: null,
        idlePerConn,
        activePerConn: Number.NaN,
        quietPerConn: Number.NaN,
        idleHeapPerConn,
        extensions,
      };
    }
    for (const worker of workers) worker.send('active');
    let echoed = 0;
    let compressed = 0;
    for (const worker of workers) {
      const m = await worker.take(/^ACTIVE (\d+) (\d+)$/, 120_000, `${name}: one compressed echo each`);
      echoed += Number(m[1]);
      compressed += Number(m[2]);
    }
    if (echoed !== o.conns) throw new Error(`${name}: ${echoed} of ${o.conns} echoes`);
    if (compressed !== echoed) throw new Error(`${name}: ${echoed - compressed} echoes came uncompressed`);
    await sleep(500);
    const active = await gcRss(server);
    let quiet: Memory | null = null;
    if (o.quiet > 0) {
      await sleep(o.quiet * 1000);
      quiet = await gcRss(server);
    }
    return {
      server: name,
      plain,
      conns: o.conns,
      base,
      idle,
      active,
      quiet,
      idlePerConn,
      activePerConn: (active.rss - base.rss) / o.conns,
      quietPerConn: quiet === null ? Number.NaN : (quiet.rss - base.rss) / o.conns,
      idleHeapPerConn,
      extensions,
    };
  } finally {
    for (const worker of workers) worker.send('quit');
    await Promise.all(workers.map((w) => w.stop()));
    await server.proc.stop();
  }
}

interface EchoSample {
  server: string;
  perSecond: number;
  cpuPerEcho: number;
  serverCpuPct: number;
  /** The load generator's CPU, % of one core: near 100% means it, not the server, set the pace. */
  loadCpuPct: number;
  extensions: string;
  /** Mean compressed payload of the echoes received (bytes on the wire, frame header aside). */
  echoBytes: number;
  /** The compressed payload each client sends once its window is full (or every time without context). */
  sentBytes: number;
}

async function echoSample(name: string, o: Options): Promise<EchoSample> {
  const server = await startServer(name);
  const load = launch(
    pinned(1, [
      process.execPath,
      LOAD,
      '--mode=echo',
      `--url=ws://127.0.0.1:${server.port}/`,
      `--conns=${o.echoConns}`,
      `--inflight=${o.inflight}`,
      `--size=${o.size}`,
      `--warmup=${o.warmup}`,
      `--duration=${o.duration}`,
    ]),
  );
  try {
    await load.take(/^MEASURE$/, 60_000, `${name}: echo warm-up`);
    const cpuStart = cpuSeconds(server.pid);
    const m = await load.take(/^RESULT (.*)$/, 60_000 + o.duration * 1000, `${name}: echo`);
    const cpu = cpuSeconds(server.pid) - cpuStart;
    const result = JSON.parse(m[1]) as {
      echoes: number;
      seconds: number;
      perSecond: number;
      cpuPct: number;
      extensions: string;
      wire: {
        compressed: number;
        plain: number;
        compressedBytes: number;
        sentBytes: number;
        messageBytes: number;
      };
    };
    // the point of the bench: deflate agreed (load.ts checks) and every echo compressed on the wire
    if (result.wire.compressed === 0 || result.wire.plain > 0) {
      throw new Error(
        `${name}: ${result.wire.plain} echoes uncompressed, ${result.wire.compressed} compressed (agreed: ${result.extensions})`,
      );
    }
    return {
      server: name,
      perSecond: result.perSecond,
      cpuPerEcho: (cpu / result.echoes) * 1e6,
      serverCpuPct: (cpu / result.seconds) * 100,
      loadCpuPct: result.cpuPct,
      extensions: result.extensions,
      echoBytes: result.wire.compressedBytes / result.wire.compressed,
      sentBytes: result.wire.sentBytes,
    };
  } finally {
    await load.stop();
    await server.proc.stop();
  }
}

// ---- report ----

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

function row(cells: string[], widths: number[]): string {
  return cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
}

async function main(): Promise<void> {
  const o = parseOptions();
  try {
    execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
    taskset = os.availableParallelism() >= 2;
  } catch {
    taskset = false;
  }
  const hardLimit = Number(execFileSync('/bin/sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim());
  if ((o.only.includes('memory') || o.only.includes('memory-plain')) && hardLimit < o.conns + 1000) {
    throw new Error(`fd hard limit ${hardLimit} < ${o.conns + 1000}: raise it (ulimit -Hn) and retry`);
  }
  process.stdout.write(
    `permessage-deflate bench: ${o.servers.join(' vs ')}, ${o.runs} run(s), ${o.conns} conns for memory, ` +
      `echo ${o.size} B x ${o.echoConns} conns x ${o.inflight} in flight for ${o.duration} s; ` +
      (taskset ? 'server on cpu 0, load on cpu 1\n' : 'no CPU pinning\n'),
  );
  const memory: MemorySample[] = [];
  const echo: EchoSample[] = [];
  for (let run = 0; run < o.runs; run++) {
    const order = o.servers.map((_, i) => o.servers[(i + run) % o.servers.length]);
    if (o.only.includes('memory-plain')) {
      for (const name of order.filter((n) => !ECHO_ONLY.includes(n))) {
        const sample = await memorySample(name, o, true);
        memory.push(sample);
        process.stdout.write(
          `  run ${run + 1} memory ${name.padEnd(14)}: idle ${kib(sample.idlePerConn)}/conn (heap ${kib(sample.idleHeapPerConn)}), no extension offered\n`,
        );
      }
    }
    if (o.only.includes('memory')) {
      for (const name of order.filter((n) => !ECHO_ONLY.includes(n))) {
        const sample = await memorySample(name, o, false);
        memory.push(sample);
        process.stdout.write(
          `  run ${run + 1} memory ${name.padEnd(14)}: idle ${kib(sample.idlePerConn)}/conn (heap ${kib(sample.idleHeapPerConn)}), active ${kib(sample.activePerConn)}/conn, quiet ${kib(sample.quietPerConn)}/conn (agreed: ${sample.extensions})\n`,
        );
      }
    }
    if (o.only.includes('echo')) {
      for (const name of order.filter((n) => !MEMORY_ONLY.includes(n))) {
        const sample = await echoSample(name, o);
        echo.push(sample);
        process.stdout.write(
          `  run ${run + 1} echo   ${name.padEnd(14)}: ${Math.round(sample.perSecond)} echoes/s, ${sample.cpuPerEcho.toFixed(1)} µs server CPU/echo, ` +
            `server ${Math.round(sample.serverCpuPct)}% / load ${Math.round(sample.loadCpuPct)}% of a core, ` +
            `echo ${sample.echoBytes.toFixed(0)} B compressed (agreed: ${sample.extensions})\n`,
        );
      }
    }
  }

  const med = <T>(samples: T[], server: string, pick: (s: T) => number) =>
    median(samples.filter((s) => (s as { server: string }).server === server).map(pick));
  const range = <T>(samples: T[], server: string, pick: (s: T) => number, fmt: (n: number) => string) => {
    const values = samples.filter((s) => (s as { server: string }).server === server).map(pick);
    return values.length === 0 ? '-' : `${fmt(Math.min(...values))}..${fmt(Math.max(...values))}`;
  };
  const metrics: Array<{
    name: string;
    samples: Array<MemorySample | EchoSample>;
    pick: (s: never) => number;
    fmt: (n: number) => string;
    better: string;
  }> = [];
  const deflateMemory = memory.filter((s) => !s.plain);
  const plainMemory = memory.filter((s) => s.plain);
  if (deflateMemory.length > 0) {
    metrics.push({
      name: `server RSS / idle conn (deflate agreed, ${o.conns} conns)`,
      samples: deflateMemory,
      pick: (s: MemorySample) => s.idlePerConn,
      fmt: kib,
      better: 'lower',
    });
    metrics.push({
      name: '  of which V8 heap / idle conn (deflate agreed)',
      samples: deflateMemory,
      pick: (s: MemorySample) => s.idleHeapPerConn,
      fmt: kib,
      better: 'lower',
    });
    metrics.push({
      name: 'server RSS / active conn (after 1 compressed echo)',
      samples: deflateMemory,
      pick: (s: MemorySample) => s.activePerConn,
      fmt: kib,
      better: 'lower',
    });
    if (o.quiet > 0) {
      metrics.push({
        name: `server RSS / conn quiet for ${o.quiet} s after that echo`,
        samples: deflateMemory,
        pick: (s: MemorySample) => s.quietPerConn,
        fmt: kib,
        better: 'lower',
      });
    }
  }
  if (plainMemory.length > 0) {
    metrics.push({
      name: 'reference: server RSS / idle conn, no extension',
      samples: plainMemory,
      pick: (s: MemorySample) => s.idlePerConn,
      fmt: kib,
      better: 'lower',
    });
  }
  if (echo.length > 0) {
    metrics.push({
      name: echoName(o),
      samples: echo,
      pick: (s: EchoSample) => s.perSecond,
      fmt: (n) => `${Math.round(n)}/s`,
      better: 'higher',
    });
    metrics.push({
      // what the server would do if it had a core to itself: the figure to compare when the
      // machine, not the server, sets the pace (echoes/s above then varies from run to run)
      name: 'echoes per second of server CPU (1 / CPU per echo)',
      samples: echo,
      pick: (s: EchoSample) => 1e6 / s.cpuPerEcho,
      fmt: (n) => `${Math.round(n)}/s`,
      better: 'higher',
    });
    metrics.push({
      name: 'server CPU per echo',
      samples: echo,
      pick: (s: EchoSample) => s.cpuPerEcho,
      fmt: (n) => `${n.toFixed(1)} µs`,
      better: 'lower',
    });
    metrics.push({
      name: '  server CPU during echo (% of one core)',
      samples: echo,
      pick: (s: EchoSample) => s.serverCpuPct,
      fmt: (n) => `${Math.round(n)}%`,
      better: '-',
    });
    metrics.push({
      name: '  load generator CPU during echo (% of one core)',
      samples: echo,
      pick: (s: EchoSample) => s.loadCpuPct,
      fmt: (n) => `${Math.round(n)}%`,
      better: '-',
    });
    metrics.push({
      name: '  echo payload on the wire, server to client',
      samples: echo,
      pick: (s: EchoSample) => s.echoBytes,
      fmt: (n) => `${n.toFixed(0)} B`,
      better: '-',
    });
    metrics.push({
      name: '  message payload on the wire, client to server',
      samples: echo,
      pick: (s: EchoSample) => s.sentBytes,
      fmt: (n) => `${n.toFixed(0)} B`,
      better: '-',
    });
  }
  // Columns: every server's median, the ratios of the pairs that ran, and the spread of wsx and ws.
  const names = o.servers;
  const pairs = RATIOS.filter(([a, b]) => names.includes(a) && names.includes(b));
  const spread = ['wsx', 'ws'].filter((n) => names.includes(n));
  const header = ['metric (median of runs)', ...names.map((n) => (n === 'net' ? 'net (floor)' : n))];
  header.push(...pairs.map(([a, b]) => `${a}/${b}`), ...spread.map((n) => `${n} min..max`));
  const widths = [
    52,
    ...names.map((n) => Math.max(13, n.length)),
    ...pairs.map(([a, b]) => a.length + b.length + 1),
    ...spread.map(() => 22),
  ];
  const lines = [
    row(header, widths),
    row(
      widths.map((w) => '-'.repeat(w)),
      widths,
    ),
  ];
  const summary: Record<string, unknown> = {};
  for (const m of metrics) {
    const pick = m.pick as (s: MemorySample | EchoSample) => number;
    const values: Record<string, number> = {};
    const cells = [m.name];
    for (const name of names) {
      const has = m.samples.some((s) => s.server === name);
      values[name] = has ? med(m.samples, name, pick) : Number.NaN;
      cells.push(has ? m.fmt(values[name]) : '-');
    }
    const ratios: Record<string, number> = {};
    for (const [a, b] of pairs) {
      ratios[`${a}/${b}`] = values[a] / values[b];
      cells.push(Number.isNaN(ratios[`${a}/${b}`]) ? '-' : ratios[`${a}/${b}`].toFixed(2));
    }
    for (const n of spread) cells.push(range(m.samples, n, pick, m.fmt));
    const entry: Record<string, unknown> = { ...values, better: m.better, ratios, ratio: ratios['wsx/ws'] };
    lines.push(row(cells, widths));
    summary[m.name] = entry;
  }
  process.stdout.write(`\n${lines.join('\n')}\n`);
  process.stdout.write(
    '\nws runs with perMessageDeflate: true (its default is OFF) and its default deflate settings, without bufferutil.\n' +
      'All: 15-bit windows, memLevel 8, level 6, 1 KiB threshold. Clients keep context (as browsers do).\n' +
      "wsx (defaults): the server sends without context takeover (one shared compressor), frees quiet sockets' zlib after 10 s.\n" +
      'wsx-takeover: serverNoContextTakeover: false, a compressor per socket like ws, also freed after 10 s quiet.\n' +
      'uws-shared: uWS.SHARED_COMPRESSOR | DEDICATED_DECOMPRESSOR, agrees to what wsx agrees to; uws-dedicated:\n' +
      '  DEDICATED_COMPRESSOR_256KB (15-bit window, memLevel 8) | DEDICATED_DECOMPRESSOR, context kept both ways;\n' +
      '  uws-shared-nct: SHARED_COMPRESSOR alone (uWS then asks clients for client_no_context_takeover).\n' +
      'net (floor): node:net holding the same sockets, no WebSocket library and no zlib (memory rows only).\n' +
      "net-deflate (floor): node:net and Node's zlib (its handle's writeSync), agreeing to what wsx agrees to,\n" +
      '  no checks and no history: the cheapest compressed echo Node allows (echo row only).\n',
  );
  for (const [row, what] of [
    [echoName(o), 'echoes/s'],
    ['echoes per second of server CPU (1 / CPU per echo)', 'echoes per CPU second'],
  ]) {
    const ratios = (summary[row] as { ratios: Record<string, number> } | undefined)?.ratios;
    for (const key of ['wsx/uws-shared', 'wsx/uws-dedicated', 'wsx-takeover/uws-dedicated']) {
      const ratio = ratios?.[key];
      if (ratio === undefined) continue;
      process.stdout.write(
        `target (${what} at least 1x uWS), ${key}: ${ratio >= 1 ? 'met' : 'NOT met'} (${ratio.toFixed(2)})\n`,
      );
    }
  }
  // Where Node's floor stands: how far the goal against uWS is reachable from Node at all.
  const perCpu = (
    summary['echoes per second of server CPU (1 / CPU per echo)'] as
      | { ratios: Record<string, number> }
      | undefined
  )?.ratios;
  if (perCpu?.['net-deflate/uws-shared'] !== undefined) {
    process.stdout.write(
      `floor, echoes per CPU second: net-deflate/uws-shared ${perCpu['net-deflate/uws-shared'].toFixed(2)}` +
        (perCpu['wsx/net-deflate'] === undefined
          ? '\n'
          : `, wsx/net-deflate ${perCpu['wsx/net-deflate'].toFixed(2)}\n`),
    );
  }
  if (deflateMemory.length > 0 && names.includes('wsx') && names.includes('ws')) {
    for (const m of metrics.filter((m) => m.samples === deflateMemory && !m.name.includes('heap'))) {
      const ratio = (summary[m.name] as { ratio: number }).ratio;
      process.stdout.write(
        `target (at most half of ws's), ${m.name.trim()}: ${ratio <= 0.5 ? 'met' : 'NOT met'} (${ratio.toFixed(2)})\n`,
      );
    }
  }
  mkdirSync(dirname(o.out), { recursive: true });
  writeFileSync(
    o.out,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        node: process.version,
        cpus: os.availableParallelism(),
        pinning: taskset ? { server: 0, load: 1 } : null,
        options: o,
        notes: 'ws: perMessageDeflate: true (default OFF), its default settings, WS_NO_BUFFER_UTIL=1',
        summary,
        memory,
        echo,
      },
      null,
      2,
    )}\n`,
  );
  process.stdout.write(`samples in ${o.out}\n`);
}

await main();
