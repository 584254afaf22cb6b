/**
 * Heap and RSS per idle connection, deterministic enough to compare one change with the next:
 * a bench server (`bench/servers/<name>.js`) is started with `--expose-gc`, the C generator
 * opens N idle connections (WebSocket upgrades, or raw TCP for `net`), and after a full GC the
 * server reports V8's heapUsed and its RSS; the delta over N is the figure. With `--snapshot`
 * it also writes a heap snapshot before and after, and prints per-constructor counts and bytes
 * per connection (after minus before, over N): which objects a connection holds.
 *
 *   node .build/bench/idle-heap.js --servers=wsx,net --conns=10000 --runs=3 [--snapshot] [--top=40]
 *
 * Needs `bench/results/loadgen` (built by `npm run bench` or `node .build/bench/run.js`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const LOADGEN = join(ROOT, 'bench', 'results', 'loadgen');

interface Options {
  servers: string[];
  conns: number;
  runs: number;
  snapshot: boolean;
  top: number;
  spaces: boolean;
  /** The request path the generator asks for (WebSocket servers). */
  path: string;
  /** Milliseconds between the last connection and the GC that measures. */
  settle: number;
  /** Extra V8/Node flags for the server (e.g. `--min-semi-space-size=16`, which NODE_OPTIONS refuses). */
  nodeFlags: string[];
}

function options(): Options {
  const o: Options = {
    servers: ['wsx', 'net'],
    conns: 10000,
    runs: 3,
    snapshot: false,
    top: 40,
    spaces: false,
    path: '/bench',
    settle: 700,
    nodeFlags: [],
  };
  for (const a of process.argv.slice(2)) {
    const [k, v = ''] = a.replace(/^--/, '').split('=');
    if (k === 'servers') o.servers = v.split(',');
    else if (k === 'conns') o.conns = Number(v);
    else if (k === 'runs') o.runs = Number(v);
    else if (k === 'snapshot') o.snapshot = true;
    else if (k === 'top') o.top = Number(v);
    else if (k === 'spaces') o.spaces = true;
    else if (k === 'path') o.path = v;
    else if (k === 'settle') o.settle = Number(v);
    else if (k === 'node-flags') o.nodeFlags = a.slice('--node-flags='.length).split(',').filter(Boolean);
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

function start(argv: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn('/bin/sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'sh', ...argv], {
    cwd: ROOT,
    env,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
}

/** Resolves with the first stdout line matching `pattern` (lines before it are dropped). */
function lineMatching(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  return new Promise((resolvePromise, reject) => {
    let rest = '';
    const timer = setTimeout(() => {
      child.stdout!.off('data', onData);
      reject(new Error(`timed out waiting for ${pattern}`));
    }, timeoutMs);
    function onData(chunk: Buffer): void {
      rest += chunk.toString('utf8');
      const lines = rest.split('\n');
      rest = lines.pop()!;
      for (const line of lines) {
        const m = line.match(pattern);
        if (m) {
          clearTimeout(timer);
          child.stdout!.off('data', onData);
          resolvePromise(m);
          return;
        }
      }
    }
    child.stdout!.on('data', onData);
  });
}

interface Reading {
  rss: number;
  heap: number;
  total: number;
  external: number;
  /** Per V8 space: used/physical bytes. */
  spaces: string;
  snapshot: string | null;
}

async function gcReading(server: ChildProcess, pid: number): Promise<Reading> {
  const line = lineMatching(
    server,
    /^GC rss=(\d+) heap=(\d+) total=(\d+) external=(\d+) spaces=(\S+)(?: snapshot=(\S+))?/,
    120_000,
  );
  process.kill(pid, 'SIGUSR2');
  const m = await line;
  return {
    rss: Number(m[1]),
    heap: Number(m[2]),
    total: Number(m[3]),
    external: Number(m[4]),
    spaces: m[5],
    snapshot: m[6] ?? null,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Sample {
  heap: number;
  rss: number;
  total: number;
  external: number;
  spaces: string;
  objects: Map<string, { count: number; bytes: number }> | null;
}

async function sample(name: string, o: Options): Promise<Sample> {
  const dir = o.snapshot ? mkdtempSync(join(tmpdir(), 'idle-heap-')) : null;
  const env = { ...process.env, ...(dir ? { BENCH_HEAP_SNAPSHOT_DIR: dir } : {}) };
  const server = start(
    [process.execPath, '--expose-gc', ...o.nodeFlags, join(HERE, 'servers', `${name}.js`), '--port=0'],
    env,
  );
  try {
    const ready = await lineMatching(server, /^READY port=(\d+) pid=(\d+)/, 20_000);
    const port = Number(ready[1]);
    const pid = Number(ready[2]);
    await sleep(300);
    const before = await gcReading(server, pid);
    const fdsBefore = openFds(pid);
    const proto = name === 'net' ? 'raw' : 'ws';
    const gen = start(
      [
        LOADGEN,
        '--mode=idle',
        `--conns=${o.conns}`,
        '--concurrency=200',
        '--hold=300',
        `--port=${port}`,
        `--proto=${proto}`,
        `--path=${o.path}`,
      ],
      process.env,
    );
    try {
      await lineMatching(gen, /^READY (\d+)$/, 150_000);
      // A raw TCP connection is established before the server accepts it: wait for all of them.
      for (let i = 0; i < 300 && openFds(pid) < fdsBefore + o.conns; i++) await sleep(50);
      if (openFds(pid) < fdsBefore + o.conns)
        throw new Error(`${name} holds only ${openFds(pid) - fdsBefore} connections`);
      await sleep(o.settle);
      const after = await gcReading(server, pid);
      let objects: Sample['objects'] = null;
      if (before.snapshot && after.snapshot) {
        objects = diff(summarize(before.snapshot), summarize(after.snapshot));
      }
      const per = (k: 'heap' | 'rss' | 'total' | 'external') => (after[k] - before[k]) / o.conns;
      return {
        heap: per('heap'),
        rss: per('rss'),
        total: per('total'),
        external: per('external'),
        spaces: spaceDelta(before.spaces, after.spaces, o.conns),
        objects,
      };
    } finally {
      gen.stdin!.end('\n');
      await exited(gen);
    }
  } finally {
    server.kill('SIGTERM');
    await exited(server);
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/** Per V8 space whose size moved: used/physical bytes per connection, after minus before. */
function spaceDelta(before: string, after: string, conns: number): string {
  const parse = (text: string) =>
    new Map(
      text.split(',').map((entry) => {
        const [name, sizes] = entry.split(':');
        const [used, physical] = sizes.split('/').map(Number);
        return [name, { used, physical }] as const;
      }),
    );
  const b = parse(before);
  const out: string[] = [];
  for (const [name, a] of parse(after)) {
    const was = b.get(name) ?? { used: 0, physical: 0 };
    const used = (a.used - was.used) / conns;
    const physical = (a.physical - was.physical) / conns;
    if (Math.abs(used) >= 1 || Math.abs(physical) >= 1)
      out.push(`${name} ${used.toFixed(0)}/${physical.toFixed(0)}`);
  }
  return out.join(', ');
}

function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once('exit', () => r()));
}

/** Counts and self sizes per node kind of a heap snapshot: objects by constructor, the rest by type (and name for closures). */
function summarize(path: string): Map<string, { count: number; bytes: number }> {
  const snap = JSON.parse(readFileSync(path, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const out = new Map<string, { count: number; bytes: number }>();
  const nodes = snap.nodes;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + typeAt]];
    const name = snap.strings[nodes[i + nameAt]];
    let key: string;
    if (type === 'object' || type === 'native') key = `${type === 'native' ? 'native ' : ''}${name}`;
    else if (type === 'closure') key = `(closure ${name || 'anonymous'})`;
    else if (type === 'hidden' || type === 'code' || type === 'array' || type === 'object shape')
      key = `(${type} ${name.length > 40 ? `${name.slice(0, 40)}…` : name})`;
    else key = `(${type})`;
    const entry = out.get(key);
    if (entry) {
      entry.count++;
      entry.bytes += nodes[i + sizeAt];
    } else {
      out.set(key, { count: 1, bytes: nodes[i + sizeAt] });
    }
  }
  return out;
}

function diff(
  before: Map<string, { count: number; bytes: number }>,
  after: Map<string, { count: number; bytes: number }>,
): Map<string, { count: number; bytes: number }> {
  const out = new Map<string, { count: number; bytes: number }>();
  for (const [key, a] of after) {
    const b = before.get(key) ?? { count: 0, bytes: 0 };
    out.set(key, { count: a.count - b.count, bytes: a.bytes - b.bytes });
  }
  for (const [key, b] of before) if (!after.has(key)) out.set(key, { count: -b.count, bytes: -b.bytes });
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

const o = options();
const results = new Map<string, Sample[]>();
for (let run = 0; run < o.runs; run++) {
  // Round-robin from a different server each run, as the main bench does.
  for (let k = 0; k < o.servers.length; k++) {
    const name = o.servers[(run + k) % o.servers.length];
    const s = await sample(name, o);
    (results.get(name) ?? results.set(name, []).get(name)!).push(s);
    console.log(
      `run ${run + 1} ${name}: heap ${s.heap.toFixed(1)} B/conn, rss ${s.rss.toFixed(0)}, heapTotal ${s.total.toFixed(0)}, external ${s.external.toFixed(0)}${o.spaces ? `\n    used/physical: ${s.spaces}` : ''}`,
    );
  }
}
console.log(`\nN=${o.conns}, ${o.runs} runs (medians)`);
console.log('server      heap B/conn   rss B/conn   runs (heap)');
const medians = new Map<string, { heap: number; rss: number }>();
for (const [name, samples] of results) {
  const heap = median(samples.map((s) => s.heap));
  const rss = median(samples.map((s) => s.rss));
  medians.set(name, { heap, rss });
  console.log(
    `${name.padEnd(10)} ${heap.toFixed(1).padStart(12)} ${rss.toFixed(0).padStart(12)}   ${samples.map((s) => s.heap.toFixed(1)).join(' ')}`,
  );
}
const net = medians.get('net');
if (net) {
  for (const [name, m] of medians) {
    if (name === 'net') continue;
    console.log(
      `${name} / net: heap ${(m.heap / net.heap).toFixed(3)}x (+${(m.heap - net.heap).toFixed(0)} B), rss ${(m.rss / net.rss).toFixed(3)}x (+${(m.rss - net.rss).toFixed(0)} B)`,
    );
  }
}
if (o.snapshot) {
  for (const [name, samples] of results) {
    const objects = samples[samples.length - 1].objects;
    if (!objects) continue;
    console.log(`\n${name}: objects per connection (last run's snapshots; count, self bytes)`);
    const rows = [...objects].filter(
      ([, v]) => Math.abs(v.count) >= o.conns / 2 || Math.abs(v.bytes) >= o.conns * 8,
    );
    rows.sort((a, b) => b[1].bytes - a[1].bytes);
    let total = 0;
    for (const [, v] of objects) total += v.bytes;
    for (const [key, v] of rows.slice(0, o.top)) {
      console.log(
        `${(v.count / o.conns).toFixed(2).padStart(8)} ${(v.bytes / o.conns).toFixed(1).padStart(9)}  ${key}`,
      );
    }
    console.log(`   total ${(total / o.conns).toFixed(1)} B/conn of self sizes`);
  }
}
