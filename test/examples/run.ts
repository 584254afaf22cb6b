// Running the programs of examples/ as a user would: `node examples/NAME/main.mjs` from the
// checkout's root, where `import 'wsx'` resolves to the built package through its own exports.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { NODE } from '../shared/cli.js';
import { within } from '../shared/wait.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The program of an example, relative to the root. */
export function examplePath(name: string): string {
  return `examples/${name}/main.mjs`;
}

export interface ExampleRun {
  readonly child: ChildProcess;
  out(): string;
  err(): string;
  /** The exit status, once the process has exited and its output is all read. */
  exit(): Promise<number | null>;
}

/** Starts an example with its output collected. */
export function startExample(
  name: string,
  args: readonly string[] = [],
  env: NodeJS.ProcessEnv = {},
): ExampleRun {
  const child = spawn(NODE, [examplePath(name), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const closed = once(child, 'close').then(([code]) => code as number | null);
  return {
    child,
    out: () => out,
    err: () => err,
    exit: () => within(60_000, `${name} to exit (stderr: ${err})`, closed),
  };
}

/** Runs an example to its end: its exit status and the lines it printed. */
export async function runExample(
  name: string,
  args: readonly string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; lines: string[]; stderr: string }> {
  const run = startExample(name, args, env);
  const code = await run.exit();
  return {
    code,
    lines: run
      .out()
      .split('\n')
      .filter((line) => line !== ''),
    stderr: run.err(),
  };
}

/** Resolves with the first line the example prints that matches `pattern`, or rejects if it exits first. */
export function printed(run: ExampleRun, pattern: RegExp): Promise<RegExpExecArray> {
  return within(
    20_000,
    `a line matching ${pattern}`,
    new Promise((resolve, reject) => {
      const look = () => {
        const match = run
          .out()
          .split('\n')
          .map((line) => pattern.exec(line))
          .find((m) => m !== null);
        if (match) resolve(match);
      };
      run.child.stdout!.on('data', look);
      run.child.once('exit', (code) => reject(new Error(`exited with ${code} first: ${run.err()}`)));
      look();
    }),
  );
}
