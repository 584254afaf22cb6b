// Where Autobahn|TestSuite is, whether it can run here, and how its two wrappers are called.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The Python 3 port's entry points, as its README describes them. */
const WRAPPERS = ['run-fuzzingclient.sh', 'run-fuzzingserver.sh', 'wstest'] as const;
/** Its Debian packages, as its install-deps.sh installs them. */
const PYTHON_MODULES = 'twisted, autobahn, txaio';

export interface Suite {
  readonly dir: string;
  /** The interpreter the wrappers run (WSTEST_PYTHON, else Debian's). */
  readonly python: string;
}

/**
 * Finds the suite ($AUTOBAHN_DIR, else ../shared/autobahn beside the repository) and checks
 * that its interpreter sees its Python packages. Throws, with what to do, when either fails.
 */
export function locateSuite(env: NodeJS.ProcessEnv, repoRoot: string): Suite {
  const given = env.AUTOBAHN_DIR !== undefined && env.AUTOBAHN_DIR !== '';
  const dir = given ? resolve(env.AUTOBAHN_DIR!) : resolve(repoRoot, '..', 'shared', 'autobahn');
  const missing = WRAPPERS.filter((name) => !existsSync(join(dir, name)));
  if (missing.length > 0) {
    throw new Error(
      `Autobahn|TestSuite not found: ${dir} has no ${missing.join(', ')}.\n` +
        'The runner uses the Python 3 port of the suite (wstest with run-fuzzingclient.sh and\n' +
        'run-fuzzingserver.sh). Put it at ../shared/autobahn beside this repository, or set\n' +
        `AUTOBAHN_DIR to its directory${given ? ' (it is set, to a directory without them)' : ''}; then, once per machine:\n` +
        '  sudo bash $AUTOBAHN_DIR/install-deps.sh   # python3-twisted python3-autobahn python3-txaio python3-wsaccel',
    );
  }
  const python = env.WSTEST_PYTHON || '/usr/bin/python3';
  const check = spawnSync(python, ['-c', `import ${PYTHON_MODULES}`], { encoding: 'utf8' });
  if (check.status !== 0) {
    const why = check.error?.message ?? check.stderr.trim().split('\n').pop() ?? `exit ${check.status}`;
    throw new Error(
      `Autobahn|TestSuite is at ${dir}, but ${python} cannot import its packages (${why}).\n` +
        'Install them once per machine (Debian: python3-twisted python3-autobahn python3-txaio python3-wsaccel):\n' +
        `  sudo bash ${join(dir, 'install-deps.sh')}\n` +
        'or point WSTEST_PYTHON at an interpreter that has them.',
    );
  }
  return { dir, python };
}

/**
 * Runs one of the suite's wrapper scripts with its output on ours, and resolves with its exit
 * status. WSTEST_TIMEOUT makes the wrapper stop the run, so that nothing waits forever.
 */
export function runWrapper(
  suite: Suite,
  script: (typeof WRAPPERS)[number],
  args: readonly string[],
  timeoutSeconds: number,
): Promise<number> {
  const child = spawn('bash', [join(suite.dir, script), ...args], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, WSTEST_PYTHON: suite.python, WSTEST_TIMEOUT: String(timeoutSeconds) },
  });
  return new Promise((resolve) => {
    child.once('error', () => resolve(127));
    child.once('close', (code, signal) => resolve(code ?? (signal === null ? 1 : 128)));
  });
}
