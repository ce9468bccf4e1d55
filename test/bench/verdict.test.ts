/**
 * The end-to-end verdict (issue 23): a ratio to min(ceiling, decode) above 1 is a disturbed measurement, never
 * a pass; the ceiling's rerun keeps the higher median.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderTable } from '../../bench/run.js';
import { summarize } from '../../src/bench/bench.js';
import { ratioVerdict, rerunCeiling } from '../../src/bench/diagnose.js';

test('verdict: above 1 is disturbed whatever the target; else meets or below the target', () => {
  // 44 img/s end to end against min(ceiling 40, decode 700) = 40: 1.10, the figure a user saw reported as a pass.
  const v = ratioVerdict(44 / Math.min(40, 700), 0.9);
  assert.equal(v.verdict, 'disturbed');
  assert.match(v.text, /^1\.10 of min\(ceiling, decode\): DISTURBED/);
  assert.doesNotMatch(v.text, /meets/);
  assert.equal(ratioVerdict(1.0000001, 0.5).verdict, 'disturbed');
  assert.equal(ratioVerdict(1, 0.9).verdict, 'meets', 'exactly the limit is possible');
  assert.equal(ratioVerdict(0.9, 0.9).verdict, 'meets');
  assert.equal(ratioVerdict(0.89, 0.9).verdict, 'below');
  assert.equal(ratioVerdict(Number.NaN, 0.9).verdict, 'unmeasured');
  assert.equal(ratioVerdict(Number.POSITIVE_INFINITY, 0.9).verdict, 'unmeasured');
});

test('ceiling rerun: the higher median of the two runs (load only lowers a rate)', () => {
  assert.equal(rerunCeiling(40, 52), 52);
  assert.equal(rerunCeiling(40, 31), 40);
  assert.equal(rerunCeiling(40, Number.NaN), 40);
});

test('bench table: a ratio above 1 reads DISTURBED, not "meets target"; the rerun is said', () => {
  const s = summarize([44]);
  const e2e = {
    model: 'resnet50' as const,
    provider: 'cpu' as const,
    images: 200,
    batch: 32,
    imagesPerSecond: s,
    wallImagesPerSecond: summarize([40]),
    peakRssMiB: summarize([500]),
    ceiling: 40,
    decode: 700,
    ratio: 44 / 40,
    target: 0.9,
    verdict: 'disturbed' as const,
    ceilingRerun: 38,
    command: 'fcprobe extract ...',
  };
  const x = { ceiling: [], decode: null, endToEnd: [e2e], memory: [], loadAverage: { before: [], after: [] } };
  const table = renderTable(null, x);
  assert.match(table, /1\.10 of min\(ceiling 40\.00 after one rerun, decode 700\.0\): DISTURBED/);
  assert.doesNotMatch(table, /meets target/);
  const ok = renderTable(null, { ...x, endToEnd: [{ ...e2e, ratio: 0.95, verdict: 'meets', ceilingRerun: null }] });
  assert.match(ok, /0\.95 of min\(ceiling 40\.00, decode 700\.0\) \(meets target 0\.9\)/);
});
