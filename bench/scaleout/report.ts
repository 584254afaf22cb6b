/** The scale-out benchmark's table: medians per implementation, wsx/socket.io ratios, and what bound each figure. */
import { median } from './common.js';
import type { Sample, Settings, Window } from './sample.js';

/** The compared pairs: each wsx mode against the socket.io adapter of the same kind. */
const PAIRS: [string, string][] = [
  ['wsx-pubsub', 'sio-redis'],
  ['wsx-stream', 'sio-streams'],
];

/** The busiest process of a window (median of its runs), and whether the machine was full. */
function bound(windows: Window[], fixedRate: boolean): string {
  const names = Object.keys(windows[0]!.cpu).filter((n) => n !== 'other');
  const cpu = names
    .map((n) => [n, median(windows.map((w) => w.cpu[n]!))] as const)
    .sort((x, y) => y[1] - x[1]);
  const total = names.reduce((s, n) => s + median(windows.map((w) => w.cpu[n]!)), 0);
  const top = `${cpu[0]![0]} ${cpu[0]![1].toFixed(0)}%`;
  if (fixedRate && total + median(windows.map((w) => w.cpu.other!)) < 170)
    return `offered rate (busiest: ${top})`;
  if (cpu[0]![1] >= 85) return `${top} CPU`;
  const other = median(windows.map((w) => w.cpu.other!));
  if (total + other >= 170)
    return `2 cores full: ours ${total.toFixed(0)}% + other work ${other.toFixed(0)}% (busiest ${top})`;
  return `no process at 100% (busiest ${top}, all ${total.toFixed(0)}%)`;
}

const fmt = (x: number, digits = 0): string =>
  Number.isFinite(x) ? x.toFixed(digits) : x > 0 ? 'never' : '-';

export function printTable(samples: Sample[], settings: Settings): void {
  const names = [...new Set(samples.map((s) => s.impl))];
  const rows: string[][] = [
    [
      'impl',
      'RSS KiB/sub',
      'heap KiB/sub',
      `rate ${settings.rate}/s: deliv/s`,
      'p50 ms',
      'p99 ms',
      'sat: deliv/s',
      'p50 ms',
      'p99 ms',
      'recovery (lost / dup / recover ms max)',
    ],
  ];
  const med = new Map<string, Record<string, number>>();
  for (const name of names) {
    const of = samples.filter((s) => s.impl === name);
    const m = {
      mem: median(of.map((s) => s.memPerSub / 1024)),
      heap: median(of.map((s) => s.heapPerSub / 1024)),
      rate: median(of.map((s) => s.rate.perSecond)),
      rateP50: median(of.map((s) => s.rate.p50)),
      rateP99: median(of.map((s) => s.rate.p99)),
      sat: median(of.map((s) => s.saturation.perSecond)),
      satP50: median(of.map((s) => s.saturation.p50)),
      satP99: median(of.map((s) => s.saturation.p99)),
    };
    med.set(name, m);
    const rec = of[0]!.recovery
      ? of
          .map((s) => `${s.recovery!.lost} / ${s.recovery!.duplicated} / ${fmt(s.recovery!.recoverMsMax)}`)
          .join('; ')
      : name === 'sio-redis'
        ? 'cannot recover (pub/sub, no history)'
        : name === 'sio-streams'
          ? 'not measured'
          : 'no history (pubsub mode)';
    rows.push([
      name,
      fmt(m.mem, 1),
      fmt(m.heap, 1),
      fmt(m.rate),
      fmt(m.rateP50, 2),
      fmt(m.rateP99, 2),
      fmt(m.sat),
      fmt(m.satP50, 1),
      fmt(m.satP99, 1),
      rec,
    ]);
  }
  for (const [w, s] of PAIRS) {
    const x = med.get(w);
    const y = med.get(s);
    if (x === undefined || y === undefined) continue;
    const r = (k: string): string => `${fmt(x[k]! / y[k]!, 2)}x`;
    rows.push([
      `${w}/${s}`,
      r('mem'),
      r('heap'),
      r('rate'),
      r('rateP50'),
      r('rateP99'),
      r('sat'),
      r('satP50'),
      r('satP99'),
      '',
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const line = (row: string[]): string => `| ${row.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`;
  console.log(`\n${line(rows[0]!)}\n| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
  for (const row of rows.slice(1)) console.log(line(row));

  console.log('\nwhat bound each figure (median CPU, % of one core, over the measured window):');
  for (const name of names) {
    const of = samples.filter((s) => s.impl === name);
    console.log(
      `  ${name}: fixed rate: ${bound(
        of.map((s) => s.rate),
        true,
      )}; saturation: ${bound(
        of.map((s) => s.saturation),
        false,
      )}`,
    );
    const cpu = (pick: (s: Sample) => Window): string =>
      Object.keys(of[0]![pick === rate ? 'rate' : 'saturation'].cpu)
        .map((n) => `${n} ${fmt(median(of.map((s) => pick(s).cpu[n]!)))}`)
        .join(', ');
    console.log(`    rate CPU%: ${cpu(rate)}\n    saturation CPU%: ${cpu(saturation)}`);
  }
  console.log(
    '  memory: RSS (and V8 heap + external) after a forced GC of both nodes, with the idle subscribers minus without, / subscribers',
  );
}

const rate = (s: Sample): Window => s.rate;
const saturation = (s: Sample): Window => s.saturation;
