/** Mean and sample spread of a handful of repeated measurements (one per seed). */

/**
 * The mean of `values` and their sample standard deviation (n - 1 in the denominator; NaN for one value).
 * @throws RangeError for an empty list.
 */
export function meanAndSampleStd(values: readonly number[]): { mean: number; std: number } {
  const n = values.length;
  if (n === 0) throw new RangeError('meanAndSampleStd needs at least one value');
  const mean = values.reduce((a, v) => a + v, 0) / n;
  const ss = values.reduce((a, v) => a + (v - mean) ** 2, 0);
  return { mean, std: n > 1 ? Math.sqrt(ss / (n - 1)) : Number.NaN };
}
