/** The scale-out benchmark's tables: medians per implementation, wsx/socket.io ratios, and what bound each figure. */
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

/** The histogram's last bucket (common.ts) holds everything from 5 s up: a latency there is "at least". */
const CAP_MS = 5000;
/** Whether column `i` of a throughput row (mem, heap, then deliv/s, p50, p99 per phase) is a capped latency. */
const capped = (x: number, i: number): boolean => i >= 2 && i % 3 !== 2 && x >= CAP_MS;

const fmt = (x: number, digits = 0): string =>
  Number.isFinite(x) ? x.toFixed(digits) : x > 0 ? 'never' : '-';

/** Prints a markdown table with padded columns. */
function table(rows: string[][]): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const line = (row: string[]): string => `| ${row.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`;
  console.log(`\n${line(rows[0]!)}\n| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
  for (const row of rows.slice(1)) console.log(line(row));
}

/** The phases of a sample: the fixed rate, then saturation at each window size. */
function phases(settings: Settings): { label: string; pick: (s: Sample) => Window; fixed: boolean }[] {
  return [
    { label: `rate ${settings.rate}/s`, pick: (s) => s.rate, fixed: true },
    ...settings.windows.map((w, i) => ({
      label: `sat w=${w}`,
      pick: (s: Sample) => s.saturation[i]!,
      fixed: false,
    })),
  ];
}

function recoveryCell(name: string, of: Sample[]): string {
  if (of[0]!.recovery)
    return of
      .map((s) => `${s.recovery!.lost} / ${s.recovery!.duplicated} / ${fmt(s.recovery!.recoverMsMax)}`)
      .join('; ');
  if (name === 'sio-redis') return 'cannot recover (pub/sub, no history)';
  if (name === 'sio-streams') return 'not measured';
  return 'no history (pubsub mode)';
}

/**
 * The throughput ratio of each pair within each repetition (samples are stored run by run, every
 * implementation once per run), as min..max: how far the ratio of medians can be trusted.
 */
function printRunRatios(samples: Sample[], perRun: number, steps: ReturnType<typeof phases>): void {
  for (const [w, s] of PAIRS) {
    const parts: string[] = [];
    for (const p of steps) {
      const ratios: number[] = [];
      for (let r = 0; r * perRun < samples.length; r++) {
        const run = samples.slice(r * perRun, (r + 1) * perRun);
        const x = run.find((v) => v.impl === w);
        const y = run.find((v) => v.impl === s);
        if (x !== undefined && y !== undefined) ratios.push(p.pick(x).perSecond / p.pick(y).perSecond);
      }
      if (ratios.length > 0)
        parts.push(`${p.label} ${fmt(Math.min(...ratios), 2)}..${fmt(Math.max(...ratios), 2)}x`);
    }
    if (parts.length > 0) console.log(`${w}/${s} deliv/s within each run: ${parts.join(', ')}`);
  }
}

export function printTable(samples: Sample[], settings: Settings): void {
  const names = [...new Set(samples.map((s) => s.impl))];
  const runs = (name: string): Sample[] => samples.filter((s) => s.impl === name);
  const steps = phases(settings);

  // Throughput, latency, memory, recovery.
  const head = ['impl', 'RSS KiB/sub', 'heap KiB/sub'];
  for (const p of steps) head.push(`${p.label}: deliv/s`, 'p50 ms', 'p99 ms');
  head.push('recovery (lost / dup / recover ms max)');
  const med = new Map<string, number[]>();
  const rows = [head];
  for (const name of names) {
    const of = runs(name);
    const m = [median(of.map((s) => s.memPerSub / 1024)), median(of.map((s) => s.heapPerSub / 1024))];
    for (const p of steps) {
      m.push(
        median(of.map((s) => p.pick(s).perSecond)),
        median(of.map((s) => p.pick(s).p50)),
        median(of.map((s) => p.pick(s).p99)),
      );
    }
    med.set(name, m);
    rows.push([
      name,
      ...m.map((x, i) => (capped(x, i) ? `≥${CAP_MS}` : fmt(x, i < 2 ? 1 : i % 3 === 2 ? 0 : 1))),
      recoveryCell(name, of),
    ]);
  }
  for (const [w, s] of PAIRS) {
    const x = med.get(w);
    const y = med.get(s);
    if (x === undefined || y === undefined) continue;
    // Against a latency past the histogram's range the ratio is an upper bound.
    rows.push([`${w}/${s}`, ...x.map((v, i) => `${capped(y[i]!, i) ? '≤' : ''}${fmt(v / y[i]!, 2)}x`), '']);
  }
  table(rows);
  printRunRatios(samples, names.length, steps);

  // What a delivery cost, which hardly depends on the share of the machine the bench got.
  const costHead = ['impl'];
  for (const p of steps) costHead.push(`${p.label}: µs CPU/deliv servers`, 'all', 'node writes/deliv');
  const cost = [costHead];
  const costMed = new Map<string, number[]>();
  for (const name of names) {
    const of = runs(name);
    const m: number[] = [];
    for (const p of steps) {
      m.push(
        median(of.map((s) => p.pick(s).cpuUs.servers)),
        median(of.map((s) => p.pick(s).cpuUs.all)),
        median(of.map((s) => p.pick(s).writesPerDelivery)),
      );
    }
    costMed.set(name, m);
    cost.push([name, ...m.map((x) => fmt(x, 2))]);
  }
  for (const [w, s] of PAIRS) {
    const x = costMed.get(w);
    const y = costMed.get(s);
    if (x === undefined || y === undefined) continue;
    cost.push([`${w}/${s}`, ...x.map((v, i) => `${fmt(v / y[i]!, 2)}x`)]);
  }
  table(cost);

  console.log('\nwhat bound each figure (median CPU, % of one core, over the measured window):');
  for (const name of names) {
    const of = runs(name);
    console.log(`  ${name}: ${steps.map((p) => `${p.label}: ${bound(of.map(p.pick), p.fixed)}`).join('; ')}`);
    for (const p of steps) {
      const cpu = Object.keys(p.pick(of[0]!).cpu)
        .map((n) => `${n} ${fmt(median(of.map((s) => p.pick(s).cpu[n]!)))}`)
        .join(', ');
      console.log(`    ${p.label} CPU%: ${cpu}`);
    }
  }
  console.log(
    '  memory: RSS (and V8 heap + external) after a forced GC of both nodes, with the idle subscribers minus without, / subscribers',
  );
}
