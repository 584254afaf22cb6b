// Reads the index.json an Autobahn|TestSuite run writes and reduces it to what the runner
// prints and decides on: one outcome per case, counts per run, the cases worth a look, and
// whether the whole run passes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Outcomes in rising order of severity: a case gets the worst of its behaviour and its close. */
export const OUTCOMES = ['OK', 'INFORMATIONAL', 'NON-STRICT', 'UNIMPLEMENTED', 'FAILED'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** The outcomes that fail a run; INFORMATIONAL cases only report what the peer chose. */
const FAILING: ReadonlySet<Outcome> = new Set(['NON-STRICT', 'UNIMPLEMENTED', 'FAILED']);

/** One case as index.json files it (fields the runner uses). */
export interface CaseResult {
  readonly behavior?: string;
  readonly behaviorClose?: string;
  readonly remoteCloseCode?: number | null;
  readonly reportfile?: string;
}

/** index.json: `{ agent: { caseId: result } }`. */
export type ReportIndex = Readonly<Record<string, Readonly<Record<string, CaseResult>>>>;

/** A case that was neither OK nor INFORMATIONAL, with the suite's own words for it. */
export interface NotableCase {
  readonly id: string;
  readonly outcome: Outcome;
  readonly behavior: string;
  readonly behaviorClose: string;
  /** Why this outcome does not fail the run, when it is a known one (accepted.ts). */
  readonly acceptedBecause?: string;
}

/** An outcome a testee has by design, by case id: it still counts and prints, but passes. */
export interface AcceptedOutcome {
  readonly outcome: Outcome;
  readonly reason: string;
}

/** One row of the table: a role, or one client surface. */
export interface RunSummary {
  readonly name: string;
  readonly total: number;
  readonly counts: Readonly<Record<Outcome, number>>;
  readonly notable: readonly NotableCase[];
  /** Why the run itself went wrong (no index.json, the wrapper's exit status...), if it did. */
  readonly error?: string;
}

/**
 * The outcome of one case. The suite's report colours a close WRONG CODE or FAILED BY CLIENT
 * as short of a pass and UNCLEAN as a failure; behaviours it has no column for (NO CLOSE, or a
 * missing field) are failures too, so that nothing unexpected passes silently.
 */
export function outcomeOf(result: CaseResult): Outcome {
  const behavior = result.behavior ?? '';
  let outcome: Outcome = (OUTCOMES as readonly string[]).includes(behavior)
    ? (behavior as Outcome)
    : 'FAILED';
  const close = result.behaviorClose ?? '';
  if (close === 'WRONG CODE' || close === 'FAILED BY CLIENT') outcome = worst(outcome, 'NON-STRICT');
  else if (close !== 'OK' && close !== 'INFORMATIONAL') outcome = 'FAILED';
  return outcome;
}

function worst(a: Outcome, b: Outcome): Outcome {
  return OUTCOMES.indexOf(a) >= OUTCOMES.indexOf(b) ? a : b;
}

/** Orders case ids the way the suite numbers them: 9.3.2 before 9.3.10. */
export function compareCaseIds(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? -1) - (y[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

/** Counts the cases of one agent; an absent agent gives a run with no results. */
export function summarizeAgent(
  name: string,
  cases: Readonly<Record<string, CaseResult>> | undefined,
  accepted: ReadonlyMap<string, AcceptedOutcome> = new Map(),
): RunSummary {
  const counts = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  const notable: NotableCase[] = [];
  const ids = Object.keys(cases ?? {}).sort(compareCaseIds);
  for (const id of ids) {
    const result = cases![id];
    const outcome = outcomeOf(result);
    counts[outcome]++;
    if (outcome !== 'OK' && outcome !== 'INFORMATIONAL') {
      // Only the very outcome is accepted: a known NON-STRICT case that FAILS fails the run.
      const known = accepted.get(id);
      notable.push({
        id,
        outcome,
        behavior: result.behavior ?? '(none)',
        behaviorClose: result.behaviorClose ?? '(none)',
        ...(known?.outcome === outcome ? { acceptedBecause: known.reason } : {}),
      });
    }
  }
  return { name, total: ids.length, counts, notable };
}

/**
 * The summary of one run from its report directory. A missing or unreadable index.json is
 * not thrown: it becomes the row's `error`, so that the other rows still print.
 */
export function readRun(
  name: string,
  dir: string,
  agent: string,
  accepted?: ReadonlyMap<string, AcceptedOutcome>,
): RunSummary {
  const path = join(dir, 'index.json');
  let index: ReportIndex;
  try {
    index = JSON.parse(readFileSync(path, 'utf8')) as ReportIndex;
  } catch (error) {
    return { ...summarizeAgent(name, undefined), error: `cannot read ${path}: ${(error as Error).message}` };
  }
  // A file that is valid JSON but no object (null, a number) has no results either.
  return summarizeAgent(
    name,
    typeof index === 'object' && index !== null ? index[agent] : undefined,
    accepted,
  );
}

/** Why a run does not pass, or null when it does. */
export function runProblem(run: RunSummary): string | null {
  if (run.error !== undefined) return run.error;
  if (run.total === 0) return 'no case results';
  const open = run.notable.filter((c) => FAILING.has(c.outcome) && c.acceptedBecause === undefined);
  const bad = OUTCOMES.map((o) => [o, open.filter((c) => c.outcome === o).length] as const).filter(
    ([, n]) => n > 0,
  );
  return bad.length === 0 ? null : bad.map(([o, n]) => `${n} ${o}`).join(', ');
}

/** The runner's exit status: 0 when every run passes, 1 otherwise (or when there is no run). */
export function exitStatus(runs: readonly RunSummary[]): number {
  return runs.length > 0 && runs.every((run) => runProblem(run) === null) ? 0 : 1;
}

const COLUMNS: ReadonlyArray<readonly [string, Outcome]> = [
  ['OK', 'OK'],
  ['NON-STRICT', 'NON-STRICT'],
  ['INFO', 'INFORMATIONAL'],
  ['UNIMPLEMENTED', 'UNIMPLEMENTED'],
  ['FAILED', 'FAILED'],
];

/** The table (Markdown, readable as it is and ready for the README), then what needs a look. */
export function formatRuns(runs: readonly RunSummary[]): string {
  const head = ['testee', 'cases', ...COLUMNS.map(([title]) => title)];
  const rows = runs.map((run) => [
    run.name,
    String(run.total),
    ...COLUMNS.map(([, o]) => String(run.counts[o])),
  ]);
  const widths = head.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i].length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join(' | ')} |`;
  // Counts are right-aligned, in Markdown too.
  const rule = widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`));
  const out = [line(head), `|${rule.join('|')}|`];
  for (const row of rows) out.push(line(row));
  out.push('');
  for (const run of runs) {
    if (run.error !== undefined) out.push(`${run.name}: ${run.error}`);
    for (const c of run.notable) {
      const known = c.acceptedBecause === undefined ? '' : ', accepted';
      out.push(
        `${run.name}: ${c.id} ${c.outcome} (behavior ${c.behavior}, close ${c.behaviorClose}${known})`,
      );
    }
    // Each reason once, after the cases it covers.
    for (const reason of new Set(run.notable.map((c) => c.acceptedBecause).filter((r) => r !== undefined))) {
      out.push(`${run.name}: accepted because ${reason}`);
    }
  }
  return out.join('\n');
}
