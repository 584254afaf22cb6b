// A small mutational fuzzer, coverage-guided through V8's own block coverage.
//
// Inputs are byte strings; each target turns one into a run of the code under test and returns
// the problems its oracles found (an empty list is a pass; a thrown exception is a problem too).
// Each round picks an input from the target's corpus (its seeds, plus every input that reached
// code no earlier input reached), applies one to four stacked mutations, and runs it. Coverage
// comes from the inspector's precise block coverage (Profiler.takePreciseCoverage, which also
// resets the counters), restricted to wsx's own scripts, sampled once per batch of 32 inputs; a
// batch that reached new blocks is replayed input by input to find which ones did. Runs can
// also go without it (plain random mutation of the seeds).
//
// Crashes are deduplicated by a signature (target and the first problem, with numbers removed)
// and written to an output folder as the input's bytes plus a description.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

export interface Target {
  readonly name: string;
  /** Valid (and a few invalid) inputs to start from. */
  seeds(): Buffer[];
  /** Tokens worth inserting (header names, separators, opcodes...). */
  readonly dictionary?: readonly Buffer[];
  readonly maxLength: number;
  /** Runs one input; returns what went wrong (nothing for a pass). */
  run(input: Buffer): string[];
}

export interface Crash {
  readonly target: string;
  readonly signature: string;
  readonly problem: string;
  readonly input: string;
  /** How many inputs hit this signature. */
  count: number;
  file?: string;
}

export interface TargetReport {
  readonly target: string;
  execs: number;
  corpus: number;
  /** Blocks of wsx's code first reached while fuzzing this target (0 without coverage). */
  blocks: number;
  readonly crashes: Crash[];
}

export interface FuzzOptions {
  readonly targets: readonly Target[];
  /** Time for all targets together, shared equally. */
  readonly seconds: number;
  readonly seed: number;
  readonly coverage: boolean;
  /** Where crashing inputs are written (nothing is written when absent). */
  readonly outDir?: string;
  /** Called every few seconds with the reports so far. */
  readonly progress?: (reports: readonly TargetReport[]) => void;
}

// ---- randomness: sfc32, seeded, so a run can be repeated ----

export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 12; i++) this.next();
  }

  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return n <= 0 ? 0 : this.next() % n;
  }

  chance(p: number): boolean {
    return this.next() / 0x100000000 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }

  bytes(length: number): Buffer {
    const out = Buffer.allocUnsafe(length);
    for (let i = 0; i < length; i++) out[i] = this.next() & 0xff;
    return out;
  }
}

/** A seed derived from an input's bytes, so that per-input choices (splits) repeat with the input. */
export function seedOf(input: Uint8Array): number {
  return createHash('sha1').update(input).digest().readUInt32LE(0);
}

// ---- mutations ----

const INTERESTING = [0x00, 0x01, 0x7d, 0x7e, 0x7f, 0x80, 0x81, 0x82, 0x88, 0x89, 0x8a, 0xc1, 0xfe, 0xff];

function mutateOnce(input: Buffer, random: Random, corpus: readonly Buffer[], target: Target): Buffer {
  const length = input.length;
  const at = random.below(length + 1);
  switch (random.below(12)) {
    case 0: {
      if (length === 0) return random.bytes(1);
      const out = Buffer.from(input);
      out[random.below(length)] ^= 1 << random.below(8);
      return out;
    }
    case 1: {
      if (length === 0) return Buffer.from([random.pick(INTERESTING)]);
      const out = Buffer.from(input);
      out[random.below(length)] = random.pick(INTERESTING);
      return out;
    }
    case 2: {
      if (length === 0) return random.bytes(1);
      const out = Buffer.from(input);
      const i = random.below(length);
      out[i] = (out[i] + random.below(9) - 4) & 0xff;
      return out;
    }
    case 3:
      return Buffer.concat([input.subarray(0, at), random.bytes(1 + random.below(8)), input.subarray(at)]);
    case 4: {
      const end = Math.min(length, at + 1 + random.below(16));
      return Buffer.concat([input.subarray(0, at), input.subarray(end)]);
    }
    case 5: {
      // Duplicate a range in place (repeats frames, header lines, separators).
      const end = Math.min(length, at + 1 + random.below(64));
      const piece = input.subarray(at, end);
      const times = 1 + random.below(4);
      return Buffer.concat([
        input.subarray(0, end),
        ...Array.from({ length: times }, () => piece),
        input.subarray(end),
      ]);
    }
    case 6: {
      // Overwrite with a copy of another range.
      if (length < 2) return input;
      const from = random.below(length);
      const size = 1 + random.below(Math.min(32, length - from));
      const out = Buffer.from(input);
      input.copy(out, random.below(length), from, from + size);
      return out;
    }
    case 7: {
      // Splice with another corpus entry.
      const other = random.pick(corpus);
      const cut = random.below(other.length + 1);
      return random.chance(0.5)
        ? Buffer.concat([input.subarray(0, at), other.subarray(cut)])
        : Buffer.concat([input, other.subarray(0, cut)]);
    }
    case 8:
    case 9: {
      const tokens = target.dictionary;
      if (tokens === undefined || tokens.length === 0) return Buffer.concat([input, random.bytes(1)]);
      const token = random.pick(tokens);
      if (random.chance(0.5)) return Buffer.concat([input.subarray(0, at), token, input.subarray(at)]);
      const out = Buffer.from(input);
      token.copy(out, Math.min(at, Math.max(0, length - token.length)));
      return out;
    }
    case 10:
      return input.subarray(0, random.below(length + 1));
    default: {
      // A 16- or 32-bit big-endian field set to a boundary value (frame lengths, close codes).
      if (length < 2) return input;
      const out = Buffer.from(input);
      const i = random.below(length - 1);
      const value = random.pick([0, 1, 125, 126, 127, 0x7fff, 0xffff, 1000, 1005, 1006, 1015, 2999, 5000]);
      out.writeUInt16BE(value & 0xffff, i);
      return out;
    }
  }
}

export function mutate(input: Buffer, random: Random, corpus: readonly Buffer[], target: Target): Buffer {
  let out = input;
  const rounds = 1 + random.below(4);
  for (let i = 0; i < rounds; i++) out = mutateOnce(out, random, corpus, target);
  return out.length > target.maxLength ? out.subarray(0, target.maxLength) : out;
}

// ---- coverage ----

class Coverage {
  private readonly session = new Session();
  private readonly seen = new Set<string>();

  constructor() {
    this.session.connect();
    this.post('Profiler.enable');
    this.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
  }

  private post(method: string, params?: object): unknown {
    let result: unknown;
    let failure: Error | null = null;
    // The in-process inspector session answers synchronously.
    this.session.post(method, params, (error, value) => {
      failure = error;
      result = value;
    });
    if (failure !== null) throw failure;
    return result;
  }

  /** The blocks of wsx's scripts run since the last call (the counters reset with each call). */
  take(): Set<string> {
    const coverage = this.post('Profiler.takePreciseCoverage') as {
      result: Array<{
        url: string;
        functions: Array<{ ranges: Array<{ startOffset: number; endOffset: number; count: number }> }>;
      }>;
    };
    const covered = new Set<string>();
    for (const script of coverage.result) {
      if (!script.url.includes('/src/')) continue;
      for (const fn of script.functions) {
        for (const range of fn.ranges) {
          if (range.count > 0) covered.add(`${script.url}:${range.startOffset}:${range.endOffset}`);
        }
      }
    }
    return covered;
  }

  /** The blocks in `covered` never seen before. */
  fresh(covered: Set<string>): Set<string> {
    const out = new Set<string>();
    for (const key of covered) if (!this.seen.has(key)) out.add(key);
    return out;
  }

  commit(covered: Set<string>): void {
    for (const key of covered) this.seen.add(key);
  }

  get blocks(): number {
    return this.seen.size;
  }

  stop(): void {
    this.post('Profiler.stopPreciseCoverage');
    this.post('Profiler.disable');
    this.session.disconnect();
  }
}

// ---- the loop ----

/**
 * What makes two crashes the same: the kind of problem (the text before its first colon) and,
 * for exceptions, the error's first line and the first stack frame.
 */
function signatureOf(target: string, problem: string): string {
  const lines = problem.split('\n');
  const first = lines[0];
  const colon = first.indexOf(': ');
  const kind = colon === -1 ? first : first.slice(0, colon);
  if (!/threw|internal error/.test(kind)) return `${target}: ${kind.slice(0, 120)}`;
  const frame = lines.find((line) => line.trim().startsWith('at '))?.trim() ?? '';
  return `${target}: ${first.slice(0, 120)} ${frame}`.replace(/:\d+:\d+\)?$/, '');
}

function runSafely(target: Target, input: Buffer): string[] {
  try {
    return target.run(input);
  } catch (error) {
    return [`target threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`];
  }
}

export function fuzz(options: FuzzOptions): TargetReport[] {
  const random = new Random(options.seed);
  const coverage = options.coverage ? new Coverage() : null;
  const reports: TargetReport[] = [];
  const perTarget = (options.seconds * 1000) / options.targets.length;
  let lastProgress = performance.now();
  try {
    for (const target of options.targets) {
      const report: TargetReport = { target: target.name, execs: 0, corpus: 0, blocks: 0, crashes: [] };
      reports.push(report);
      const bySignature = new Map<string, Crash>();
      const record = (input: Buffer, problems: string[]) => {
        for (const problem of problems.slice(0, 1)) {
          const signature = signatureOf(target.name, problem);
          const known = bySignature.get(signature);
          if (known !== undefined) {
            known.count++;
            continue;
          }
          const crash: Crash = {
            target: target.name,
            signature,
            problem,
            input: input.toString('hex'),
            count: 1,
          };
          if (options.outDir !== undefined) {
            mkdirSync(options.outDir, { recursive: true });
            const name = `${target.name}-${createHash('sha1').update(input).digest('hex').slice(0, 12)}`;
            crash.file = join(options.outDir, `${name}.bin`);
            writeFileSync(crash.file, input);
            writeFileSync(join(options.outDir, `${name}.txt`), `${signature}\n\n${problem}\n`);
          }
          bySignature.set(signature, crash);
          report.crashes.push(crash);
        }
      };
      const corpus = target.seeds();
      coverage?.take(); // drop what ran before this target
      const blocksBefore = coverage?.blocks ?? 0;
      for (const seed of corpus) {
        const problems = runSafely(target, seed);
        report.execs++;
        if (problems.length > 0) record(seed, problems);
      }
      if (coverage !== null) coverage.commit(coverage.take());
      const deadline = performance.now() + perTarget;
      const batch: Buffer[] = [];
      while (performance.now() < deadline) {
        // Inputs run in batches with one coverage sample each; a batch that reached new code is
        // run again input by input to find which inputs did, and those join the corpus.
        batch.length = 0;
        for (let i = 0; i < 32; i++) {
          const input = mutate(random.pick(corpus), random, corpus, target);
          batch.push(input);
          const problems = runSafely(target, input);
          report.execs++;
          if (problems.length > 0) record(input, problems);
        }
        if (coverage !== null) {
          const fresh = coverage.fresh(coverage.take());
          if (fresh.size > 0) {
            for (const input of batch) {
              runSafely(target, input);
              const covered = coverage.take();
              if ([...fresh].some((key) => covered.has(key))) {
                if (corpus.length < 8192) corpus.push(input);
                coverage.commit(covered);
              }
            }
            coverage.commit(fresh);
          }
        }
        if (options.progress !== undefined && performance.now() - lastProgress > 10_000) {
          lastProgress = performance.now();
          report.corpus = corpus.length;
          report.blocks = (coverage?.blocks ?? 0) - blocksBefore;
          options.progress(reports);
        }
      }
      report.corpus = corpus.length;
      report.blocks = (coverage?.blocks ?? 0) - blocksBefore;
    }
  } finally {
    coverage?.stop();
  }
  return reports;
}
