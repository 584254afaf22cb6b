// The benchmark's paired ratios: each run's wsx sample over the peer's sample of the same run,
// so that a machine changing speed between runs does not tilt the comparison.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type PairableCell, pairedRatioLines, pairedRatios } from '../../bench/paired.js';

function cell(workload: string, server: string, values: Array<[run: number, value: number]>): PairableCell {
  return { workload, server, samples: values.map(([run, value]) => ({ value, detail: { run } })) };
}

describe('bench: paired ratios', () => {
  it('divides samples of the same run, and takes the median of those ratios', () => {
    // The machine slows down over the runs: the ratio of medians would say 0.5, every run says 0.9-1.1.
    const cells = [
      cell('echo', 'wsx', [
        [1, 100],
        [2, 45],
        [3, 22],
      ]),
      cell('echo', 'net', [
        [1, 110],
        [2, 50],
        [3, 20],
      ]),
    ];
    const [ratio] = pairedRatios(cells);
    assert.equal(ratio.peer, 'net');
    assert.equal(ratio.runs, 3);
    assert.equal(ratio.median, 100 / 110);
    assert.equal(ratio.min, 45 / 50);
    assert.equal(ratio.max, 22 / 20);
  });

  it('leaves out a run where either server has no sample, and averages the middle two of an even count', () => {
    const cells = [
      cell('echo', 'wsx', [
        [1, 80],
        [2, 90],
        [4, 120],
      ]),
      cell('echo', 'uws', [
        [1, 100],
        [3, 100],
        [4, 100],
      ]),
    ];
    const [ratio] = pairedRatios(cells);
    assert.equal(ratio.runs, 2);
    assert.equal(ratio.median, 1.0);
    assert.equal(ratio.min, 0.8);
    assert.equal(ratio.max, 1.2);
  });

  it('pairs samples by position when a result file predates run numbers', () => {
    const cells: PairableCell[] = [
      {
        workload: 'w',
        server: 'wsx',
        samples: [
          { value: 3, detail: {} },
          { value: 4, detail: {} },
        ],
      },
      {
        workload: 'w',
        server: 'ws',
        samples: [
          { value: 1, detail: {} },
          { value: 2, detail: {} },
        ],
      },
    ];
    assert.equal(pairedRatios(cells)[0].median, 2.5);
  });

  it('reports each workload on one line, peers in a fixed order, and nothing without wsx', () => {
    const cells = [
      cell('a', 'wsx', [[1, 2]]),
      cell('a', 'ws', [[1, 1]]),
      cell('a', 'uws', [[1, 4]]),
      cell('b', 'ws', [[1, 1]]),
    ];
    const lines = pairedRatioLines(cells);
    assert.equal(lines.length, 2);
    assert.equal(lines[1], '  a: uws 0.50 (0.50..0.50), ws 2.00 (2.00..2.00)');
    assert.deepEqual(pairedRatioLines([cell('b', 'ws', [[1, 1]])]), []);
  });
});
