/**
 * Side-by-side WebSocket server benchmark.
 *
 *   npm run bench -- [--quick] [--only=w1,w2] [--servers=s1,s2] [--runs=N]
 *                    [--duration=S] [--warmup=S] [--server-cpu=N] [--gen-cpu=N] [--out=FILE]
 *                    [--wait-quiet=S] [--cpu-prof=DIR] [--node-flags=a,b]
 *
 * Every server is a small script in bench/servers/, started fresh for every
 * sample and pinned to one core; the C load generator (bench/loadgen) is
 * pinned to another. Repetitions are round-robin across the servers (with a
 * rotating start) so drift on the machine lands on all of them alike. The
 * report gives medians, the ratio to `ws` (as installed from npm, without
 * bufferutil), and the CPU used by the server and by the generator.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { pairedRatioLines } from './paired.js';

// ---------------------------------------------------------------- paths

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LOADGEN_BUILD = fileURLToPath(new URL('../../bench/loadgen/build.sh', import.meta.url));
const RESULTS_DIR = fileURLToPath(new URL('../../bench/results/', import.meta.url));
const LOADGEN_BIN = `${RESULTS_DIR}loadgen`;
const SERVERS_DIR = fileURLToPath(new URL('./servers/', import.meta.url));

// ---------------------------------------------------------------- options

interface Options {
  quick: boolean;
  runs: number;
  duration: number;
  warmup: number;
  only: string[] | null;
  servers: string[] | null;
  serverCpu: number;
  genCpu: number;
  out: string;
  waitQuiet: number;
  /** Where servers write V8 CPU profiles (`--cpu-prof`), one per sample; null: none. */
  cpuProf: string | null;
  /** Flags for every server's node process (`--node-flags`), e.g. V8 heap settings. */
  nodeFlags: string[];
}

function parseOptions(argv: string[]): Options {
  const o: Options = {
    quick: false,
    runs: 5,
    duration: 2,
    warmup: 1,
    only: null,
    servers: null,
    serverCpu: 0,
    genCpu: 1,
    out: `${RESULTS_DIR}latest.json`,
    waitQuiet: 0,
    cpuProf: null,
    nodeFlags: [],
  };
  let runsGiven = false;
  let durationGiven = false;
  let warmupGiven = false;
  for (const arg of argv) {
    const [key, value = ''] = arg.split(/=(.*)/s, 2);
    switch (key) {
      case '--quick':
        o.quick = true;
        break;
      case '--runs':
        o.runs = positive(key, value);
        runsGiven = true;
        break;
      case '--duration':
        o.duration = positive(key, value);
        durationGiven = true;
        break;
      case '--warmup':
        o.warmup = Number(value);
        warmupGiven = true;
        break;
      case '--only':
        o.only = value.split(',').filter(Boolean);
        break;
      case '--servers':
        o.servers = value.split(',').filter(Boolean);
        break;
      case '--server-cpu':
        o.serverCpu = Number(value);
        break;
      case '--gen-cpu':
        o.genCpu = Number(value);
        break;
      case '--out':
        o.out = value;
        break;
      case '--wait-quiet':
        o.waitQuiet = Number(value);
        if (!Number.isFinite(o.waitQuiet) || o.waitQuiet < 0)
          throw new Error('--wait-quiet needs seconds >= 0');
        break;
      case '--cpu-prof':
        if (value === '') throw new Error('--cpu-prof needs a directory');
        o.cpuProf = value;
        break;
      case '--node-flags':
        o.nodeFlags = value.split(',').filter(Boolean);
        break;
      case '--help':
      case '-h':
        process.stdout.write(
          `${readFileSync(fileURLToPath(new URL('../../bench/README.md', import.meta.url)), 'utf8')}\n`,
        );
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${arg} (see bench/README.md)`);
    }
  }
  if (o.quick) {
    if (!runsGiven) o.runs = 1;
    if (!durationGiven) o.duration = 0.5;
    if (!warmupGiven) o.warmup = 0.3;
  }
  if (!Number.isFinite(o.warmup) || o.warmup < 0) throw new Error('--warmup must be >= 0');
  return o;
}

function positive(key: string, value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${key} needs a positive number`);
  return n;
}

// ---------------------------------------------------------------- servers

interface ServerDef {
  name: string;
  label: string;
  script: string;
  env: Record<string, string>;
  /** raw = node:net echo, speaks no WebSocket */
  raw: boolean;
  /** Only when named in --servers (variants for comparisons). */
  optIn?: boolean;
  /** Takes part only in workloads of these kinds (a floor made for one of them). */
  kinds?: readonly Kind[];
}

const SERVERS: ServerDef[] = [
  { name: 'wsx', label: 'wsx', script: 'wsx.js', env: {}, raw: false },
  {
    name: 'wsx-http',
    label: 'wsx (http parser)',
    script: 'wsx.js',
    env: { WSX_HTTP_PARSER: '1' },
    raw: false,
    optIn: true,
  },
  { name: 'wsx/ws', label: 'wsx/ws (ws API)', script: 'wsx-ws.js', env: {}, raw: false },
  { name: 'ws', label: 'ws', script: 'ws.js', env: { WS_NO_BUFFER_UTIL: '1' }, raw: false },
  { name: 'ws+bufferutil', label: 'ws+bufferutil', script: 'ws.js', env: {}, raw: false },
  { name: 'uws', label: 'uWebSockets.js', script: 'uws.js', env: {}, raw: false },
  { name: 'net', label: 'node:net (raw)', script: 'net.js', env: {}, raw: true },
  {
    name: 'net-handshake',
    label: 'node:net (bare handshake)',
    script: 'net-handshake.js',
    env: {},
    raw: false,
    kinds: ['handshake'],
  },
  {
    name: 'net-handshake-checked',
    label: 'node:net (handshake, RFC checks)',
    script: 'net-handshake-checked.js',
    env: {},
    raw: false,
    kinds: ['handshake'],
  },
  {
    name: 'net-broadcast',
    label: 'node:net (bare broadcast)',
    script: 'net-broadcast.js',
    env: {},
    raw: false,
    kinds: ['broadcast'],
  },
];
// WSX_BENCH_REF=/path/to/another/checkout (built with `npm run bench` there) adds `wsx-ref`:
// that checkout's wsx server, for a before/after comparison inside one run.
const REF_ROOT = process.env.WSX_BENCH_REF;
if (REF_ROOT !== undefined && REF_ROOT !== '') {
  SERVERS.push({
    name: 'wsx-ref',
    label: 'wsx (WSX_BENCH_REF)',
    script: resolvePath(REF_ROOT, '.build/bench/servers/wsx.js'),
    env: {},
    raw: false,
    optIn: true,
  });
}
const BASELINE = 'ws';
/** --wait-quiet retakes a sample when the rest of the machine used more than this (% of a core). */
const OTHER_CPU_RETRY = 60;

// ---------------------------------------------------------------- workloads

type Kind = 'echo' | 'handshake' | 'idle' | 'broadcast';

interface Workload {
  name: string;
  title: string;
  kind: Kind;
  unit: 'msg/s' | 'B/s' | 'conn/s' | 'B/conn';
  higherIsBetter: boolean;
  /** generator arguments (besides port/pid/proto) */
  args: (o: Options) => string[];
  /** the raw node:net peer can take part */
  raw: boolean;
  /** connections the workload holds at once (for the fd check) */
  conns: (o: Options) => number;
}

function echo(
  name: string,
  title: string,
  conns: number,
  inflight: number,
  size: number,
  extra: string[] = [],
) {
  const w: Workload = {
    name,
    title,
    kind: 'echo',
    unit: size >= 1 << 20 ? 'B/s' : 'msg/s',
    higherIsBetter: true,
    raw: true,
    conns: () => conns,
    args: (o) => [
      '--mode=echo',
      `--conns=${conns}`,
      `--inflight=${inflight}`,
      `--size=${size}`,
      `--warmup=${o.warmup}`,
      `--duration=${o.duration}`,
      ...extra,
    ],
  };
  return w;
}

const IDLE_CONNS = (o: Options) => (o.quick ? 2000 : 10000);
const BROADCAST_CONNS = (o: Options) => (o.quick ? 2000 : 10000);
const HANDSHAKES = (o: Options) => (o.quick ? 3000 : 20000);

const WORKLOADS: Workload[] = [
  echo('echo-32b-100x16', 'echo 32 B binary, 100 conns x 16 in flight', 100, 16, 32),
  echo('echo-32b-1000x1', 'echo 32 B binary, 1000 conns x 1 in flight', 1000, 1, 32),
  echo('echo-4k-50x8', 'echo 4 KiB binary, 50 conns x 8 in flight', 50, 8, 4096),
  echo('echo-1m-4x2', 'echo 1 MiB binary, 4 conns x 2 in flight', 4, 2, 1 << 20),
  echo('text-1k-100x8', 'echo 1 KiB UTF-8 text, 100 conns x 8 in flight', 100, 8, 1024, ['--text']),
  // The same echoes from a client that writes every frame with its own system call (most real
  // clients: one send() per message), so the server gets many small reads instead of a batch.
  echo('echo-32b-100x16-sep', 'echo 32 B, 100 x 16, every frame a separate write', 100, 16, 32, [
    '--separate-writes',
  ]),
  // (1,000 x 1 is not repeated: one frame in flight is one write either way.)
  echo('echo-4k-50x8-sep', 'echo 4 KiB, 50 x 8, every frame a separate write', 50, 8, 4096, [
    '--separate-writes',
  ]),
  echo('echo-1m-4x2-sep', 'echo 1 MiB, 4 x 2, every frame a separate write', 4, 2, 1 << 20, [
    '--separate-writes',
  ]),
  echo('text-1k-100x8-sep', 'echo 1 KiB text, 100 x 8, every frame a separate write', 100, 8, 1024, [
    '--text',
    '--separate-writes',
  ]),
  {
    name: 'handshake',
    title: 'handshakes (open, upgrade, close), 200 at a time',
    kind: 'handshake',
    unit: 'conn/s',
    higherIsBetter: true,
    raw: true,
    conns: () => 200,
    args: (o) => ['--mode=handshake', `--total=${HANDSHAKES(o)}`, '--concurrency=200'],
  },
  {
    name: 'idle-memory',
    title: 'server RSS per idle connection',
    kind: 'idle',
    unit: 'B/conn',
    higherIsBetter: false,
    raw: true,
    conns: IDLE_CONNS,
    args: (o) => ['--mode=idle', `--conns=${IDLE_CONNS(o)}`, '--concurrency=200', '--hold=120'],
  },
  {
    name: 'broadcast',
    title: 'broadcast one 64 B text message to every connection',
    kind: 'broadcast',
    unit: 'msg/s',
    higherIsBetter: true,
    raw: false,
    conns: BROADCAST_CONNS,
    args: (o) => [
      '--mode=broadcast',
      `--conns=${BROADCAST_CONNS(o)}`,
      '--concurrency=200',
      `--rounds=${o.quick ? 5 : 15}`,
      '--warm-rounds=2',
      '--payload=64',
    ],
  },
];

// ---------------------------------------------------------------- processes

const children = new Set<ChildProcess>();

/** Signals one of our own children by pid; it may have exited meanwhile. */
function signal(child: ChildProcess, sig: NodeJS.Signals): void {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  try {
    process.kill(child.pid, sig);
  } catch {
    // already gone
  }
}

function killChildren(): void {
  for (const c of children) signal(c, 'SIGKILL');
}
process.on('exit', killChildren);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    killChildren();
    process.exit(130);
  });
}

let taskset = false;
function pinned(cpu: number, argv: string[]): string[] {
  return taskset && cpu >= 0 ? ['taskset', '-c', String(cpu), ...argv] : argv;
}

/** Spawn through sh so the fd limit can be raised to the hard limit first; exec keeps the pid. */
function spawnWithLimits(argv: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn('/bin/sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'sh', ...argv], {
    cwd: ROOT,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

/** Collects a child's stdout lines; waitFor resolves on the first line matching a pattern. */
class Lines {
  readonly all: string[] = [];
  stderr = '';
  private waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void; reject: (e: Error) => void }[] = [];
  private closed = false;

  constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.all.push(line);
      for (const w of [...this.waiters]) {
        const m = line.match(w.re);
        if (m) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    child.on('exit', (code, signal) => {
      this.closed = true;
      const err = new Error(
        `exited (${signal ?? code}) ${this.stderr.trim().split('\n').slice(-3).join(' | ')}`,
      );
      for (const w of this.waiters.splice(0)) w.reject(err);
    });
  }

  waitFor(re: RegExp, timeoutMs: number, what: string): Promise<RegExpMatchArray> {
    for (const line of this.all) {
      const m = line.match(re);
      if (m) return Promise.resolve(m);
    }
    if (this.closed)
      return Promise.reject(new Error(`${what}: process already exited ${this.stderr.trim()}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`${what}: timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (m: RegExpMatchArray) => {
        clearTimeout(timer);
        resolve(m);
      };
      this.waiters.push({
        re,
        resolve: done,
        reject: (e) => {
          clearTimeout(timer);
          reject(new Error(`${what}: ${e.message}`));
        },
      });
    });
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  signal(child, 'SIGTERM');
  const timer = setTimeout(() => signal(child, 'SIGKILL'), 3000);
  await exited(child);
  clearTimeout(timer);
}

interface RunningServer {
  child: ChildProcess;
  lines: Lines;
  port: number;
  pid: number;
  notes: string;
}

/** The server never got to its ready line (e.g. its library does not build yet). */
class StartError extends Error {}

async function startServer(def: ServerDef, o: Options, profileName: string): Promise<RunningServer> {
  const profiling =
    o.cpuProf === null ? [] : ['--cpu-prof', `--cpu-prof-dir=${o.cpuProf}`, `--cpu-prof-name=${profileName}`];
  const argv = pinned(o.serverCpu, [
    process.execPath,
    '--expose-gc',
    ...o.nodeFlags,
    ...profiling,
    isAbsolute(def.script) ? def.script : `${SERVERS_DIR}${def.script}`,
    '--port=0',
  ]);
  const env = { ...process.env, ...def.env };
  if (!('WS_NO_BUFFER_UTIL' in def.env)) delete env.WS_NO_BUFFER_UTIL;
  const child = spawnWithLimits(argv, env);
  const lines = new Lines(child);
  try {
    const m = await lines.waitFor(/^READY port=(\d+) pid=(\d+)\s*(.*)$/, 20000, `${def.name} start`);
    // the pid the server reports is the node process itself (sh and taskset exec into it)
    return { child, lines, port: Number(m[1]), pid: Number(m[2]), notes: m[3] ?? '' };
  } catch (e) {
    await stop(child);
    throw new StartError(e instanceof Error ? e.message : String(e));
  }
}

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = status.match(/^VmRSS:\s+(\d+)\s+kB/m);
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

interface MemoryReading {
  rss: number;
  /** Physical bytes of V8's young generation (new space), from the server's GC line; 0 when not given. */
  young: number;
}

async function gcAndRss(server: RunningServer, seq: number): Promise<MemoryReading> {
  // each GC request produces one "GC rss=" line; wait for the seq-th one
  process.kill(server.pid, 'SIGUSR2');
  const deadline = Date.now() + 10000;
  let lines = server.lines.all.filter((l) => l.startsWith('GC '));
  while (lines.length < seq) {
    if (Date.now() > deadline) throw new Error('server did not answer the GC request');
    await sleep(20);
    lines = server.lines.all.filter((l) => l.startsWith('GC '));
  }
  await sleep(100);
  const young = lines[seq - 1].match(/new_space:\d+\/(\d+)/);
  return { rss: rssBytes(server.pid), young: young ? Number(young[1]) : 0 };
}

/** Busy CPU seconds of the whole machine so far (all CPUs), from /proc/stat. */
function machineBusySeconds(): number {
  const first = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  const v = first.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (interrupt time left out, as in the generator)
  const busy = v[0] + v[1] + v[2] + v[7];
  return busy / 100; // USER_HZ is 100 on Linux
}

/**
 * Waits (at most maxSeconds) until the machine is quiet: under 25% of one core busy over
 * 250 ms while none of our processes run. Returns the seconds waited and the last reading.
 */
async function waitQuiet(maxSeconds: number): Promise<{ waited: number; busyPct: number }> {
  const start = Date.now();
  let busyPct = 0;
  for (;;) {
    const b0 = machineBusySeconds();
    const t0 = Date.now();
    await sleep(250);
    busyPct = ((machineBusySeconds() - b0) / ((Date.now() - t0) / 1000)) * 100;
    const waited = (Date.now() - start) / 1000;
    if (busyPct < 25 || waited >= maxSeconds) return { waited, busyPct };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ---------------------------------------------------------------- one sample

interface Sample {
  value: number;
  serverCpu: number | null;
  genCpu: number | null;
  otherCpu: number | null;
  /** Server minor page faults per message (per connection for handshakes). */
  faultsPerOp: number | null;
  /**
   * Server CPU time per message (per connection, per delivery), in µs: unlike throughput it
   * hardly moves when other work shares the machine, so it compares servers on a busy one.
   */
  cpuPerOp: number | null;
  detail: Record<string, unknown>;
}

async function runGenerator(args: string[], o: Options, timeoutMs: number): Promise<Record<string, unknown>> {
  const gen = spawnWithLimits(pinned(o.genCpu, [LOADGEN_BIN, ...args]), process.env);
  const lines = new Lines(gen);
  gen.stdin!.end();
  const timer = setTimeout(() => {
    signal(gen, 'SIGKILL');
  }, timeoutMs);
  await exited(gen);
  clearTimeout(timer);
  return parseResult(lines, gen);
}

function parseResult(lines: Lines, gen: ChildProcess): Record<string, unknown> {
  const last = [...lines.all].reverse().find((l) => l.startsWith('{'));
  if (!last)
    throw new Error(`load generator gave no result (exit ${gen.exitCode ?? gen.signalCode}) ${lines.stderr}`);
  const r = JSON.parse(last) as Record<string, unknown>;
  if (r.ok !== true) throw new Error(`verification/run failed: ${String(r.error)}`);
  return r;
}

async function sample(w: Workload, def: ServerDef, o: Options, run: number): Promise<Sample> {
  const server = await startServer(def, o, `${w.name}.${def.name}.${run}.cpuprofile`);
  try {
    const common = [`--port=${server.port}`, `--pid=${server.pid}`, `--proto=${def.raw ? 'raw' : 'ws'}`];
    if (w.kind === 'idle') return await idleSample(w, server, common, o);
    const r = await runGenerator([...w.args(o), ...common], o, 300_000);
    r.serverNotes = server.notes;
    const value = Number(w.unit === 'B/s' ? r.bytes_per_sec : r.per_sec);
    return {
      value,
      serverCpu: cpu(r.server_cpu_pct),
      genCpu: cpu(r.gen_cpu_pct),
      otherCpu: cpu(r.other_cpu_pct),
      faultsPerOp: perOperation(r.server_minor_faults, r.messages ?? r.delivered ?? r.connections),
      cpuPerOp: perOperation(
        (Number(r.server_cpu_pct) / 100) * Number(r.seconds) * 1e6,
        r.messages ?? r.delivered ?? r.connections,
      ),
      detail: r,
    };
  } finally {
    await stop(server.child);
  }
}

function perOperation(count: unknown, operations: unknown): number | null {
  const n = Number(count);
  const ops = Number(operations);
  return Number.isFinite(n) && n >= 0 && ops > 0 ? n / ops : null;
}

function cpu(v: unknown): number | null {
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : null;
}

function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

async function idleSample(w: Workload, server: RunningServer, common: string[], o: Options): Promise<Sample> {
  await sleep(300);
  const before = await gcAndRss(server, 1);
  const fdsBefore = openFds(server.pid);
  const gen = spawnWithLimits(pinned(o.genCpu, [LOADGEN_BIN, ...w.args(o), ...common]), process.env);
  const lines = new Lines(gen);
  const timer = setTimeout(() => {
    signal(gen, 'SIGKILL');
  }, 180_000);
  try {
    const m = await lines.waitFor(/^READY (\d+)$/, 150_000, 'idle connections');
    const conns = Number(m[1]);
    // the server must hold every connection (a raw TCP connection is established before it is accepted)
    const deadline = Date.now() + 15000;
    while (openFds(server.pid) < fdsBefore + conns) {
      if (Date.now() > deadline)
        throw new Error(`server holds only ${openFds(server.pid) - fdsBefore} connections`);
      await sleep(50);
    }
    await sleep(500);
    const after = await gcAndRss(server, 2);
    gen.stdin!.end('\n');
    await exited(gen);
    const r = parseResult(lines, gen);
    // V8 sizes its young generation by the allocation of the connection burst, up to a fixed
    // cap, and gives it back after a quiet spell: a cost per burst, not per connection.
    const outsideYoung = (after.rss - after.young - (before.rss - before.young)) / conns;
    return {
      value: (after.rss - before.rss) / conns,
      serverCpu: null,
      genCpu: null,
      otherCpu: null,
      faultsPerOp: null,
      cpuPerOp: null,
      detail: {
        ...r,
        rss_before: before.rss,
        rss_after: after.rss,
        young_before: before.young,
        young_after: after.young,
        rss_outside_young_per_conn: outsideYoung,
        serverNotes: server.notes,
      },
    };
  } finally {
    clearTimeout(timer);
    if (gen.exitCode === null) await stop(gen);
  }
}

// ---------------------------------------------------------------- stats and report

/** Each idle server's median of one number of its samples' details. */
function idleMedians(cells: Cell[], key: string): Map<string, number> {
  const medians = new Map<string, number>();
  for (const cell of cells.filter((c) => c.unit === 'B/conn')) {
    const values = cell.samples.map((s) => s.detail[key]).filter((v): v is number => typeof v === 'number');
    if (values.length) medians.set(cell.server, median(values));
  }
  return medians;
}

/**
 * The idle figures again without V8's young generation (RSS minus new space's physical size,
 * after minus before): medians, and each server's ratio to `net`. Then how long each burst of
 * connections took: the young generation grows with the burst's pace, so the bursts must match.
 */
function outsideYoungLines(cells: Cell[]): string[] {
  const medians = idleMedians(cells, 'rss_outside_young_per_conn');
  if (medians.size === 0) return [];
  const net = medians.get('net');
  const parts = [...medians].map(
    ([server, v]) => `${server} ${fmtValue(v, 'B/conn')}${net ? ` (${(v / net).toFixed(2)}x net)` : ''}`,
  );
  const bursts = [...idleMedians(cells, 'connect_seconds')].map(
    ([server, s]) => `${server} ${s.toFixed(2)} s`,
  );
  return [
    `idle-memory outside V8's young generation (RSS minus new space, medians): ${parts.join(', ')}`,
    `idle-memory connection burst (all connections open, medians): ${bursts.join(', ')}`,
  ];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return Number.NaN;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

interface Cell {
  workload: string;
  server: string;
  unit: string;
  higherIsBetter: boolean;
  samples: Sample[];
  errors: string[];
  median: number | null;
  ratioToWs: number | null;
  serverCpuMedian: number | null;
  genCpuMedian: number | null;
  otherCpuMedian: number | null;
  faultsMedian: number | null;
  cpuPerOpMedian: number | null;
}

function fmtValue(v: number | null, unit: string): string {
  if (v === null || !Number.isFinite(v)) return '-';
  switch (unit) {
    case 'B/s':
      return `${(v / (1 << 20)).toFixed(1)} MiB/s`;
    case 'B/conn':
      return `${(v / 1024).toFixed(2)} KiB/conn`;
    case 'conn/s':
      return `${Math.round(v).toLocaleString('en-US')} conn/s`;
    default:
      return `${Math.round(v).toLocaleString('en-US')} ${unit}`;
  }
}

function fmtShort(v: number, unit: string): string {
  if (unit === 'B/s') return `${(v / (1 << 20)).toFixed(0)}M`;
  if (unit === 'B/conn') return `${(v / 1024).toFixed(1)}K`;
  return v >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : v >= 1e3 ? `${(v / 1e3).toFixed(1)}k` : v.toFixed(0);
}

function table(cells: Cell[]): string {
  const head = [
    'workload',
    'server',
    'median',
    'vs ws',
    'srv CPU',
    'gen CPU',
    'other',
    'faults/op',
    'srv µs/op',
    'runs (min..max)',
  ];
  const rows: string[][] = [];
  let lastWorkload = '';
  for (const c of cells) {
    const values = c.samples.map((s) => s.value);
    const spread =
      values.length > 0
        ? `${values.length} (${fmtShort(Math.min(...values), c.unit)}..${fmtShort(Math.max(...values), c.unit)})`
        : '0';
    const ratio =
      c.ratioToWs === null ? '-' : `${c.ratioToWs.toFixed(2)}x${c.higherIsBetter ? '' : ' (lower=better)'}`;
    rows.push([
      c.workload === lastWorkload ? '' : c.workload,
      c.server,
      c.errors.length && !c.samples.length ? `FAILED` : fmtValue(c.median, c.unit),
      ratio,
      c.serverCpuMedian === null ? '-' : `${c.serverCpuMedian.toFixed(0)}%`,
      c.genCpuMedian === null ? '-' : `${c.genCpuMedian.toFixed(0)}%`,
      c.otherCpuMedian === null ? '-' : `${c.otherCpuMedian.toFixed(0)}%`,
      c.faultsMedian === null ? '-' : c.faultsMedian.toFixed(c.faultsMedian < 10 ? 2 : 0),
      c.cpuPerOpMedian === null ? '-' : c.cpuPerOpMedian.toFixed(c.cpuPerOpMedian < 10 ? 2 : 0),
      spread + (c.errors.length ? ` ${c.errors.length} failed` : ''),
    ]);
    lastWorkload = c.workload;
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const right = new Set([2, 3, 4, 5, 6, 7, 8]);
  const line = (r: string[]) =>
    r
      .map((x, i) => (right.has(i) ? x.padStart(widths[i]) : x.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const out = [line(head), widths.map((n) => '-'.repeat(n)).join('  ')];
  for (let i = 0; i < rows.length; i++) {
    if (i > 0 && rows[i][0] !== '') out.push('');
    out.push(line(rows[i]));
  }
  return out.join('\n');
}

// ---------------------------------------------------------------- main

function buildLoadgen(): void {
  // The script the cost scripts use too: it builds bench/results/loadgen when missing or stale.
  execFileSync('bash', [LOADGEN_BUILD], { stdio: ['ignore', 'ignore', 'inherit'] });
  const self = JSON.parse(execFileSync(LOADGEN_BIN, ['--selftest'], { encoding: 'utf8' })) as { ok: boolean };
  if (!self.ok) throw new Error('load generator self-test (SHA-1/accept) failed');
}

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function fdLimits(): { soft: number; hard: number } {
  const soft = Number(execFileSync('/bin/sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim());
  const hard = Number(execFileSync('/bin/sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim());
  return { soft: Number.isFinite(soft) ? soft : Infinity, hard: Number.isFinite(hard) ? hard : Infinity };
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const workloads = o.only ? WORKLOADS.filter((w) => o.only!.includes(w.name)) : WORKLOADS;
  if (o.only)
    for (const n of o.only) if (!WORKLOADS.some((w) => w.name === n)) throw new Error(`no workload ${n}`);
  const servers = o.servers
    ? o.servers.map((n) => {
        const d = SERVERS.find((s) => s.name === n);
        if (!d) throw new Error(`no server ${n} (have ${SERVERS.map((s) => s.name).join(', ')})`);
        return d;
      })
    : SERVERS.filter((s) => s.optIn !== true);

  buildLoadgen();
  taskset = os.availableParallelism() >= 2 && hasTaskset();
  const lim = fdLimits();
  const needFds = Math.max(...workloads.map((w) => w.conns(o))) + 200;
  if (lim.hard < needFds) {
    throw new Error(
      `fd hard limit ${lim.hard} < ${needFds}: raise it (e.g. ulimit -Hn ${needFds * 2}) and retry`,
    );
  }

  const started = Date.now();
  process.stderr.write(
    `bench: ${workloads.length} workloads x ${servers.length} servers x ${o.runs} runs` +
      ` (duration ${o.duration}s, warmup ${o.warmup}s${o.quick ? ', quick' : ''}` +
      `${o.nodeFlags.length > 0 ? `, servers run with ${o.nodeFlags.join(' ')}` : ''});` +
      (taskset ? ` server on cpu ${o.serverCpu}, generator on cpu ${o.genCpu}\n` : ' no CPU pinning\n'),
  );

  const cells: Cell[] = [];
  const unavailable = new Map<string, string>();
  const notes = new Map<string, string>();
  for (const w of workloads) {
    const peers = servers.filter(
      (s) => (w.raw || !s.raw) && (s.kinds === undefined || s.kinds.includes(w.kind)),
    );
    const byServer = new Map<string, Cell>();
    for (const s of peers) {
      byServer.set(s.name, {
        workload: w.name,
        server: s.name,
        unit: w.unit,
        higherIsBetter: w.higherIsBetter,
        samples: [],
        errors: [],
        median: null,
        ratioToWs: null,
        serverCpuMedian: null,
        genCpuMedian: null,
        otherCpuMedian: null,
        faultsMedian: null,
        cpuPerOpMedian: null,
      });
    }
    for (let rep = 0; rep < o.runs; rep++) {
      // round-robin with a rotating start: every server goes first once in a while
      const order = peers.map((_, i) => peers[(i + rep) % peers.length]);
      for (const s of order) {
        const cell = byServer.get(s.name)!;
        if (unavailable.has(s.name)) {
          if (!cell.errors.length) cell.errors.push(unavailable.get(s.name)!);
          continue;
        }
        const tag = `[${w.name}] run ${rep + 1}/${o.runs} ${s.name}`;
        try {
          let r: Sample;
          let retries = 0;
          for (;;) {
            const quiet = o.waitQuiet > 0 ? await waitQuiet(o.waitQuiet) : null;
            r = await sample(w, s, o, rep + 1);
            if (quiet) r.detail.quiet = quiet;
            // with --wait-quiet, a sample that shared the machine with other work is taken again (twice at most)
            if (!quiet || r.otherCpu === null || r.otherCpu <= OTHER_CPU_RETRY || retries === 2) break;
            retries++;
            process.stderr.write(`${tag}: other load ${r.otherCpu.toFixed(0)}% during the sample, again\n`);
          }
          r.detail.retries = retries;
          r.detail.run = rep + 1;
          cell.samples.push(r);
          if (typeof r.detail.serverNotes === 'string' && r.detail.serverNotes)
            notes.set(s.name, r.detail.serverNotes);
          const cpuNote =
            r.serverCpu === null
              ? ''
              : ` (server ${r.serverCpu.toFixed(0)}%, gen ${r.genCpu?.toFixed(0)}%, other ${r.otherCpu?.toFixed(0)}%)`;
          const outside = r.detail.rss_outside_young_per_conn;
          const youngNote =
            typeof outside === 'number'
              ? ` (outside V8's young generation ${fmtValue(outside, w.unit)})`
              : '';
          process.stderr.write(`${tag}: ${fmtValue(r.value, w.unit)}${cpuNote}${youngNote}\n`);
        } catch (e) {
          const msg = e instanceof Error ? e.message : String(e);
          cell.errors.push(msg);
          process.stderr.write(`${tag}: FAILED ${msg}\n`);
          if (e instanceof StartError && !cell.samples.length) unavailable.set(s.name, msg);
        }
        await sleep(150);
      }
    }
    for (const cell of byServer.values()) {
      const vals = cell.samples.map((s) => s.value);
      cell.median = vals.length ? median(vals) : null;
      const sc = cell.samples.map((s) => s.serverCpu).filter((x): x is number => x !== null);
      const gc = cell.samples.map((s) => s.genCpu).filter((x): x is number => x !== null);
      const oc = cell.samples.map((s) => s.otherCpu).filter((x): x is number => x !== null);
      cell.serverCpuMedian = sc.length ? median(sc) : null;
      cell.genCpuMedian = gc.length ? median(gc) : null;
      cell.otherCpuMedian = oc.length ? median(oc) : null;
      const fs = cell.samples.map((s) => s.faultsPerOp).filter((x): x is number => x !== null);
      cell.faultsMedian = fs.length ? median(fs) : null;
      const cp = cell.samples.map((s) => s.cpuPerOp).filter((x): x is number => x !== null);
      cell.cpuPerOpMedian = cp.length ? median(cp) : null;
    }
    const base = byServer.get(BASELINE)?.median ?? null;
    for (const cell of byServer.values()) {
      cell.ratioToWs = base && cell.median !== null ? cell.median / base : null;
      cells.push(cell);
    }
  }

  const elapsed = (Date.now() - started) / 1000;
  const report = table(cells);
  const legend = [
    '',
    'median of the runs; "vs ws" = median / median of ws (npm install ws, no bufferutil);',
    'CPU = utime+stime over the measured window as % of one core (server: /proc/PID/stat, generator: getrusage);',
    '"other" = rest of the machine busy time in that window (/proc/stat user+nice+system+steal: other processes),',
    '  also in % of one core: a high value means the sample shared the machine with other work;',
    'faults/op = minor page faults of the server per message (per connection for handshakes): memory the kernel had to map afresh;',
    'node:net (raw) echoes bytes without WebSocket framing: the ceiling for a Node server (idle-memory: net.Socket floor).',
    'net-handshake answers the handshake workload with its bytes only (101 with the accept hash, the close reply),',
    '  checking nothing: the floor of that exchange on Node sockets.',
    'net-handshake-checked is net-handshake plus the checks RFC 6455 asks of a server (strict head grammar and',
    '  limit, the upgrade validated, the close frame unmasked and checked), made with wsx functions.',
    'net-broadcast writes one frame, made once, to every bare connection with socket.write: the floor of a',
    '  broadcast on Node sockets (one stream write per delivery).',
    ...outsideYoungLines(cells),
    ...pairedRatioLines(cells),
    `server notes: ${[...notes].map(([k, v]) => `${k}: ${v}`).join('; ') || '-'}`,
    `workloads: ${workloads.map((w) => `${w.name} = ${w.title}`).join('; ')}`,
    `${elapsed.toFixed(0)} s total; command: node .build/bench/run.js ${process.argv.slice(2).join(' ')}`.trimEnd(),
  ].join('\n');
  process.stdout.write(`\n${report}\n${legend}\n`);

  const serverInfo = Object.fromEntries(
    servers.map((s) => [s.name, { label: s.label, script: s.script, env: s.env }]),
  );
  const json = {
    generatedAt: new Date().toISOString(),
    elapsedSeconds: elapsed,
    command: process.argv.slice(2),
    options: o,
    machine: {
      node: process.version,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      kernel: os.release(),
      pinning: taskset ? { server: o.serverCpu, generator: o.genCpu } : null,
      fdLimit: lim,
    },
    servers: serverInfo,
    serverNotes: Object.fromEntries(notes),
    workloads: workloads.map((w) => ({
      name: w.name,
      title: w.title,
      unit: w.unit,
      higherIsBetter: w.higherIsBetter,
    })),
    results: cells,
    table: report,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(o.out, `${JSON.stringify(json, null, 2)}\n`);
  process.stderr.write(`wrote ${o.out}\n`);
  if (cells.some((c) => c.errors.length)) process.exitCode = 1;
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
