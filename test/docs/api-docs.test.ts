// `npm run docs` must build the API reference with no warning at all: typedoc.jsonc makes an
// undocumented export or a broken {@link} a warning, and every warning fatal. The same command
// runs here (into a temporary folder), plus a canary project with one undocumented export and
// one broken link, which must fail with both named: proof that the build can fail at all.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { NODE } from '../shared/cli.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DOCS = join(ROOT, 'scripts', 'docs.mjs');
// TypeDoc compiles all of src/ with the TypeScript 6 compiler: tens of seconds on a busy machine.
const BUILD_TIMEOUT = 6 * 60_000;

interface Run {
  readonly code: number | null;
  /** stdout and stderr, without colours. */
  readonly output: string;
}

/** Runs scripts/docs.mjs (as `npm run docs` does) with extra TypeDoc arguments. */
function docs(args: readonly string[], cwd = ROOT): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [DOCS, ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (chunk: Buffer) => (output += chunk.toString());
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output: output.replace(/\x1b\[[0-9;]*m/g, '') }));
  });
}

/** typedoc.jsonc (JSON with whole-line comments). */
function typedocConfig(): Record<string, unknown> {
  return JSON.parse(readFileSync(join(ROOT, 'typedoc.jsonc'), 'utf8').replace(/^\s*\/\/.*$/gm, ''));
}

const dir = mkdtempSync(join(tmpdir(), 'wsx-api-docs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// The two builds run side by side: on Node 20 the runner's --test-timeout also bounds the file.
describe('npm run docs: the API reference', { concurrency: true }, () => {
  it("documents every entry point of package.json's exports", () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      exports: Record<string, string | { default: string }>;
    };
    // What each export serves, as the source file it is built from (dist/x.js <- src/x.ts).
    const served = Object.values(manifest.exports)
      .map((target) => (typeof target === 'string' ? target : target.default))
      .filter((target) => target.startsWith('./dist/'))
      .map((target) => target.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts'))
      .sort();
    const { entryPoints } = typedocConfig() as { entryPoints: string[] };
    assert.deepEqual([...entryPoints].sort(), served);
  });

  it('builds from typedoc.jsonc with zero warnings and zero errors', { timeout: BUILD_TIMEOUT }, async () => {
    const out = join(dir, 'api');
    const run = await docs(['--out', out]);
    assert.equal(run.code, 0, `npm run docs failed:\n${run.output}`);
    const problems = run.output.split('\n').filter((line) => /\[(warning|error)\]/.test(line));
    assert.deepEqual(problems, [], run.output);
    assert.match(run.output, /html generated/);
    // One page per entry point of package.json's "exports".
    for (const page of [
      'index.html',
      'modules/wsx.html',
      'modules/wsx_protocol.html',
      'modules/wsx_redis.html',
      'modules/wsx_ws.html',
    ]) {
      assert.ok(existsSync(join(out, page)), `${page} missing; output:\n${run.output}`);
    }
    const server = readFileSync(join(out, 'functions', 'wsx.createServer.html'), 'utf8');
    assert.match(server, /Creates a WebSocket server/);
  });

  it('fails on an undocumented export and on a broken link', { timeout: BUILD_TIMEOUT }, async () => {
    // A project of its own: one documented export whose comment links nowhere, one undocumented.
    const canary = join(dir, 'canary');
    mkdirSync(canary);
    writeFileSync(
      join(canary, 'index.ts'),
      '/** Links to {@link NoSuchThing}. */\nexport const linked = 1;\nexport function bare(): void {}\n',
    );
    writeFileSync(
      join(canary, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, types: [], lib: ['ES2022'] }, files: ['index.ts'] }),
    );
    // typedoc.jsonc's settings, for the canary alone.
    const config: Record<string, unknown> = {
      ...typedocConfig(),
      entryPoints: ['index.ts'],
      tsconfig: 'tsconfig.json',
      out: 'api',
    };
    delete config.intentionallyNotExported;
    writeFileSync(join(canary, 'typedoc.json'), JSON.stringify(config));
    const run = await docs([], canary);
    assert.notEqual(run.code, 0, `the canary built:\n${run.output}`);
    assert.match(run.output, /bare \(CallSignature\).*does not have any documentation/, run.output);
    assert.match(run.output, /Failed to resolve link to "NoSuchThing"/, run.output);
  });
});
