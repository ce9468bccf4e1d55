/**
 * The reports a reader opens, as they see them, in headless Chromium at 1400 px: the demo's report (`fcprobe
 * demo`, run here with a shorter distillation), the PACS example's committed report (docs/examples/pacs; real
 * data, so the committed file), a report and a three-run `fcprobe compare` of real runs on generated images. From
 * the laid-out page: no two labels of a chart intersect, no label leaves its chart, every model drawn in a chart
 * has its interval marks, nothing is wider than the window, and the page logs no error. Skips only when no
 * Chromium is installed (.ci/run installs Debian's).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { compareWorkDirs } from '../../src/report/compare.js';
import {
  compareHtml,
  findChromium,
  inspectPage,
  makeRuns,
  PACS_REPORT,
  type PageFindings,
  reportHtml,
  type Runs,
  runDemo,
} from './pages.js';

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

/**
 * A run report's per-set charts: the accuracy bars and the ID-vs-OOD scatter show every model, the gap bars every
 * student, on each of the `sets` evaluation sets.
 */
function checkRunCharts(f: PageFindings, teacher: string, students: string[], sets: number): void {
  const models = [teacher, ...students];
  checkIntervals(f, models);
  const accuracy = chart(f, /^Top-1 accuracy per set, 95%/);
  const scatter = chart(f, /^ID vs OOD/);
  const gaps = chart(f, students.length > 1 ? /^Teacher minus each student/ : /^Teacher minus student/);
  for (const m of models) {
    assert.equal(accuracy.series[`bar:${m}`]?.items, sets, `accuracy chart: ${m} on the ${sets} eval sets`);
    assert.equal(accuracy.series[`interval:${m}`]?.items, sets, `accuracy chart: ${m}'s error bars`);
    assert.ok(scatter.series[`point:${m}`], `scatter has ${m}`);
    assert.ok(scatter.series[`interval:${m}`], `scatter has ${m}'s intervals`);
  }
  for (const m of students) {
    assert.equal(gaps.series[`bar:${m}`]?.items, sets, `gap chart: ${m} on the ${sets} eval sets`);
    assert.equal(gaps.series[`interval:${m}`]?.items, sets, `gap chart: ${m}'s error bars`);
  }
}

describe('reports in a real browser', { skip: chromium ? false : 'no chromium binary on PATH' }, () => {
  let runs: Runs;
  let demo: string;
  before(async () => {
    // The demo runs in its own process while the runs are made here: together about a minute on 2 cores.
    const pending = runDemo(mkdtempSync(join(tmpdir(), 'fcprobe-demo-')), 300);
    runs = await makeRuns();
    demo = await pending;
  });

  it("the demo's report: every model alike, labels apart and inside, every interval, nothing too wide", () => {
    const f = inspectPage(chromium!, demo, WIDTH);
    checkLayout(f);
    checkRunCharts(f, 'teacher', ['student-relu', 'student-linear'], 3);
    // The cards summarise the teacher and the least and most contaminated students, by name.
    const html = readFileSync(demo, 'utf8');
    assert.match(html, /Students \(2\): least \/ most contaminated/);
    assert.doesNotMatch(html, /\bthe student\b/i);
  });

  it("the PACS example's committed report: the same checks", () => {
    const f = inspectPage(chromium!, PACS_REPORT, WIDTH);
    checkLayout(f);
    checkRunCharts(f, 'mobilenet_v2_1.0', ['mobilenet_v1_0.25'], 4);
  });

  it('report.html of generated runs: the same checks', () => {
    const f = inspectPage(chromium!, reportHtml(runs.work[0]!, join(runs.dir, 'report-out')), WIDTH);
    checkLayout(f);
    checkRunCharts(f, 'teacher', ['s1', 's2'], 3);
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
