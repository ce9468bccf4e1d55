/** The report's intervals, computed warnings, the always-drawn ID-vs-OOD scatter and results.csv. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildReport } from '../../src/report/build.js';
import { renderHtml } from '../../src/report/html.js';
import { renderTerminal } from '../../src/report/terminal.js';
import { renderResultsCsv } from '../../src/report/csv.js';
import { accuracyInterval } from '../../src/experiment/statistics.js';
import { sampleResults } from './fixtures.js';

test('warnings are computed from the numbers: wide interval, contamination containing 0, sweep, chance', () => {
  const r = sampleResults();
  assert.deepEqual(buildReport(r).warnings, [], 'large sets, clear contamination, no sweep: nothing to warn about');
  // A small OOD set at chance, a contamination interval across 0, a thin sweep at the grid edge.
  const a = r.accuracy.find((x) => x.model === 'distilled-rn50' && x.set === 'ImageNet-A')!;
  a.n = 28;
  a.top1 = 1 / 28;
  a.top1Interval = accuracyInterval(a.top1, 28);
  const t = r.accuracy.find((x) => x.model === 'clip-rn50' && x.set === 'ImageNet-A')!;
  t.n = 28;
  t.top1 = 14 / 28;
  t.top1Interval = accuracyInterval(t.top1, 28);
  r.contamination[0]!.interval = { low: -0.12, high: 0.18 };
  r.probes[0]!.sweep = { grid: [1e-4, 1e-2, 1], nVal: 7, classes: 7, atGridEdge: true };
  const w = buildReport(r).warnings.join('\n');
  assert.match(w, /ImageNet-A, teacher: the 95% interval of top-1 is 3\d\.\d pp wide/);
  assert.match(w, /ImageNet-A, student: top-1 3\.6% is not above chance \(0\.5% for 200 classes\)/);
  assert.match(w, /contains 0: not distinguishable from no contamination at this n/);
  assert.match(w, /1\.0 per class, fewer than 5/);
  assert.match(w, /at the edge of the sweep grid/);
  assert.match(renderTerminal(buildReport(r)), /Warnings\n========\n! /);
});

test('the ID-vs-OOD scatter is drawn without baselines, with both-way bars, y = x and chance', () => {
  const r = sampleResults();
  r.baselines = null;
  const html = renderHtml(buildReport(r));
  const svg = html.slice(html.indexOf('ID vs OOD top-1 (logit axes'));
  assert.ok(svg.length > 0);
  const scatter = svg.slice(0, svg.indexOf('</svg>'));
  assert.match(scatter, />OOD = ID</, 'the y = x line, in the legend');
  // ImageNet-R is scored over 200 classes, the others over 1,000: no single chance level, so no chance line.
  assert.doesNotMatch(scatter, />chance/);
  // Five OOD sets and the average, for two models: 6 points each; every one has a horizontal (ID) bar, all but
  // the average a vertical (OOD) one. Each bar is a line with a 4 px cap across each end, so with h horizontal
  // and v vertical bars there are h + 2v horizontal and v + 2h vertical segments.
  for (const m of ['clip-rn50', 'distilled-rn50']) {
    const chart = (series: string): string[] =>
      scatter.split('\n').filter((l) => l.includes(`data-series="${series}"`) && l.includes('ecmeta_ssr_type="chart"'));
    const points = new Set(chart(`point:${m}`).map((l) => /ecmeta_data_index="(\d+)"/.exec(l)![1]));
    assert.equal(points.size, 6, `${m}: points`);
    let horizontal = 0,
      vertical = 0;
    for (const l of chart(`interval:${m}`)) {
      const [x1, y1, x2, y2] = /d="M([\d.]+) ([\d.]+)L([\d.]+) ([\d.]+)"/.exec(l)!.slice(1).map(Number) as number[];
      if (y1 === y2 && x1 !== x2) horizontal++;
      else if (x1 === x2 && y1 !== y2) vertical++;
    }
    assert.equal((2 * horizontal - vertical) / 3, 5, `${m}: vertical bars`);
    assert.equal((2 * vertical - horizontal) / 3, 6, `${m}: horizontal bars`);
  }
  assert.doesNotMatch(scatter, /baseline fit/);
});

test('results.csv: one row per (model, set, metric) with value, low and high', () => {
  const r = sampleResults();
  const lines = renderResultsCsv(r).trimEnd().split('\n');
  assert.equal(lines[0], 'model,set,metric,value,low,high,n');
  const top1 = lines.filter((l) => l.includes(',top1,'));
  assert.equal(top1.length, r.accuracy.length);
  const a = r.accuracy[1]!;
  assert.ok(lines.includes(`${a.model},${a.set},top1,${a.top1},${a.top1Interval!.low},${a.top1Interval!.high},${a.n}`));
  const g = r.gaps[0]!;
  assert.ok(
    lines.includes(`${g.student},${g.set},top1_gap,${g.top1Gap},${g.interval!.low},${g.interval!.high},${g.n}`),
  );
  assert.equal(lines.filter((l) => l.includes(',contamination,')).length, 1);
  assert.equal(lines.filter((l) => l.includes(',linear_cka_debiased,')).length, r.representationFit.length);
  // A set name with a comma is quoted.
  r.accuracy[1]!.set = 'a, b';
  assert.match(renderResultsCsv(r), /\n[^\n]*,"a, b",top1,/);
});
