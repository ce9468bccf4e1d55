import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildReport } from '../../src/report/build.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { sampleResults } from './fixtures.js';

const SEEDS = [0, 1, 2];

/** Sample results whose gaps carry per-seed values: seed i's gap on set j is 0.01 * (j + 1) * (i + 2). */
function withSeeds(drop?: string) {
  const r = sampleResults();
  r.gaps = r.gaps.map((g, j) => {
    if (g.set === drop) return g;
    const values = SEEDS.map((i) => 0.01 * (j + 1) * (i + 2));
    return { ...g, acrossSeeds: { seeds: SEEDS, values, mean: Number.NaN, std: Number.NaN } };
  });
  return r;
}

describe('report: ID mean and OOD average across seeds', () => {
  it("recomputes each seed's OOD-average gap from the sets' per-seed gaps, with mean and sample std", () => {
    const results = withSeeds();
    const report = buildReport(results);
    const ood = report.summary.oodSets;
    assert.ok(ood.length >= 2, 'the fixture averages several OOD sets');
    // Independently: seed i's average over the OOD sets, then mean and (n - 1) std of the three.
    const perSeed = SEEDS.map(
      (_, i) =>
        ood.map((s) => results.gaps.find((g) => g.set === s)!.acrossSeeds!.values[i]!).reduce((a, v) => a + v) /
        ood.length,
    );
    const mean = (perSeed[0]! + perSeed[1]! + perSeed[2]!) / 3;
    const std = Math.sqrt(perSeed.reduce((a, v) => a + (v - mean) ** 2, 0) / 2);
    const got = report.summary.oodAverage!.gapAcrossSeeds!;
    assert.deepEqual(got.seeds, SEEDS);
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(got.values[i]! - perSeed[i]!) < 1e-15);
    assert.ok(Math.abs(got.mean - mean) < 1e-15 && Math.abs(got.std - std) < 1e-15, JSON.stringify({ got, mean, std }));
    const row = renderMarkdown(report)
      .split('\n')
      .find((l) => l.startsWith('| OOD average'));
    assert.ok(row?.endsWith(` | +${(mean * 100).toFixed(2)} ± ${(std * 100).toFixed(2)} |`), row);
    // One ID test set: its own per-seed gaps.
    const idGap = results.gaps.find((g) => g.set === report.summary.idSets[0])!.acrossSeeds!;
    assert.deepEqual(report.summary.id.gapAcrossSeeds!.values, idGap.values);
  });

  it('leaves the average without a spread when one of its sets was measured once', () => {
    const report = buildReport(withSeeds('ImageNet-Sketch'));
    assert.equal(report.summary.oodAverage!.gapAcrossSeeds, undefined);
    assert.ok(report.summary.id.gapAcrossSeeds);
  });
});
