// The Autobahn runner's own logic, without the suite: how index.json becomes outcomes, counts
// and an exit status; its command line; and what it says when the suite is not there.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { NODE } from '../shared/cli.js';
import { ACCEPTED } from './accepted.js';
import { CI_CASES, CI_CLI_CASES, casesFor, parseOptions, RunnerUsageError, TESTEES } from './options.js';
import {
  type CaseResult,
  compareCaseIds,
  exitStatus,
  formatRuns,
  outcomeOf,
  readRun,
  runProblem,
  summarizeAgent,
} from './summary.js';

const MAIN = new URL('./main.js', import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), 'wsx-autobahn-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const ok: CaseResult = { behavior: 'OK', behaviorClose: 'OK' };
/** One case of each behaviour and close behaviour the suite writes, as index.json files them. */
const FIXTURE: Record<string, Record<string, CaseResult>> = {
  agent: {
    '1.1.1': ok,
    '9.3.10': { behavior: 'FAILED', behaviorClose: 'FAILED' },
    '9.3.2': { behavior: 'OK', behaviorClose: 'UNCLEAN' },
    '6.4.1': { behavior: 'NON-STRICT', behaviorClose: 'OK' },
    '7.1.6': { behavior: 'INFORMATIONAL', behaviorClose: 'INFORMATIONAL' },
    '12.1.1': { behavior: 'UNIMPLEMENTED', behaviorClose: 'OK' },
    '7.3.1': { behavior: 'OK', behaviorClose: 'WRONG CODE' },
    '7.3.2': { behavior: 'INFORMATIONAL', behaviorClose: 'FAILED BY CLIENT' },
    '2.1': { behavior: 'NO CLOSE', behaviorClose: 'OK' },
  },
  other: { '1.1.1': ok },
};

function writeIndex(name: string, index: unknown): string {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'index.json'), JSON.stringify(index));
  return dir;
}

describe('outcome of a case', () => {
  it('is the behaviour when the close was OK or informational', () => {
    for (const behavior of ['OK', 'NON-STRICT', 'INFORMATIONAL', 'UNIMPLEMENTED', 'FAILED']) {
      assert.equal(outcomeOf({ behavior, behaviorClose: 'OK' }), behavior);
      assert.equal(outcomeOf({ behavior, behaviorClose: 'INFORMATIONAL' }), behavior);
    }
  });

  it('is at least NON-STRICT for a wrong close code or a client dropping TCP first', () => {
    assert.equal(outcomeOf({ behavior: 'OK', behaviorClose: 'WRONG CODE' }), 'NON-STRICT');
    assert.equal(outcomeOf({ behavior: 'INFORMATIONAL', behaviorClose: 'FAILED BY CLIENT' }), 'NON-STRICT');
    assert.equal(outcomeOf({ behavior: 'FAILED', behaviorClose: 'WRONG CODE' }), 'FAILED');
  });

  it('is FAILED for an unclean or failed close, and for anything the suite has no column for', () => {
    assert.equal(outcomeOf({ behavior: 'OK', behaviorClose: 'UNCLEAN' }), 'FAILED');
    assert.equal(outcomeOf({ behavior: 'OK', behaviorClose: 'FAILED' }), 'FAILED');
    assert.equal(outcomeOf({ behavior: 'NO CLOSE', behaviorClose: 'OK' }), 'FAILED');
    assert.equal(outcomeOf({}), 'FAILED');
  });
});

describe('summary of a report directory', () => {
  it('counts one outcome per case and lists the cases worth a look in case order', () => {
    const run = readRun('row', writeIndex('mixed', FIXTURE), 'agent');
    assert.equal(run.error, undefined);
    assert.equal(run.total, 9);
    assert.deepEqual(run.counts, {
      OK: 1,
      INFORMATIONAL: 1,
      'NON-STRICT': 3,
      UNIMPLEMENTED: 1,
      FAILED: 3,
    });
    assert.deepEqual(
      run.notable.map((c) => `${c.id} ${c.outcome}`),
      [
        '2.1 FAILED',
        '6.4.1 NON-STRICT',
        '7.3.1 NON-STRICT',
        '7.3.2 NON-STRICT',
        '9.3.2 FAILED',
        '9.3.10 FAILED',
        '12.1.1 UNIMPLEMENTED',
      ],
    );
    assert.equal(runProblem(run), '3 NON-STRICT, 1 UNIMPLEMENTED, 3 FAILED');
    assert.equal(exitStatus([run]), 1);
    const table = formatRuns([run]);
    assert.match(table, /^\| testee \| cases \| OK \| NON-STRICT \| INFO \| UNIMPLEMENTED \| FAILED \|$/m);
    assert.ok(
      table.split('\n').includes('| row    |     9 |  1 |          3 |    1 |             1 |      3 |'),
    );
    assert.match(table, /^row: 9\.3\.2 FAILED \(behavior OK, close UNCLEAN\)$/m);
  });

  it('passes a run of OK and informational cases only', () => {
    const run = summarizeAgent('row', { '1.1.1': ok, '7.1.6': FIXTURE.agent['7.1.6'] });
    assert.equal(runProblem(run), null);
    assert.equal(exitStatus([run]), 0);
    assert.equal(exitStatus([run, summarizeAgent('bad', { '6.4.1': FIXTURE.agent['6.4.1'] })]), 1);
    for (const outcome of ['NON-STRICT', 'UNIMPLEMENTED', 'FAILED']) {
      assert.equal(
        exitStatus([summarizeAgent('row', { '1.1.1': { behavior: outcome, behaviorClose: 'OK' } })]),
        1,
      );
    }
  });

  it('fails a run without results: agent absent, index.json missing or unreadable, or no run at all', () => {
    const absent = readRun('row', writeIndex('absent', FIXTURE), 'nobody');
    assert.equal(absent.total, 0);
    assert.equal(runProblem(absent), 'no case results');
    const missing = readRun('row', join(scratch, 'no-such-dir'), 'agent');
    assert.match(missing.error ?? '', /cannot read .*index\.json/);
    const broken = join(scratch, 'broken');
    mkdirSync(broken);
    writeFileSync(join(broken, 'index.json'), '{"agent": {');
    assert.match(readRun('row', broken, 'agent').error ?? '', /cannot read/);
    assert.equal(runProblem(readRun('row', writeIndex('null', null), 'agent')), 'no case results');
    assert.match(formatRuns([missing]), /^row: cannot read /m);
    assert.equal(exitStatus([absent]), 1);
    assert.equal(exitStatus([missing]), 1);
    assert.equal(exitStatus([]), 1);
  });

  it('lets a known outcome pass, with its reason, and only that outcome', () => {
    const accepted = new Map([['6.4.1', { outcome: 'NON-STRICT' as const, reason: 'a reason' }]]);
    const run = summarizeAgent('row', { '1.1.1': ok, '6.4.1': FIXTURE.agent['6.4.1'] }, accepted);
    assert.equal(run.counts['NON-STRICT'], 1);
    assert.equal(runProblem(run), null);
    assert.equal(exitStatus([run]), 0);
    assert.match(formatRuns([run]), /^row: 6\.4\.1 NON-STRICT \(behavior NON-STRICT, close OK, accepted\)$/m);
    assert.match(formatRuns([run]), /^row: accepted because a reason$/m);
    const worse = summarizeAgent('row', { '6.4.1': { behavior: 'FAILED', behaviorClose: 'OK' } }, accepted);
    assert.equal(runProblem(worse), '1 FAILED');
    const other = summarizeAgent('row', { '6.4.2': FIXTURE.agent['6.4.1'] }, accepted);
    assert.equal(runProblem(other), '1 NON-STRICT');
  });

  it('accepts no outcome short of OK on any surface', () => {
    const sizes = Object.values(ACCEPTED).map((accepted) => accepted.size);
    assert.deepEqual(sizes, [0, 0, 0, 0]);
  });

  it('orders case ids by their numbers', () => {
    assert.deepEqual(['10.1.1', '9.3.10', '9.3.2', '2.10', '2.2', '1.1.1'].sort(compareCaseIds), [
      '1.1.1',
      '2.2',
      '2.10',
      '9.3.2',
      '9.3.10',
      '10.1.1',
    ]);
  });
});

describe('runner options', () => {
  it('defaults to every case, both roles (every client surface), under test-artifacts', () => {
    const options = parseOptions([], '/repo');
    for (const testee of TESTEES) assert.deepEqual(casesFor(options, testee), ['*']);
    assert.deepEqual(options.testees, ['server', 'cli', 'connect', 'websocket']);
    assert.equal(options.outDir, '/repo/test-artifacts/autobahn');
  });

  it('--ci runs categories 1-10 and cases 1 and 11 of every 12.N and 13.N group', () => {
    const options = parseOptions(['--ci'], '/repo');
    for (const testee of ['server', 'connect', 'websocket'] as const) {
      assert.deepEqual(casesFor(options, testee), CI_CASES);
    }
    assert.deepEqual(CI_CASES.slice(0, 10), [
      '1.*',
      '2.*',
      '3.*',
      '4.*',
      '5.*',
      '6.*',
      '7.*',
      '8.*',
      '9.*',
      '10.*',
    ]);
    const deflate = CI_CASES.slice(10);
    assert.equal(deflate.length, 2 * (5 + 7));
    for (let n = 1; n <= 7; n++) assert.ok(deflate.includes(`13.${n}.1`) && deflate.includes(`13.${n}.11`));
    for (let n = 1; n <= 5; n++) assert.ok(deflate.includes(`12.${n}.1`) && deflate.includes(`12.${n}.11`));
  });

  it('--ci runs a smaller set through the CLI, a process per case, with every deflate answer', () => {
    const cli = casesFor(parseOptions(['--ci'], '/repo'), 'cli');
    assert.deepEqual(cli, CI_CLI_CASES);
    assert.ok(cli.includes('1.*') && cli.includes('5.*') && cli.includes('9.1.6') && cli.includes('9.2.6'));
    for (let n = 1; n <= 7; n++) assert.ok(cli.includes(`13.${n}.1`));
  });

  it('takes cases, roles (in table order), an output directory and a timeout', () => {
    const options = parseOptions(
      ['--cases', '1.*, 12.1.1', '--roles', 'websocket,server', '--out', 'x', '--timeout', '60'],
      '/repo',
    );
    assert.deepEqual(options.cases, ['1.*', '12.1.1']);
    assert.deepEqual(casesFor({ ...options, ci: true }, 'cli'), ['1.*', '12.1.1']);
    assert.deepEqual(options.testees, ['server', 'websocket']);
    assert.equal(options.outDir, '/repo/x');
    assert.equal(options.timeoutSeconds, 60);
    assert.deepEqual(parseOptions(['--roles', 'client'], '/').testees, ['cli', 'connect', 'websocket']);
  });

  it('refuses what it cannot run, with the reason', () => {
    const bad: Array<[string[], RegExp]> = [
      [['--roles', 'browser'], /unknown role browser/],
      [['--roles', ','], /--roles is empty/],
      [['--cases', '1.1; rm'], /not a case id or pattern/],
      [['--cases', ''], /--cases is empty/],
      [['--ci', '--cases', '1.*'], /exclude each other/],
      [['--timeout', '0'], /--timeout expects/],
      [['--verbose'], /Unknown option/],
    ];
    for (const [argv, message] of bad) {
      assert.throws(
        () => parseOptions(argv, '/'),
        (error: unknown) => {
          assert.ok(error instanceof RunnerUsageError);
          assert.match(error.message, message);
          return true;
        },
      );
    }
  });
});

describe('runner without the suite', () => {
  function runMain(env: Record<string, string>, args: string[] = []) {
    return spawnSync(NODE, [MAIN, ...args], {
      encoding: 'utf8',
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
  }

  it('says where to put the suite and how to install its packages, and exits 2', () => {
    const empty = join(scratch, 'empty-suite');
    mkdirSync(empty);
    const result = runMain({ AUTOBAHN_DIR: empty });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /Autobahn\|TestSuite not found: .*empty-suite has no run-fuzzingclient\.sh/);
    assert.match(result.stderr, /AUTOBAHN_DIR/);
    assert.match(result.stderr, /install-deps\.sh/);
  });

  it('names the packages when its interpreter lacks them, and exits 2', () => {
    const suite = join(scratch, 'suite-without-python');
    mkdirSync(suite);
    for (const name of ['run-fuzzingclient.sh', 'run-fuzzingserver.sh', 'wstest'])
      writeFileSync(join(suite, name), '');
    const result = runMain({ AUTOBAHN_DIR: suite, WSTEST_PYTHON: join(scratch, 'no-python') });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /cannot import its packages/);
    assert.match(result.stderr, /python3-twisted python3-autobahn python3-txaio/);
  });

  it('prints its usage with exit 2 on a bad argument, and exit 0 for --help', () => {
    const bad = runMain({}, ['--roles', 'nope']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown role nope/);
    assert.match(bad.stderr, /Usage: npm run autobahn/);
    const help = runMain({}, ['--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /--ci/);
  });
});
