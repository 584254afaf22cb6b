// The fuzzer from the command line, for long runs:
//
//   npx tsc -p tsconfig.json && npx tsc -p tsconfig.test.json
//   node .build/test/fuzz/run.js --seconds 600 [--target frames-server]... [--seed N] [--no-coverage]
//
// Time is shared equally by the targets. Crashing inputs go to test-artifacts/fuzz-crashes/
// (one .bin with the input's bytes and one .txt with the problem per distinct crash). Exits 1
// when anything crashed. `--list` names the targets.

import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { fuzz, type TargetReport } from './fuzzer.js';
import { allTargets, loadOptional } from './targets.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    target: { type: 'string', multiple: true },
    seed: { type: 'string' },
    'no-coverage': { type: 'boolean', default: false },
    out: { type: 'string' },
    list: { type: 'boolean', default: false },
  },
});

const targets = allTargets(await loadOptional());
if (values.list) {
  for (const target of targets) console.log(target.name);
  process.exit(0);
}
const chosen = values.target === undefined ? targets : targets.filter((t) => values.target!.includes(t.name));
if (chosen.length === 0) {
  console.error(`no such target; choose among: ${targets.map((t) => t.name).join(', ')}`);
  process.exit(2);
}
const seed = values.seed === undefined ? Date.now() >>> 0 : Number(values.seed);
const outDir = values.out ?? fileURLToPath(new URL('../../../test-artifacts/fuzz-crashes/', import.meta.url));
const seconds = Number(values.seconds);
console.log(`fuzzing ${chosen.map((t) => t.name).join(', ')} for ${seconds} s, seed ${seed}`);

const line = (r: TargetReport) =>
  `${r.target}: ${r.execs} inputs, corpus ${r.corpus}, ${r.blocks} new blocks, ${r.crashes.length} crashes`;
const reports = fuzz({
  targets: chosen,
  seconds,
  seed,
  coverage: !values['no-coverage'],
  outDir,
  progress: (so) => console.log(so.map(line).join('\n')),
});
console.log('---');
for (const report of reports) {
  console.log(line(report));
  for (const crash of report.crashes)
    console.log(`  ${crash.signature} (x${crash.count}) ${crash.file ?? ''}`);
}
const total = reports.reduce((n, r) => n + r.execs, 0);
const crashes = reports.reduce((n, r) => n + r.crashes.length, 0);
console.log(`${total} inputs, ${crashes} distinct crashes, seed ${seed}`);
process.exit(crashes > 0 ? 1 : 0);
