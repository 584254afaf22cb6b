// Installing wsx the two ways the README gives, into scratch projects, with real npm: a tarball
// from `npm pack`, and a git install (npm clones, installs dev dependencies, runs `prepare`).
// Each installed copy must import, load through require(), run its `wsx` bin, and carry the
// sources its source maps name.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { NODE } from '../shared/cli.js';
import { NPM_FLAGS, pack, ROOT, run, scratchProject, succeed } from './npm.js';

// npm installs are slow (a git install runs a full `npm install` of the dev dependencies). On
// Node 20 the runner's --test-timeout also bounds the whole file.
const INSTALL_TIMEOUT = 10 * 60_000;

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((name) => join(dir, name));
}

/** What a user of the installed package relies on. */
async function checkInstalled(project: string): Promise<void> {
  const imported = await succeed(
    NODE,
    [
      '--input-type=module',
      '-e',
      `const wsx = await import('wsx');
       const protocol = await import('wsx/protocol');
       console.log(JSON.stringify([typeof wsx.createServer, typeof wsx.connect, typeof wsx.WebSocket,
         Object.keys(protocol).length > 0]));`,
    ],
    project,
  );
  assert.deepEqual(JSON.parse(imported), ['function', 'function', 'function', true]);

  // Every Node that wsx supports (>= 20.19) loads ES modules through require().
  const required = await succeed(
    NODE,
    ['-e', `const wsx = require('wsx'); console.log(typeof wsx.createServer, typeof wsx.connect)`],
    project,
  );
  assert.equal(required.trim(), 'function function');

  const help = await run(join(project, 'node_modules', '.bin', 'wsx'), ['--help'], project);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /^Usage: wsx <command> \[options\]/);

  // The legal and release notes travel with the code; the tests and benchmarks do not.
  const pkg = join(project, 'node_modules', 'wsx');
  for (const name of ['LICENSE', 'CHANGELOG.md', 'README.md']) assert.ok(existsSync(join(pkg, name)), name);
  for (const name of ['test', 'bench', 'scripts', '.build']) assert.ok(!existsSync(join(pkg, name)), name);

  // The source maps (.js.map for stack traces, .d.ts.map for "go to definition") name the
  // TypeScript sources, which the package carries.
  const maps = files(join(pkg, 'dist')).filter((file) => file.endsWith('.map'));
  assert.ok(maps.some((file) => file.endsWith('index.js.map')));
  assert.ok(maps.some((file) => file.endsWith('index.d.ts.map')));
  for (const map of maps) {
    const { sources } = JSON.parse(readFileSync(map, 'utf8')) as { sources: string[] };
    for (const source of sources) {
      assert.ok(existsSync(join(dirname(map), source)), `${map} names ${source}, which the package lacks`);
    }
  }
}

describe('installing wsx', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wsx-install-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('from a tarball made by npm pack', { timeout: INSTALL_TIMEOUT }, async () => {
    const { filename } = await pack(dir);
    const project = scratchProject(join(dir, 'from-tarball'));
    await succeed('npm', ['install', join(dir, filename), ...NPM_FLAGS], project);
    await checkInstalled(project);
  });

  // npm installs a git dependency from a commit: this installs HEAD, which in CI (a fresh
  // clone) is the code under test; locally, uncommitted changes are not in it.
  const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  const gitSkip =
    head.status === 0 || process.env.CI ? false : `${ROOT} is not a git checkout (git rev-parse HEAD failed)`;

  it('from git, built by its prepare script', { timeout: INSTALL_TIMEOUT, skip: gitSkip }, async () => {
    assert.equal(head.status, 0, `git rev-parse HEAD in ${ROOT}: ${head.error ?? head.stderr}`);
    const url = `git+${pathToFileURL(ROOT).href}`;
    // The README's approval of wsx's `prepare`, keyed by the git URL as npm versions that review
    // install scripts require (older ones ignore the field).
    const project = scratchProject(join(dir, 'from-git'), { allowScripts: { [url]: true } });
    const install = await run('npm', ['install', `${url}#${head.stdout.trim()}`, ...NPM_FLAGS], project);
    assert.equal(install.code, 0, `npm install ${url} failed:\n${install.stdout}\n${install.stderr}`);
    assert.doesNotMatch(install.stderr, /install-scripts\s+wsx@/, 'the approval covers the prepare script');
    await checkInstalled(project);
  });
});
