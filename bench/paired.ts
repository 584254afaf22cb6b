/**
 * Paired ratios: wsx's sample of each run divided by a peer's sample of the same run.
 *
 * The servers of a workload take turns within each run, so a run's samples are seconds apart,
 * while this kind of machine (a shared VM) changes speed by tens of percent over minutes. A
 * ratio of medians mixes samples taken at different speeds; the median of per-run ratios
 * compares samples taken under the same conditions, and its spread shows how far one
 * comparison can be trusted.
 */

/** What a pairing needs of a report cell (run.ts's cells have more). */
export interface PairableCell {
  workload: string;
  server: string;
  samples: Array<{ value: number; detail: Record<string, unknown> }>;
}

export interface PairedRatio {
  workload: string;
  peer: string;
  /** Median of the per-run ratios (wsx / peer), with the lowest and highest. */
  median: number;
  min: number;
  max: number;
  /** Runs in which both servers gave a sample. */
  runs: number;
}

/** Peers wsx is compared with, in the order the report lists them. */
const PEERS = ['uws', 'net', 'net-handshake', 'net-handshake-checked', 'net-broadcast', 'ws'];

/** wsx against each peer present, per workload; runs where either sample failed are left out. */
export function pairedRatios(cells: PairableCell[], subject = 'wsx'): PairedRatio[] {
  const out: PairedRatio[] = [];
  const workloads = [...new Set(cells.map((c) => c.workload))];
  for (const workload of workloads) {
    const own = cells.find((c) => c.workload === workload && c.server === subject);
    if (own === undefined) continue;
    const ownByRun = byRun(own);
    for (const peer of PEERS) {
      const other = cells.find((c) => c.workload === workload && c.server === peer);
      if (other === undefined) continue;
      const ratios: number[] = [];
      for (const [run, value] of byRun(other)) {
        const mine = ownByRun.get(run);
        if (mine !== undefined && value > 0) ratios.push(mine / value);
      }
      if (ratios.length === 0) continue;
      ratios.sort((a, b) => a - b);
      out.push({
        workload,
        peer,
        median: middle(ratios),
        min: ratios[0],
        max: ratios[ratios.length - 1],
        runs: ratios.length,
      });
    }
  }
  return out;
}

/** Report lines: one per workload, each peer's median ratio and range. */
export function pairedRatioLines(cells: PairableCell[]): string[] {
  const ratios = pairedRatios(cells);
  if (ratios.length === 0) return [];
  const lines = ['paired ratios, wsx / peer per run (samples of a run are back to back): median (min..max)'];
  for (const workload of new Set(ratios.map((r) => r.workload))) {
    const parts = ratios
      .filter((r) => r.workload === workload)
      .map((r) => `${r.peer} ${r.median.toFixed(2)} (${r.min.toFixed(2)}..${r.max.toFixed(2)})`);
    lines.push(`  ${workload}: ${parts.join(', ')}`);
  }
  return lines;
}

function byRun(cell: PairableCell): Map<number, number> {
  const runs = new Map<number, number>();
  cell.samples.forEach((sample, index) => {
    // Samples carry their run number; older result files list them in run order.
    const run = typeof sample.detail.run === 'number' ? sample.detail.run : index + 1;
    runs.set(run, sample.value);
  });
  return runs;
}

function middle(sorted: number[]): number {
  const n = sorted.length;
  return n % 2 === 1 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}
