import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderTable } from '../../bench/run.js';
import { summarize } from '../../src/bench/bench.js';
import { diagnoseShortfall, SHORTFALL_RATIO, type ShortfallInput } from '../../src/bench/diagnose.js';

const base: ShortfallInput = {
  ceiling: [
    { batch: 1, imagesPerSecond: 30 },
    { batch: 8, imagesPerSecond: 46 },
    { batch: 32, imagesPerSecond: 40 },
  ],
  decode: 700,
  decodeConcurrency: 8,
  endToEnd: 14.4, // 0.36 of min(40, 700), the figure a user saw
  batch: 32,
  cores: 8,
  threads: null,
  gpu: false,
};

test('no advice when end to end reaches the threshold of min(ceiling, decode)', () => {
  assert.equal(diagnoseShortfall({ ...base, endToEnd: SHORTFALL_RATIO * 40 }), null);
  assert.equal(diagnoseShortfall({ ...base, batch: 64 }), null, 'no ceiling at that batch: nothing to compare');
});

test('CPU, model-bound at 0.36: names the contention and the flags, citing the measured figures', () => {
  const d = diagnoseShortfall(base)!;
  assert.equal(d.bound, 'model');
  assert.ok(Math.abs(d.ratio - 0.36) < 1e-12);
  assert.match(
    d.cause,
    new RegExp(
      /8 intra-op threads\) and decoding compete for 8 cores: model alone 40\.0 img\/s, /.source +
        /decode alone 700\.0 img\/s, together 14\.4 img\/s/.source,
    ),
  );
  assert.deepEqual(
    d.suggestions.map((s) => s.args),
    [
      ['--batch', '8'], // 46 > 1.1 * 40 at batch 8
      ['--threads', '6'], // leave a quarter of the cores to decoding
      ['--decode-concurrency', '4'],
    ],
  );
  assert.match(d.suggestions[0]!.why, /46\.0 img\/s at batch 8 against 40\.0 at 32/);
});

test('decode-bound on a GPU: more decodes in flight, no --threads advice', () => {
  const d = diagnoseShortfall({
    ...base,
    ceiling: [{ batch: 32, imagesPerSecond: 2000 }],
    decode: 600,
    endToEnd: 200,
    gpu: true,
  })!;
  assert.equal(d.bound, 'decode');
  assert.deepEqual(
    d.suggestions.map((s) => s.args),
    [['--decode-concurrency', '16']],
  );
  assert.match(d.cause, /GPU waits for images/);
});

test('bench table: a convolution faster than the GEMM probe gets a footnote, not a percentage above 100', () => {
  const gemm = { size: 2048, gflops: summarize([230, 240]) };
  const entry = (gflops: number) => ({
    model: 'resnet50' as const,
    modelSource: 'generated',
    provider: 'cpu' as const,
    batch: 32,
    imagesPerSecond: summarize([gflops / 8]),
    flopsPerImage: 8e9,
    achievedGflops: gflops,
  });
  const x = {
    ceiling: [entry(336), entry(120)],
    decode: null,
    endToEnd: [],
    memory: [],
    loadAverage: { before: [], after: [] },
  };
  const table = renderTable(gemm, x);
  assert.doesNotMatch(table, /1\d\d% of best GEMM/);
  assert.match(table, /336\.0 GFLOP\/s, faster than the GEMM probe \(\*\)/);
  assert.match(table, /120\.0 GFLOP\/s, 50% of best GEMM/);
  assert.match(table, /\n\(\*\) The model runs at more GFLOP\/s than the 2048\^3 GEMM probe/);
});
