/**
 * Scale-out benchmark: wsx on its Redis topic adapter (pubsub and stream modes) side by side
 * with socket.io 4 on @socket.io/redis-adapter and @socket.io/redis-streams-adapter. Two node
 * processes per implementation, one redis-server started here, subscribers in load processes.
 *
 *   node .build/bench/scaleout/run.js [--runs=3] [--subs=1000] [--loaders=2] [--rate=20]
 *        [--windows=20,100] [--warmup=1] [--duration=3] [--recovery=3] [--wait-quiet=10]
 *        [--impls=a,b] [--quick] [--report=FILE] [--cpu-prof=DIR]
 *
 * Each repetition runs every implementation once, the order rotating. A table of medians on
 * stdout, every sample in bench/results/scaleout.json. See bench/README.md.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { createClient } from 'redis';
import { machineTicks, profiling, startRedis } from './procs.js';
import { printTable } from './report.js';
import { IMPLS, runSample, type Sample, type Settings } from './sample.js';

function option(name: string, fallback: number): number {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit === undefined ? fallback : Number(hit.slice(name.length + 3));
}

const quick = process.argv.includes('--quick');
const runs = option('runs', quick ? 1 : 3);
const settings: Settings = {
  subs: option('subs', 1000),
  loaders: option('loaders', 2),
  rate: option('rate', 20),
  windows: (process.argv.find((a) => a.startsWith('--windows='))?.slice(10) ?? '20,100')
    .split(',')
    .map(Number),
  warmupMs: option('warmup', quick ? 0.5 : 1) * 1000,
  durationMs: option('duration', quick ? 1 : 3) * 1000,
  recoveryMs: option('recovery', 3) * 1000,
};
if (settings.windows.some((w) => !Number.isSafeInteger(w) || w < 1)) {
  throw new Error(`--windows takes positive whole numbers, e.g. --windows=20,100`);
}
const only = process.argv
  .find((a) => a.startsWith('--impls='))
  ?.slice(8)
  .split(',');
const impls = only === undefined ? IMPLS : IMPLS.filter((i) => only.includes(i.name));

const quietSeconds = option('wait-quiet', 10);
profiling.dir = process.argv.find((a) => a.startsWith('--cpu-prof='))?.slice(11) ?? '';

/** Waits up to `seconds` for the machine to be mostly idle (< 50% of one core busy over 500 ms): it is shared. */
async function waitQuiet(seconds: number): Promise<void> {
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    const t0 = machineTicks();
    await new Promise((r) => setTimeout(r, 500));
    if (((machineTicks() - t0) / 100 / 0.5) * 100 < 50) return;
  }
  console.log(`machine still busy after ${seconds} s: measuring anyway (see "other" in the CPU lines)`);
}

// --report=FILE prints the table of samples saved by an earlier run.
const saved = process.argv.find((a) => a.startsWith('--report='))?.slice(9);
if (saved !== undefined) {
  const { samples, settings: was } = JSON.parse(readFileSync(saved, 'utf8')) as {
    samples: Sample[];
    settings: Settings;
  };
  printTable(samples, was);
  process.exit(0);
}

const redis = await startRedis();
const admin = createClient({ url: redis.url });
await admin.connect();
console.log(
  `redis ${redis.version} at ${redis.url}; node ${process.version}; ${os.cpus().length} cpus; ${runs} runs; ` +
    `${settings.subs} subscribers over ${settings.loaders} load processes; fixed rate ${settings.rate} msg/s; ` +
    `saturation windows ${settings.windows.join(', ')} messages`,
);

const samples: Sample[] = [];
try {
  for (let r = 0; r < runs; r++) {
    for (let k = 0; k < impls.length; k++) {
      const impl = impls[(r + k) % impls.length]!;
      await admin.flushAll();
      await waitQuiet(quietSeconds);
      const sample = await runSample(impl, settings, { url: redis.url, pid: redis.proc.pid! });
      samples.push(sample);
      const cpu = (w: Sample['rate']): string => {
        const shares = Object.entries(w.cpu).map(([n, v]) => `${n} ${v.toFixed(0)}%`);
        const perDelivery = `servers ${w.cpuUs.servers.toFixed(2)}, all ${w.cpuUs.all.toFixed(2)}`;
        return `${shares.join(', ')}; µs CPU/delivery: ${perDelivery}; node writes/delivery ${w.writesPerDelivery.toFixed(2)}`;
      };
      console.log(
        `run ${r + 1} ${impl.name}: mem ${(sample.memPerSub / 1024).toFixed(1)} KiB/sub RSS, ${(sample.heapPerSub / 1024).toFixed(1)} heap; ` +
          `rate ${sample.rate.perSecond.toFixed(0)}/s p50 ${sample.rate.p50} p99 ${sample.rate.p99} ms [${cpu(sample.rate)}]; ` +
          sample.saturation
            .map(
              (w) =>
                `saturation w=${w.window} ${w.perSecond.toFixed(0)}/s p50 ${w.p50} p99 ${w.p99} ms [${cpu(w)}]`,
            )
            .join('; ') +
          (sample.recovery ? `; recovery ${JSON.stringify(sample.recovery)}` : ''),
      );
    }
  }
} finally {
  await admin.quit();
  redis.proc.kill('SIGTERM');
}

mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/scaleout.json', `${JSON.stringify({ settings, runs, samples }, null, 2)}\n`);
printTable(samples, settings);
