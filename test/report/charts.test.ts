/** The ECharts-drawn charts (src/report/charts.ts): axes fitted to the data, chance only when inside, colours. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildReport } from '../../src/report/build.js';
import { groupedBarChart, logitScatterChart, MODEL_PALETTE } from '../../src/report/charts.js';
import { renderHtml } from '../../src/report/html.js';
import { sampleResults } from './fixtures.js';

/** The numeric tick labels of an axis: ECharts writes y labels right-aligned, x labels centred, in #555. */
function ticks(svg: string, anchor: 'end' | 'middle'): number[] {
  const re = new RegExp(`<text [^>]*text-anchor="${anchor}"[^>]*fill="#555">([\\d.]+)</text>`, 'g');
  return [...svg.matchAll(re)].map((m) => Number(m[1]));
}

const point = (x: number, y: number, label: string) => ({
  x,
  y,
  label,
  color: '#123456',
  xInterval: { low: x - 0.02, high: x + 0.02 },
  yInterval: { low: y - 0.02, high: y + 0.02 },
});

test('logit scatter: axes span the points and their intervals, not chance far below them', () => {
  // Points at 80-90% with 8 classes: the hand-drawn chart started its axes near 12% (chance).
  const svg = logitScatterChart({
    title: 'fit',
    xLabel: 'ID',
    yLabel: 'OOD',
    baseline: [],
    models: [point(0.8, 0.82, 'a'), point(0.9, 0.86, 'b')],
    fit: null,
    chance: 1 / 8,
  });
  for (const [axis, values] of [
    ['y', ticks(svg, 'end')],
    ['x', ticks(svg, 'middle')],
  ] as const) {
    assert.ok(values.length >= 3, `${axis}: at least 3 ticks, got ${values}`);
    // The data with intervals spans 78-92%; the padding is a few percent of the logit range.
    for (const v of values) assert.ok(v >= 75 && v <= 95, `${axis} tick ${v} outside 75-95`);
  }
  assert.doesNotMatch(svg, />chance/, 'chance (12.5%) is outside the axes: not drawn');
  // Points carry no label in the plot; hovering one shows its numbers and intervals (an SVG <title>).
  assert.match(svg, /<title>a: ID 80\.0 \[78\.0, 82\.0\], OOD 82\.0 \[80\.0, 84\.0\] \(%\)<\/title><\/path>/);
  // With points near chance the line is drawn (and named in the legend).
  const low = logitScatterChart({
    title: 'near chance',
    xLabel: 'ID',
    yLabel: 'OOD',
    baseline: [],
    models: [point(0.3, 0.14, 'a'), point(0.4, 0.2, 'b')],
    fit: null,
    chance: 1 / 8,
  });
  assert.match(low, />chance \(12\.5%\)</);
});

test('a model has one colour, by its position in results.models, on every chart of the report', () => {
  const r = sampleResults();
  // Students first in results.models: colours follow the position, not the role.
  r.models.reverse();
  const html = renderHtml(buildReport(r));
  r.models.forEach((m, i) => {
    const fills = [
      ...html.matchAll(
        new RegExp(
          `<path [^>]*fill="(#[0-9a-f]{6})"[^>]*data-series="(?:bar|point):${m.name}"[^>]*ecmeta_ssr_type="chart"`,
          'g',
        ),
      ),
    ].map((x) => x[1]);
    // 6 bars of the accuracy chart (the evaluation sets: ID test and 5 OOD), the student's 6 bars of the gap chart,
    // 6 points of the ID-vs-OOD scatter (5 OOD sets and their average), 1 point of the effective-robustness chart.
    const gapBars = m.role === 'student' ? 6 : 0;
    assert.equal(fills.length, 6 + gapBars + 6 + 1, `${m.name}: bars and points`);
    assert.deepEqual([...new Set(fills)], [MODEL_PALETTE[i]], `${m.name}: one colour, palette entry ${i}`);
  });
});

test("an interval ending on the axis's last nice number gets room above it (its cap not on the plot's edge)", () => {
  const chart = (high: number): string =>
    groupedBarChart({
      title: 'gap',
      yLabel: 'pp',
      format: (v) => (100 * v).toFixed(1),
      categories: [{ label: 'art' }, { label: 'sketch' }],
      series: [
        {
          name: 's',
          color: '#dd8a2e',
          values: [0.27, -0.07],
          errors: [
            { low: 0.14, high },
            { low: -0.18, high: 0.04 },
          ],
        },
      ],
    });
  // PACS's art_painting gap interval ends at exactly +40.0 pp: the axis goes on past 40 (to the next tick, 60).
  assert.match(chart(0.4), />60\.0</);
  // One just below 40 needs no room: the axis ends at 40.
  assert.doesNotMatch(chart(0.39), />60\.0</);
});
