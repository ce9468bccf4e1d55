/**
 * Error consistency (Geirhos et al., NeurIPS 2020): Cohen's kappa between two models' per-image correctness.
 * Two models with accuracies p1 and p2 that fail independently agree on an image with probability
 * c_exp = p1 p2 + (1 - p1)(1 - p2); kappa = (c_obs - c_exp) / (1 - c_exp) says how much more (or less) often
 * they are right and wrong on the same images than that. It separates "the student is worse" (kappa near 1, the
 * student fails where the teacher fails, and more) from "the student fails on different images" (kappa near 0).
 */
import type { PairedCounts } from './intervals.js';
import type { Rng } from './rng.js';

export interface ErrorConsistency {
  /** Observed agreement: images both right or both wrong, over n. */
  observed: number;
  /** Agreement expected from the two accuracies alone (independent errors). */
  expected: number;
  /** Cohen's kappa; NaN when expected agreement is 1 (both models always right, or always wrong). */
  kappa: number;
}

/** Kappa from the 2x2 table of a PairedCounts (both wrong = n - the other three). */
export function errorConsistency(c: PairedCounts): ErrorConsistency {
  const { n, bothRight, onlyFirst, onlySecond } = c;
  if (n === 0) return { observed: NaN, expected: NaN, kappa: NaN };
  const bothWrong = n - bothRight - onlyFirst - onlySecond;
  const p1 = (bothRight + onlyFirst) / n;
  const p2 = (bothRight + onlySecond) / n;
  const observed = (bothRight + bothWrong) / n;
  const expected = p1 * p2 + (1 - p1) * (1 - p2);
  return { observed, expected, kappa: expected < 1 ? (observed - expected) / (1 - expected) : NaN };
}

/**
 * One bootstrap replicate of kappa: n images drawn with replacement, each landing in a cell of the 2x2 table
 * with the cell's share, as drawing image indices would.
 */
export function errorConsistencyReplicate(c: PairedCounts, rng: Rng): number {
  const { n, bothRight, onlyFirst, onlySecond } = c;
  if (n === 0) return NaN;
  const a = bothRight,
    b = a + onlyFirst,
    d = b + onlySecond;
  let br = 0,
    f = 0,
    s = 0;
  for (let i = 0; i < n; i++) {
    const r = rng.int(n);
    if (r < a) br++;
    else if (r < b) f++;
    else if (r < d) s++;
  }
  return errorConsistency({ n, bothRight: br, onlyFirst: f, onlySecond: s }).kappa;
}
