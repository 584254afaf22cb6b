// Runs ws's own test suite against wsx/ws with mocha, and compares the failures with the
// reasoned list in expected-failures.json. `node .build/test/ws-suite/run.js` prints the
// outcome (and, with --list, the failures in the list's format, to keep it up to date).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeDependentFailures } from './node-behaviour.js';
import { buildShadow, INTERNAL_FILES, PUBLIC_FILES } from './shadow.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const LIST_PATH = join(REPO_ROOT, 'test', 'ws-suite', 'expected-failures.json');

/** ws's suite: $WS_TEST_SUITE_DIR, else ../shared/ws-test-suite beside the repository. */
export function suiteDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.WS_TEST_SUITE_DIR
    ? resolve(env.WS_TEST_SUITE_DIR)
    : resolve(REPO_ROOT, '..', 'shared', 'ws-test-suite');
}

export function suiteFound(dir: string): boolean {
  return PUBLIC_FILES.every((file) => existsSync(join(dir, 'test', file)));
}

/** One test's outcome, keyed `<file>: <full title>`. */
export interface Outcome {
  readonly key: string;
  readonly state: 'passed' | 'failed' | 'pending';
  readonly error?: string;
  /** Failed in the file's run, passed when run again alone (a busy machine, a timing test). */
  readonly retried?: boolean;
}

interface Line {
  file: string;
  title: string;
  state: Outcome['state'];
  error?: string;
}

/**
 * Runs the public test files under mocha (ws's flag --throw-deprecation), each in its own
 * process. A test that never reported (its process died of an uncaught exception first) is
 * failed with that reason; mocha's --dry-run gives the full list of tests to tell.
 */
export async function runSuite(
  dir: string,
  only?: string,
  listed: Readonly<Record<string, string>> = {},
): Promise<Outcome[]> {
  const shadow = buildShadow(dir, REPO_ROOT);
  try {
    const outcomes: Outcome[] = [];
    for (const file of PUBLIC_FILES) {
      if (only !== undefined && !file.includes(only)) continue;
      outcomes.push(...(await retryUnlisted(shadow, file, await runFile(shadow, file), listed)));
    }
    return outcomes;
  } finally {
    rmSync(shadow, { recursive: true, force: true });
  }
}

async function runFile(shadow: string, file: string): Promise<Outcome[]> {
  const all = await mocha(shadow, file, true);
  const ran = await mocha(shadow, file, false);
  const byKey = new Map<string, Outcome>();
  for (const line of ran.lines)
    byKey.set(line.title, { key: `${file}: ${line.title}`, state: line.state, error: line.error });
  for (const line of all.lines) {
    if (!byKey.has(line.title)) {
      byKey.set(line.title, {
        key: `${file}: ${line.title}`,
        state: 'failed',
        error: `did not run: mocha exited ${ran.status} first (${ran.crash})`,
      });
    }
  }
  return [...byKey.values()];
}

/** Most unlisted failures of a file run again one by one; more means something broke, not a flake. */
const MAX_RETRIES = 10;

/**
 * Runs each unlisted failure once more on its own: ws's suite has timing tests (a 10 s bound on
 * each here, 2 s in ws's own runs) that a loaded CI machine can trip. What passes then counts as
 * passed, marked `retried`.
 */
async function retryUnlisted(
  shadow: string,
  file: string,
  outcomes: Outcome[],
  listed: Readonly<Record<string, string>>,
): Promise<Outcome[]> {
  const unlisted = outcomes.filter((o) => o.state === 'failed' && !(o.key in listed));
  if (unlisted.length === 0 || unlisted.length > MAX_RETRIES) return outcomes;
  const again = new Map<string, Outcome>();
  for (const outcome of unlisted) {
    const title = outcome.key.slice(file.length + 2);
    const run = await mocha(shadow, file, false, `^${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
    if (run.lines.length === 1 && run.lines[0].state === 'passed') {
      again.set(outcome.key, { key: outcome.key, state: 'passed', retried: true });
    }
  }
  return outcomes.map((o) => again.get(o.key) ?? o);
}

async function mocha(
  shadow: string,
  file: string,
  dryRun: boolean,
  grep?: string,
): Promise<{ lines: Line[]; status: number | null; crash: string }> {
  const bin = createRequire(join(REPO_ROOT, 'package.json')).resolve('mocha/bin/mocha.js');
  const output = join(shadow, `${file}.${dryRun ? 'all' : grep === undefined ? 'run' : 'retry'}.jsonl`);
  writeFileSync(output, '');
  // One test depends on the timing of the facade's 30 s default handshake timeout (ws has none):
  // "exposes the server url" leaves four clients pending for ever (its `lookup` never answers)
  // without an 'error' listener, so they fail 30 s later, as an uncaught error in whichever test
  // of websocket.test.js runs then. The file takes about 12 s in all on a loaded 2-core machine;
  // a default of 3 s makes three later tests fail that way (checked when the default was added).
  const args = [bin, '--throw-deprecation', '--exit', '--timeout=10000'];
  if (dryRun) args.push('--dry-run');
  if (grep !== undefined) args.push(`--grep=${grep}`);
  args.push(
    `--reporter=${join(shadow, 'reporter.js')}`,
    `--reporter-option=output=${output}`,
    join('test', file),
  );
  let stderr = '';
  const status = await new Promise<number | null>((done, fail) => {
    const child = spawn(process.execPath, args, { cwd: shadow, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 64 * 1024) stderr += chunk.toString();
    });
    child.on('error', fail);
    child.on('close', done);
  });
  const lines = readFileSync(output, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Line);
  const crash =
    stderr
      .split('\n')
      .find((line) => /Error|assert/i.test(line))
      ?.trim() ?? stderr.trim().slice(0, 200);
  return { lines, status, crash };
}

/** The reasoned list: test key -> why it fails on wsx/ws. */
/** expected-failures.json, plus the failures this Node release brings to ws itself. */
export async function readList(): Promise<Record<string, string>> {
  const listed = JSON.parse(readFileSync(LIST_PATH, 'utf8')) as Record<string, string>;
  return { ...listed, ...(await nodeDependentFailures()) };
}

/** What disagrees with the list: failures not on it, and listed tests that now pass. */
export function compare(outcomes: readonly Outcome[], list: Readonly<Record<string, string>>) {
  const unexpected = outcomes.filter((o) => o.state === 'failed' && !(o.key in list));
  const nowPassing = outcomes.filter((o) => o.state === 'passed' && o.key in list);
  const seen = new Set(outcomes.map((o) => o.key));
  const stale = Object.keys(list).filter((key) => !seen.has(key));
  return { unexpected, nowPassing, stale };
}

/** Counts for README: passed, failed with a reason, not applicable (internal modules, skipped). */
export function summary(dir: string, outcomes: readonly Outcome[]) {
  let internal = 0;
  for (const file of Object.keys(INTERNAL_FILES)) {
    const path = join(dir, 'test', file);
    if (existsSync(path)) internal += (readFileSync(path, 'utf8').match(/^\s*it\(/gm) ?? []).length;
  }
  const count = (state: Outcome['state']) => outcomes.filter((o) => o.state === state).length;
  const retried = outcomes.filter((o) => o.retried === true).length;
  return { passed: count('passed'), failed: count('failed'), skipped: count('pending'), internal, retried };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = suiteDir();
  const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length);
  const list = existsSync(LIST_PATH) ? await readList() : {};
  const outcomes = await runSuite(dir, only, list);
  const { unexpected, nowPassing, stale } = compare(outcomes, list);
  const counts = summary(dir, outcomes);
  console.log(
    `passed ${counts.passed}, failed ${counts.failed}, skipped by ws's own conditions ${counts.skipped}, ` +
      `not applicable (ws internals) ${counts.internal}; passed on a second run ${counts.retried}`,
  );
  for (const o of unexpected) console.log(`UNEXPECTED FAILURE ${o.key}\n    ${o.error}`);
  for (const o of nowPassing) console.log(`NOW PASSING (remove from the list) ${o.key}`);
  for (const key of stale) console.log(`NOT IN THE SUITE (remove from the list) ${key}`);
  if (process.argv.includes('--list')) {
    const current: Record<string, string> = {};
    for (const o of outcomes) if (o.state === 'failed') current[o.key] = list[o.key] ?? `TODO: ${o.error}`;
    console.log(JSON.stringify(current, null, 2));
  }
}
