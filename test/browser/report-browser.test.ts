/**
 * report.html and compare.html as a reader sees them: real runs on generated images (a teacher, two students, an
 * ID test split and two OOD sets), `fcprobe report` and a three-run `fcprobe compare`, each opened in headless
 * Chromium at 1400 px. From the laid-out page: no two labels of a chart intersect, no label leaves its chart,
 * every model drawn in a chart has its interval marks, nothing is wider than the window, and the page logs no
 * error. Skips only when no Chromium is installed (.ci/run installs Debian's).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { compareWorkDirs } from '../../src/report/compare.js';
import { compareHtml, findChromium, inspectPage, makeRuns, type PageFindings, reportHtml, type Runs } from './pages.js';

const chromium = findChromium();
const WIDTH = 1400;

/** The layout checks every page must pass. */
function checkLayout(f: PageFindings): void {
  assert.deepEqual(f.errors, [], 'no console errors');
  assert.equal(f.viewportWidth, WIDTH);
  assert.ok(f.scrollWidth <= WIDTH, `page ${f.scrollWidth} px wide, wider than the ${WIDTH} px window`);
  for (const right of f.tableRights) assert.ok(right <= WIDTH, `a table ends at ${right} px`);
  assert.ok(f.charts.length > 0, 'charts were drawn');
  for (const c of f.charts) {
    assert.ok(c.texts > 0, `${c.title}: has text`);
    assert.deepEqual(c.overlaps, [], `${c.title}: overlapping labels`);
    assert.deepEqual(c.outside, [], `${c.title}: labels outside the chart`);
  }
}

/**
 * In every chart, every model drawn (bars or points) has interval marks: each bar its own error bar, each
 * model of a scatter at least one (an OOD average has no exact interval).
 */
function checkIntervals(f: PageFindings, models: string[]): void {
  for (const c of f.charts)
    for (const m of models) {
      const bars = c.series[`bar:${m}`],
        points = c.series[`point:${m}`],
        marks = c.series[`interval:${m}`];
      if (bars) assert.ok(marks && marks.items >= bars.items, `${c.title}: ${m} has ${marks?.items ?? 0} error bars`);
      if (points) assert.ok(marks && marks.items >= 1, `${c.title}: ${m}'s points have no interval`);
    }
}

function chart(f: PageFindings, title: RegExp): PageFindings['charts'][number] {
  const c = f.charts.find((x) => title.test(x.title));
  assert.ok(c, `a chart titled ${title}`);
  return c;
}

describe('reports in a real browser', { skip: chromium ? false : 'no chromium binary on PATH' }, () => {
  let runs: Runs;
  before(async () => {
    runs = await makeRuns();
  });

  it('report.html: labels apart and inside, every model with its intervals, nothing too wide', () => {
    const out = join(runs.dir, 'report-out');
    const f = inspectPage(chromium!, reportHtml(runs.work[0]!, out), WIDTH);
    checkLayout(f);
    const models = ['teacher', 's1', 's2'];
    checkIntervals(f, models);
    // The charts that must show every model: the all-models bars and the ID-vs-OOD scatter.
    const all = chart(f, /all models/);
    const scatter = chart(f, /^ID vs OOD/);
    for (const m of models) {
      assert.ok(all.series[`bar:${m}`], `all-models chart has ${m}`);
      assert.ok(scatter.series[`point:${m}`], `scatter has ${m}`);
      assert.ok(scatter.series[`interval:${m}`], `scatter has ${m}'s intervals`);
    }
    assert.ok(chart(f, /^Top-1 accuracy per set, 95%/).series['interval:s1'], 'accuracy chart: student intervals');
    const gaps = chart(f, /^Teacher minus each student/);
    for (const m of ['s1', 's2']) assert.equal(gaps.series[`bar:${m}`]?.items, 3, `gap chart: ${m} on the 3 eval sets`);
  });

  it('compare.html of three runs: the same checks', () => {
    const out = join(runs.dir, 'compare-out');
    const f = inspectPage(chromium!, compareHtml(runs.work, out), WIDTH);
    checkLayout(f);
    // Every row of the comparison (each model once, labelled as compare labels it) is a point of the scatter.
    const models = compareWorkDirs(runs.work, join(runs.dir, 'compare-model')).comparison.models.map((m) => m.label);
    assert.ok(models.length >= 4, models.join(', '));
    checkIntervals(f, models);
    const scatter = chart(f, /^ID vs OOD/);
    for (const m of models) assert.ok(scatter.series[`point:${m}`], `compare scatter has ${m}`);
  });
});
