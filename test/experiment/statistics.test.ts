/**
 * The run's statistics from paired correctness: point values against hand counts, the interval ordering, the
 * contamination bootstrap against a direct resampling of image indices, and refusal of unpairable vectors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeStatistics } from '../../src/experiment/statistics.js';
import { FcprobeError } from '../../src/errors.js';
import { mcnemarExactP, percentileInterval } from '../../src/math/intervals.js';
import { Rng } from '../../src/math/rng.js';

function vectors(n: number, pT: number, pS: number, rng: Rng): { teacher: Uint8Array; student: Uint8Array } {
  const teacher = new Uint8Array(n),
    student = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    teacher[i] = rng.uniform() < pT ? 1 : 0;
    student[i] = rng.uniform() < pS ? 1 : 0;
  }
  return { teacher, student };
}

test('gaps, McNemar and contamination from paired correctness', () => {
  const rng = new Rng(9);
  const id = vectors(80, 0.8, 0.75, rng),
    o1 = vectors(60, 0.6, 0.4, rng),
    o2 = vectors(50, 0.5, 0.35, rng);
  o2.teacher[3] = 2; // not scored, for both
  o2.student[3] = 2;
  const out = computeStatistics({
    teacher: 'T',
    student: 'S',
    sets: [
      { set: 'id', role: 'id-test', ...id },
      { set: 'o1', role: 'ood', ...o1 },
      { set: 'o2', role: 'ood', ...o2 },
    ],
    bootstrap: 1000,
    seed: 4,
  });
  const hand = (v: { teacher: Uint8Array; student: Uint8Array }) => {
    let n = 0,
      b = 0,
      c = 0;
    v.teacher.forEach((t, i) => {
      if (t > 1) return;
      n++;
      if (t === 1 && v.student[i] === 0) b++;
      if (t === 0 && v.student[i] === 1) c++;
    });
    return { n, b, c, gap: (b - c) / n };
  };
  const hs = [hand(id), hand(o1), hand(o2)];
  out.gaps.forEach((g, i) => {
    assert.equal(g.n, hs[i]!.n);
    assert.ok(Math.abs(g.top1Gap - hs[i]!.gap) < 1e-15);
    assert.equal(g.mcnemarP, mcnemarExactP(hs[i]!.b, hs[i]!.c));
    assert.ok(g.interval && g.interval.low <= g.top1Gap && g.top1Gap <= g.interval.high);
  });
  assert.equal(out.gaps[2]!.n, 49);
  const c = out.contamination[0]!;
  assert.ok(Math.abs(c.estimate - ((hs[1]!.gap + hs[2]!.gap) / 2 - hs[0]!.gap)) < 1e-15);
  assert.deepEqual(c.idSets, ['id']);
  assert.deepEqual(c.oodSets, ['o1', 'o2']);
  // The same interval, within Monte Carlo error, from resampling image indices directly.
  const direct = new Float64Array(1000);
  const r2 = new Rng(77);
  const resampleGap = (v: { teacher: Uint8Array; student: Uint8Array }): number => {
    const idx = [...v.teacher.keys()].filter((i) => v.teacher[i]! <= 1);
    let d = 0;
    for (let k = 0; k < idx.length; k++) {
      const i = idx[r2.int(idx.length)]!;
      d += v.teacher[i]! - v.student[i]!;
    }
    return d / idx.length;
  };
  for (let r = 0; r < 1000; r++) direct[r] = (resampleGap(o1) + resampleGap(o2)) / 2 - resampleGap(id);
  const ref = percentileInterval(direct);
  assert.ok(Math.abs(c.interval!.low - ref.low) < 0.03, `${c.interval!.low} vs ${ref.low}`);
  assert.ok(Math.abs(c.interval!.high - ref.high) < 0.03, `${c.interval!.high} vs ${ref.high}`);
  // Same seed, same intervals.
  const again = computeStatistics({
    teacher: 'T',
    student: 'S',
    sets: [
      { set: 'id', role: 'id-test', ...id },
      { set: 'o1', role: 'ood', ...o1 },
      { set: 'o2', role: 'ood', ...o2 },
    ],
    bootstrap: 1000,
    seed: 4,
  });
  assert.deepEqual(again.contamination, out.contamination);
  assert.equal(out.info.bootstrap, 1000);
  assert.equal(out.info.seed, 4);
});

test('--bootstrap 0: point values and McNemar, no intervals', () => {
  const rng = new Rng(1);
  const out = computeStatistics({
    teacher: 'T',
    student: 'S',
    sets: [
      { set: 'id', role: 'id-test', ...vectors(30, 0.7, 0.6, rng) },
      { set: 'o', role: 'ood', ...vectors(30, 0.5, 0.3, rng) },
    ],
    bootstrap: 0,
    seed: 0,
  });
  assert.equal(out.gaps[0]!.interval, null);
  assert.equal(out.contamination[0]!.interval, null);
  assert.equal(out.info.gapInterval, null);
});

test('refuses correctness vectors that score different images', () => {
  assert.throws(
    () =>
      computeStatistics({
        teacher: 'T',
        student: 'S',
        sets: [{ set: 'x', role: 'ood', teacher: Uint8Array.from([1, 2]), student: Uint8Array.from([1, 0]) }],
        bootstrap: 10,
        seed: 0,
      }),
    (e: unknown) => e instanceof FcprobeError && e.code === 'MISMATCH' && /Set "x"/.test(e.message),
  );
});
