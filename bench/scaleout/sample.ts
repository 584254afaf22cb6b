/**
 * One sample of the scale-out benchmark: two nodes of one implementation, the load processes,
 * then memory, fixed-rate, saturation and (stream mode) recovery, in that order.
 */
import { fileURLToPath } from 'node:url';
import {
  cpuTicks,
  Histogram,
  type LoadReply,
  type NodeReply,
  nowUs,
  type RecoveryReport,
  TICKS_PER_SECOND,
  writeCalls,
} from './common.js';
import { machineTicks, Peer } from './procs.js';

export interface Impl {
  readonly name: string;
  readonly node: string;
  readonly args: string[];
  readonly client: 'wsx' | 'wsx-stream' | 'sio';
  readonly recovery: boolean;
}

export const IMPLS: Impl[] = [
  { name: 'wsx-pubsub', node: 'node-wsx.js', args: ['--mode=pubsub'], client: 'wsx', recovery: false },
  { name: 'wsx-stream', node: 'node-wsx.js', args: ['--mode=stream'], client: 'wsx-stream', recovery: true },
  { name: 'sio-redis', node: 'node-sio.js', args: ['--adapter=redis'], client: 'sio', recovery: false },
  { name: 'sio-streams', node: 'node-sio.js', args: ['--adapter=streams'], client: 'sio', recovery: false },
];

export interface Settings {
  subs: number;
  loaders: number;
  rate: number;
  /** Saturation is measured once per window size (messages in flight), in this order. */
  windows: number[];
  warmupMs: number;
  durationMs: number;
  recoveryMs: number;
}

/** A measured window: deliveries/s, latency, and % of one core per process. */
export interface Window {
  perSecond: number;
  p50: number;
  p99: number;
  cpu: Record<string, number>;
  /**
   * CPU time per delivery in µs, over the same span: `servers` = both nodes + redis, `all` =
   * every process of the bench. Unlike deliveries/s this hardly depends on how much of the
   * machine other work left to the bench.
   */
  cpuUs: { servers: number; all: number };
  /** Write system calls of both nodes per delivery (below 1: several messages per write). */
  writesPerDelivery: number;
}

export interface Sample {
  impl: string;
  memPerSub: number;
  /** V8 heap used + external + array buffers, the same difference: steadier than RSS at this size. */
  heapPerSub: number;
  rate: Window;
  /** One per `Settings.windows`, in its order. */
  saturation: (Window & { window: number })[];
  recovery: {
    lost: number;
    duplicated: number;
    subsLosing: number;
    recoverMsMax: number;
    recoverMsP50: number;
    handlerRecovered: number;
    handlerNotRecovered: number;
    reconnected: number;
  } | null;
}

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runSample(
  impl: Impl,
  settings: Settings,
  redis: { url: string; pid: number },
): Promise<Sample> {
  const nodeArgs = [`--redis=${redis.url}`, ...impl.args];
  const a = Peer.fork<NodeReply>('node A', here(impl.node), nodeArgs);
  const b = Peer.fork<NodeReply>('node B', here(impl.node), nodeArgs);
  const loaders: Peer<LoadReply>[] = [];
  try {
    const [ra, rb] = await Promise.all([a.next('ready'), b.next('ready')]);
    const memory = async (): Promise<{ rss: number; heap: number }> => {
      const [x, y] = [await a.ask({ cmd: 'rss' }, 'rss'), await b.ask({ cmd: 'rss' }, 'rss')];
      return { rss: x.rss + y.rss, heap: x.heap + y.heap };
    };
    const mem0 = await memory();

    const totals: number[] = [];
    const received = (): number => totals.reduce((s, x) => s + x, 0);
    const per = Math.ceil(settings.subs / settings.loaders);
    for (let i = 0; i < settings.loaders; i++) {
      const loader = Peer.fork<LoadReply>(`load ${i}`, here('load.js'), [`--client=${impl.client}`]);
      totals.push(0);
      // Forwards how many messages every subscriber has (on average) received, for saturation.
      loader.onReply = (reply) => {
        if (reply.kind !== 'progress') return;
        totals[i] = reply.received;
        a.send({ cmd: 'delivered', messages: Math.floor(received() / settings.subs) });
      };
      loaders.push(loader);
    }
    await Promise.all(
      loaders.map((l, i) =>
        l.ask(
          {
            cmd: 'connect',
            ports: [ra.port, rb.port],
            first: i * per,
            count: Math.min(per, settings.subs - i * per),
          },
          'connected',
        ),
      ),
    );
    await sleep(500);
    const mem1 = await memory();

    const pids: Record<string, number> = { 'node A': a.pid, 'node B': b.pid, redis: redis.pid };
    loaders.forEach((l, i) => {
      pids[`load ${i}`] = l.pid;
    });

    /** Until deliveries stop for 300 ms (at most 5 s). */
    const drain = async (): Promise<void> => {
      let seen = -1;
      for (let waited = 0; waited < 5_000 && received() !== seen; waited += 300) {
        seen = received();
        await sleep(300);
      }
    };

    const measure = async (rate: number, ms: number, window = 0): Promise<Window> => {
      for (const l of loaders) l.send({ cmd: 'window', on: true });
      const before = Object.fromEntries(Object.entries(pids).map(([n, p]) => [n, cpuTicks(p)]));
      const writes0 = writeCalls(a.pid) + writeCalls(b.pid);
      const machine0 = machineTicks();
      const t0 = performance.now();
      const count0 = received();
      const published = await a.ask({ cmd: 'publish', rate, ms, window }, 'published');
      const count1 = received();
      const writes1 = writeCalls(a.pid) + writeCalls(b.pid);
      const machine1 = machineTicks();
      // CPU over the runner's own span (the reply can come late on a busy machine); rate over the publisher's.
      const span = (performance.now() - t0) / 1000;
      const seconds = published.ms / 1000;
      const cpu: Record<string, number> = {};
      let ours = 0;
      for (const [n, p] of Object.entries(pids)) {
        cpu[n] = ((cpuTicks(p) - before[n]!) / TICKS_PER_SECOND / span) * 100;
        ours += cpu[n]!;
      }
      cpu.other = Math.max(0, ((machine1 - machine0) / TICKS_PER_SECOND / span) * 100 - ours);
      const deliveries = count1 - count0;
      const usPer = (percent: number): number => (((percent / 100) * span) / deliveries) * 1e6;
      await drain(); // what is in flight arrives, so its latency counts
      const histogram = new Histogram();
      for (const l of loaders)
        histogram.merge((await l.ask({ cmd: 'window', on: false }, 'window')).histogram);
      return {
        perSecond: (count1 - count0) / seconds,
        p50: histogram.quantileMs(0.5),
        p99: histogram.quantileMs(0.99),
        cpu,
        cpuUs: { servers: usPer(cpu['node A']! + cpu['node B']! + cpu.redis!), all: usPer(ours) },
        writesPerDelivery: (writes1 - writes0) / deliveries,
      };
    };

    await a.ask({ cmd: 'publish', rate: settings.rate, ms: settings.warmupMs, window: 0 }, 'published');
    await drain();
    const rate = await measure(settings.rate, settings.durationMs);
    const saturation: Sample['saturation'] = [];
    for (const window of settings.windows) {
      saturation.push({ window, ...(await measure(0, settings.durationMs, window)) });
      await drain();
    }
    await sleep(500);

    let recovery: Sample['recovery'] = null;
    if (impl.recovery) {
      const flowing = a.ask(
        { cmd: 'publish', rate: settings.rate, ms: settings.recoveryMs, window: 0 },
        'published',
      );
      await sleep(settings.recoveryMs / 3);
      const atUs = nowUs();
      for (const l of loaders) l.send({ cmd: 'kill', atUs });
      await b.kill('SIGKILL');
      await flowing;
      // Until every moved subscriber has heard its recovery outcome and the head has stopped moving.
      let reports: RecoveryReport[] = [];
      for (let waited = 0; waited < 15_000; waited += 250) {
        await sleep(250);
        reports = [];
        for (const l of loaders) reports.push((await l.ask({ cmd: 'recovery' }, 'recovery')).report);
        const told = reports.reduce((s, r) => s + r.recovered + r.notRecovered, 0);
        const moved = reports.reduce((s, r) => s + r.reconnected, 0);
        const last = reports.flatMap((r) => r.last);
        if (told >= moved && Math.min(...last) === Math.max(...last)) break;
      }
      recovery = summarize(reports);
    }
    return {
      impl: impl.name,
      memPerSub: (mem1.rss - mem0.rss) / settings.subs,
      heapPerSub: (mem1.heap - mem0.heap) / settings.subs,
      rate,
      saturation,
      recovery,
    };
  } finally {
    for (const l of loaders) l.send({ cmd: 'close' });
    await sleep(300);
    await Promise.all([...loaders.map((l) => l.kill()), a.kill(), b.kill()]);
  }
}

/** Lost = gaps inside a subscriber's stream plus what it lacks at the end (head - its last offset). */
function summarize(reports: RecoveryReport[]): NonNullable<Sample['recovery']> {
  const head = Math.max(...reports.flatMap((r) => r.last));
  let lost = 0;
  let duplicated = 0;
  let subsLosing = 0;
  for (const r of reports) {
    r.last.forEach((last, i) => {
      const l = r.lost[i]! + (head - last);
      lost += l;
      if (l > 0) subsLosing++;
      duplicated += r.duplicated[i]!;
    });
  }
  const times = reports.flatMap((r) => r.recoverMs).sort((x, y) => x - y);
  const never = times.filter((t) => t < 0).length;
  return {
    lost,
    duplicated,
    subsLosing,
    recoverMsMax: never > 0 ? Number.POSITIVE_INFINITY : (times[times.length - 1] ?? Number.NaN),
    recoverMsP50: times[Math.floor(times.length / 2)] ?? Number.NaN,
    handlerRecovered: reports.reduce((s, r) => s + r.recovered, 0),
    handlerNotRecovered: reports.reduce((s, r) => s + r.notRecovered, 0),
    reconnected: reports.reduce((s, r) => s + r.reconnected, 0),
  };
}
