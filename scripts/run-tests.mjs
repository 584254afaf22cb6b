#!/usr/bin/env node
// Runs every compiled test file under .build/test with node's test runner, using the
// node binary that runs this script (so CI can run the same suite under another Node).
// Arguments narrow the run to files whose path contains one of them.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const testRoot = join(root, '.build', 'test');

function collect(dir) {
  const files = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files.push(...collect(path));
    else if (name.endsWith('.test.js')) files.push(path);
  }
  return files;
}

const filters = process.argv.slice(2);
const files = collect(testRoot)
  .filter((file) => filters.length === 0 || filters.some((f) => relative(root, file).includes(f)))
  .sort();
if (files.length === 0) {
  console.error(`no test files matched under ${testRoot}`);
  process.exit(1);
}
// No single test may hang a run. The bound also applies to each test file as a whole, and a few
// files run real peers for minutes on a busy machine (libwebsockets with deflate, ws's own
// suite), so it is wide: tests carry their own, tighter hang guards.
const result = spawnSync(
  process.execPath,
  ['--test', '--test-reporter=spec', '--test-timeout=900000', ...files],
  {
    stdio: 'inherit',
    cwd: root,
    env: { ...process.env, WSX_NODE: process.execPath },
  },
);
process.exit(result.status ?? 1);
