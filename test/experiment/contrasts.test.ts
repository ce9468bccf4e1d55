/**
 * Error consistency and student-vs-student contrasts (issue 24), against direct computations from the per-image
 * vectors: Cohen's kappa from its 2x2 table, the exact McNemar p of the two students' discordant images, and
 * differences that must equal the differences of the per-student gaps and contamination estimates.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { errorConsistency } from '../../src/math/agreement.js';
import { mcnemarExactP, pairedCounts } from '../../src/math/intervals.js';
import { computeStatistics, computeStudentContrast, type PairedSet } from '../../src/experiment/statistics.js';
import { lcgUniform } from '../helpers/fixtures.js';

/** A correctness vector with accuracy about p (seeded). */
function vector(n: number, p: number, seed: number): Uint8Array {
  const u = lcgUniform(seed);
  return Uint8Array.from({ length: n }, () => (u() < p ? 1 : 0));
}

/** Kappa straight from two vectors: observed agreement and the agreement the marginals imply. */
function kappaOf(a: Uint8Array, b: Uint8Array): number {
  let agree = 0,
    ra = 0,
    rb = 0;
  for (let i = 0; i < a.length; i++) {
    agree += a[i] === b[i] ? 1 : 0;
    ra += a[i]!;
    rb += b[i]!;
  }
  const n = a.length;
  const pa = ra / n,
    pb = rb / n;
  const exp = pa * pb + (1 - pa) * (1 - pb);
  return (agree / n - exp) / (1 - exp);
}

describe('error consistency (Cohen kappa of per-image correctness)', () => {
  it('equals the 2x2 table by hand: 60 both right, 10 / 5 discordant, 25 both wrong -> 0.29 / 0.44', () => {
    const ec = errorConsistency({ n: 100, bothRight: 60, onlyFirst: 10, onlySecond: 5 });
    assert.ok(Math.abs(ec.observed - 0.85) < 1e-15);
    assert.ok(Math.abs(ec.expected - 0.56) < 1e-15);
    assert.ok(Math.abs(ec.kappa - 0.29 / 0.44) < 1e-12);
    assert.ok(Number.isNaN(errorConsistency({ n: 5, bothRight: 5, onlyFirst: 0, onlySecond: 0 }).kappa));
  });

  it('is recorded per gap with a bootstrap interval around it', () => {
    const t = vector(600, 0.8, 1),
      s = vector(600, 0.7, 2);
    const out = computeStatistics({
      teacher: 't',
      student: 's',
      sets: [{ set: 'ood', role: 'ood', teacher: t, student: s }],
      bootstrap: 400,
      seed: 3,
    });
    const ec = out.gaps[0]!.errorConsistency!;
    assert.ok(Math.abs(ec.kappa - kappaOf(t, s)) < 1e-12);
    assert.ok(ec.interval && ec.interval.low < ec.kappa && ec.kappa < ec.interval.high, JSON.stringify(ec));
    // Independent vectors: kappa near 0, and the interval (about +-0.08 at n = 600) covers it.
    assert.ok(ec.interval.low < 0.1 && ec.interval.high > -0.1);
  });
});

describe('student-vs-student contrast', () => {
  const n = 500;
  const teacher = { id: vector(n, 0.85, 10), ood: vector(n, 0.7, 11), ood2: vector(n, 0.65, 12) };
  const a = { id: vector(n, 0.8, 20), ood: vector(n, 0.55, 21), ood2: vector(n, 0.5, 22) };
  const b = { id: vector(n, 0.82, 30), ood: vector(n, 0.62, 31), ood2: vector(n, 0.6, 32) };
  const sets = (x: typeof a): PairedSet[] => [
    { set: 'test', role: 'id-test', teacher: teacher.id, student: x.id },
    { set: 'ood', role: 'ood', teacher: teacher.ood, student: x.ood },
    { set: 'ood2', role: 'ood', teacher: teacher.ood2, student: x.ood2 },
  ];
  const input = (first: typeof a, second: typeof a, bootstrap: number) => ({
    first: first === a ? 'a' : 'b',
    second: second === a ? 'a' : 'b',
    sets: (['id', 'ood', 'ood2'] as const).map((k, i) => ({
      set: ['test', 'ood', 'ood2'][i]!,
      role: (i === 0 ? 'id-test' : 'ood') as PairedSet['role'],
      first: first[k],
      second: second[k],
    })),
    bootstrap,
    seed: 7,
  });

  it('differences equal the differences of the per-student gaps and contamination; McNemar is exact', () => {
    const sa = computeStatistics({ teacher: 't', student: 'a', sets: sets(a), bootstrap: 0, seed: 1 });
    const sb = computeStatistics({ teacher: 't', student: 'b', sets: sets(b), bootstrap: 0, seed: 1 });
    const c = computeStudentContrast(input(a, b, 500));
    for (let i = 0; i < 3; i++) {
      const row = c.perSet[i]!;
      assert.ok(Math.abs(row.gapDifference - (sa.gaps[i]!.top1Gap - sb.gaps[i]!.top1Gap)) < 1e-12);
      const k = (['id', 'ood', 'ood2'] as const)[i]!;
      const pc = pairedCounts(a[k], b[k]);
      assert.equal(row.onlyFirst, pc.onlyFirst);
      assert.equal(row.onlySecond, pc.onlySecond);
      assert.equal(row.mcnemarP, mcnemarExactP(pc.onlyFirst, pc.onlySecond));
    }
    const oodGap = (s: typeof sa): number => (s.gaps[1]!.top1Gap + s.gaps[2]!.top1Gap) / 2;
    assert.ok(Math.abs(c.oodGapDifference!.estimate - (oodGap(sa) - oodGap(sb))) < 1e-12);
    const diff = sa.contamination[0]!.estimate - sb.contamination[0]!.estimate;
    assert.ok(Math.abs(c.contaminationDifference!.estimate - diff) < 1e-12);
    const iv = c.contaminationDifference!.interval!;
    assert.ok(iv.low < diff && diff < iv.high, JSON.stringify(iv));
    // Swapping the students negates every difference and swaps the discordant counts.
    const r = computeStudentContrast(input(b, a, 0));
    assert.ok(Math.abs(r.contaminationDifference!.estimate + diff) < 1e-12);
    assert.equal(r.perSet[1]!.onlyFirst, c.perSet[1]!.onlySecond);
    assert.equal(r.contaminationDifference!.interval, null, 'no interval without a bootstrap');
  });
});
