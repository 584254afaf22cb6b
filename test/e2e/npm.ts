// npm and node as a user runs them, for the tests that pack wsx and install it into scratch
// projects (install.test.ts, package.test.ts).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { NODE } from '../shared/cli.js';

/** The repository, which `npm pack` packs. */
export const ROOT = new URL('../../..', import.meta.url).pathname.replace(/\/$/, '');
export const NPM_FLAGS = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=warn'];
// npm and the `wsx` bin find node on PATH: put the runner's node first, so CI's second Node runs them.
const ENV = { ...process.env, PATH: `${dirname(NODE)}${delimiter}${process.env.PATH ?? ''}` };

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function run(command: string, args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export async function succeed(command: string, args: string[], cwd: string): Promise<string> {
  const result = await run(command, args, cwd);
  assert.equal(result.code, 0, `${command} ${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** A project with nothing but a package.json, as a user's would start. */
export function scratchProject(dir: string, fields: object = {}): string {
  mkdirSync(dir);
  const manifest = { name: 'scratch', version: '1.0.0', private: true, ...fields };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest));
  return dir;
}

/** What `npm pack --json` says of the tarball. */
export interface Packed {
  readonly filename: string;
  readonly size: number;
  readonly unpackedSize: number;
  readonly files: ReadonlyArray<{ readonly path: string; readonly size: number }>;
}

/**
 * Packs the repository into `destination` (or, without one, only lists what would be packed).
 * The runner built dist/ just before; `prepare` would delete and rebuild it under the test
 * files that run beside this one, so this packs what is built.
 */
export async function pack(destination?: string): Promise<Packed> {
  const where = destination === undefined ? ['--dry-run'] : ['--pack-destination', destination];
  const packed = await succeed('npm', ['pack', '--ignore-scripts', '--json', ...where, ...NPM_FLAGS], ROOT);
  const [result] = JSON.parse(packed) as Packed[];
  return result;
}
