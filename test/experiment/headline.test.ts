/**
 * experiment/headline.ts: what a run headlines. One seed: the run's own figures and bootstrap intervals; several:
 * the mean over seeds of each figure (a mean over sets taken per seed first) with a t-interval over the seeds.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildHeadline, headlineMeasurements } from '../../src/experiment/headline.js';
import type { ContaminationMeasurement, GapMeasurement, StatisticsInfo } from '../../src/experiment/types.js';

const info: StatisticsInfo = {
  level: 0.95,
  accuracyInterval: 'clopper-pearson',
  gapInterval: 'paired-bootstrap-percentile',
  gapTest: 'mcnemar-exact',
  bootstrap: 100,
  seed: 7,
};
const gap = (set: string, top1Gap: number, values?: number[]): GapMeasurement => ({
  teacher: 't',
  student: 's',
  set,
  n: 10,
  top1Gap,
  interval: { low: top1Gap - 0.1, high: top1Gap + 0.1 },
  mcnemarP: 0.5,
  onlyTeacher: 1,
  onlyStudent: 1,
  ...(values ? { acrossSeeds: { seeds: [0, 1, 2], values, mean: NaN, std: NaN } } : {}),
});

test('one seed: the run figures and their bootstrap intervals; a mean over several sets has none', () => {
  const c: ContaminationMeasurement = {
    teacher: 't',
    student: 's',
    estimate: 0.05,
    interval: { low: -0.01, high: 0.11 },
    idSets: ['id'],
    oodSets: ['a', 'b'],
  };
  const h = buildHeadline({
    teacher: 't',
    student: 's',
    idSets: ['id'],
    oodSets: ['a', 'b'],
    gaps: [gap('id', 0.02), gap('a', 0.1), gap('b', 0.04)],
    contamination: c,
    statistics: info,
  });
  assert.equal(h.basis, 'single-run');
  assert.deepEqual(h.seeds, [7]);
  assert.equal(h.interval, 'paired-bootstrap-percentile');
  assert.deepEqual([h.contamination!.value, h.contamination!.interval], [0.05, c.interval]);
  assert.equal(h.contamination!.std, null);
  assert.deepEqual(h.idGap!.interval, { low: 0.02 - 0.1, high: 0.02 + 0.1 });
  assert.ok(Math.abs(h.oodGap!.value - 0.07) < 1e-15);
  assert.equal(h.oodGap!.interval, null);
});

test('several seeds: per-seed means over the sets, then their mean and t-interval over the seeds', () => {
  const a = [0.1, 0.2, 0.3],
    b = [0.0, 0.1, -0.1];
  const h = buildHeadline({
    teacher: 't',
    student: 's',
    idSets: [],
    oodSets: ['a', 'b'],
    gaps: [gap('a', a[0]!, a), gap('b', b[0]!, b)],
    contamination: null,
    statistics: info,
  });
  assert.equal(h.basis, 'mean-over-seeds');
  assert.deepEqual(h.seeds, [0, 1, 2]);
  assert.equal(h.idGap, null);
  // Per seed: (0.1 + 0) / 2, (0.2 + 0.1) / 2, (0.3 - 0.1) / 2 = 0.05, 0.15, 0.1; mean 0.1, sample std 0.05.
  const o = h.oodGap!;
  assert.deepEqual(
    o.values!.map((v) => Number(v.toFixed(12))),
    [0.05, 0.15, 0.1],
  );
  assert.ok(Math.abs(o.value - 0.1) < 1e-15 && Math.abs(o.std! - 0.05) < 1e-15);
  const t2 = 0.95 / Math.sqrt(2 * 0.975 * 0.025); // t_{0.975, 2}, closed form
  const half = (t2 * 0.05) / Math.sqrt(3);
  assert.ok(Math.abs(o.interval!.low - (0.1 - half)) < 1e-12 && Math.abs(o.interval!.high - (0.1 + half)) < 1e-12);
  // The measurements headlined the same way, seed 0 kept in acrossSeeds.
  const m = headlineMeasurements({ accuracy: [], gaps: [gap('a', a[0]!, a)], contamination: [] });
  assert.ok(Math.abs(m.gaps[0]!.top1Gap - 0.2) < 1e-15);
  assert.equal(m.gaps[0]!.acrossSeeds!.values[0], 0.1);
});
