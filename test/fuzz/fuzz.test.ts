// A short, bounded run of the coverage-guided fuzzer (fuzzer.ts) over every target, inside
// `npm test`: 8 s in all. The seed is printed; WSX_FUZZ_SEED repeats a run, WSX_FUZZ_SECONDS
// lengthens it. Long runs: `node .build/test/fuzz/run.js --seconds 600` (see run.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fuzz } from './fuzzer.js';
import { allTargets, loadOptional } from './targets.js';

const SECONDS = Number(process.env.WSX_FUZZ_SECONDS ?? 8);
const SEED = Number(process.env.WSX_FUZZ_SEED ?? Date.now() >>> 0);

describe('mutational fuzzing (short run)', () => {
  it(`finds no crash in ${SECONDS} s over every target (seed ${SEED})`, async (t) => {
    const targets = allTargets(await loadOptional());
    const reports = fuzz({
      targets,
      seconds: SECONDS,
      seed: SEED,
      coverage: true,
      outDir: fileURLToPath(new URL('../../../test-artifacts/fuzz-crashes/', import.meta.url)),
    });
    for (const report of reports) {
      t.diagnostic(
        `${report.target}: ${report.execs} inputs, corpus ${report.corpus}, ${report.blocks} new blocks, ` +
          `${report.crashes.length} crashes`,
      );
    }
    const crashes = reports.flatMap((r) => r.crashes);
    assert.deepEqual(
      crashes.map((c) => `${c.signature} (x${c.count}) input ${c.input.slice(0, 200)}\n${c.problem}`),
      [],
      `reproduce with WSX_FUZZ_SEED=${SEED}`,
    );
    assert.ok(
      reports.every((r) => r.execs > 100),
      'every target ran',
    );
  });
});
