// `npm run autobahn`: Autobahn|TestSuite against wsx in both roles, one testee after another
// (they would skew each other's timeouts on a small machine), then one table and one verdict.
// The command line is in options.ts.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseOptions, RunnerUsageError, USAGE } from './options.js';
import { locateSuite, type Suite } from './suite.js';
import { exitStatus, formatRuns, type RunSummary } from './summary.js';
import { runTestee } from './testees.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

async function main(): Promise<number> {
  let options: ReturnType<typeof parseOptions>;
  try {
    options = parseOptions(process.argv.slice(2), process.cwd());
  } catch (error) {
    if (!(error instanceof RunnerUsageError)) throw error;
    process.stderr.write(`autobahn: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  let suite: Suite;
  try {
    suite = locateSuite(process.env, REPO_ROOT);
  } catch (error) {
    process.stderr.write(`autobahn: ${(error as Error).message}\n`);
    return 2;
  }
  const started = new Date();
  const cases = options.cases?.join(',') ?? (options.ci ? 'the CI preset (options.ts)' : 'all');
  process.stdout.write(
    `Autobahn|TestSuite from ${suite.dir}; cases: ${cases}; ` +
      `testees ${options.testees.join(', ')}; reports under ${options.outDir}\n`,
  );
  const runs: RunSummary[] = [];
  for (const testee of options.testees) {
    // Reports of an earlier run must not pass for this one's.
    rmSync(join(options.outDir, testee), { recursive: true, force: true });
    const begin = Date.now();
    runs.push(await runTestee(testee, { suite, ...options }));
    process.stdout.write(`${testee}: done in ${Math.round((Date.now() - begin) / 1000)} s\n`);
  }
  process.stdout.write(
    `\nAutobahn|TestSuite, ${started.toISOString().slice(0, 10)}, Node ${process.version}, ` +
      `cases: ${cases}:\n\n${formatRuns(runs)}\n` +
      `Reports: ${options.outDir}/<testee>/index.html\n`,
  );
  const status = exitStatus(runs);
  process.stdout.write(status === 0 ? 'autobahn: all passed\n' : 'autobahn: FAILED (see above)\n');
  return status;
}

main().then(
  (status) => {
    process.exitCode = status;
  },
  (error: unknown) => {
    process.stderr.write(`autobahn: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
