import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { writeResults } from '../../src/experiment/results.js';
import { accuracyInterval } from '../../src/experiment/statistics.js';
import { registerCompareCommand } from '../../src/cli/commands/compare.js';
import {
  buildComparison,
  comparisonTable,
  compareWorkDirs,
  renderComparisonCsv,
  renderComparisonHtml,
} from '../../src/report/compare.js';
import type { RunResults } from '../../src/report/types.js';
import { sampleResults } from './fixtures.js';
import { captureWrites } from '../helpers/fixtures.js';
import { MODEL_PALETTE } from '../../src/report/charts.js';

/** Run A: the fixture. Run B: the same sets, a student 10 pp worse on ImageNet-R (0.385 -> 0.285). */
function twoRuns(): { a: RunResults; b: RunResults } {
  const a = { ...sampleResults(), title: 'run-a' };
  const base = sampleResults();
  const b: RunResults = {
    ...base,
    title: 'run-b',
    accuracy: base.accuracy.map((x) =>
      x.model === 'distilled-rn50' && x.set === 'ImageNet-R'
        ? { ...x, top1: 0.285, top1Interval: accuracyInterval(0.285, x.n) }
        : x,
    ),
  };
  return { a, b };
}

// The fixture's top-1 (test/report/fixtures.ts), written out here so the test does not recompute them with the code.
const OOD_TEACHER = [0.62, 0.601, 0.352, 0.226, 0.415];
const OOD_STUDENT_A = [0.591, 0.385, 0.24, 0.061, 0.287];
const OOD_STUDENT_B = [0.591, 0.285, 0.24, 0.061, 0.287];
const avg = (v: number[]): number => v.reduce((s, x) => s + x, 0) / v.length;

/** Effective robustness by hand: OLS in logit space over the fixture's baseline points (no references). */
function rhoByHand(id: number, ood: number): number {
  const pts = [
    [0.6, 0.262],
    [0.65, 0.301],
    [0.7, 0.338],
    [0.72, 0.352],
    [0.76, 0.389],
    [0.8, 0.431],
  ] as const;
  const lg = (p: number): number => Math.log(p / (1 - p));
  const xs = pts.map((p) => lg(p[0])),
    ys = pts.map((p) => lg(p[1]));
  const mx = avg(xs),
    my = avg(ys);
  let sxy = 0,
    sxx = 0;
  for (let i = 0; i < xs.length; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
  }
  const a = sxy / sxx,
    b = my - a * mx;
  return ood - 1 / (1 + Math.exp(-(a * lg(id) + b)));
}

test('compare: the shared teacher is one row; same-named students that differ are two, named by their run', () => {
  const { a, b } = twoRuns();
  const c = buildComparison([
    { workDir: 'w/a', results: a },
    { workDir: 'w/b', results: b },
  ]);
  // The fixture's teacher is the same file (sha256), preset and sets in both runs, with the same numbers: one row.
  assert.deepEqual(
    c.models.map((r) => [r.label, r.runs]),
    [
      ['clip-rn50', ['a', 'b']],
      ['distilled-rn50 (a)', ['a']],
      ['distilled-rn50 (b)', ['b']],
    ],
  );
  assert.deepEqual(
    c.runs.map((r) => [r.name, r.title, r.teacher]),
    [
      ['a', 'run-a', 'clip-rn50'],
      ['b', 'run-b', 'clip-rn50'],
    ],
  );
  assert.deepEqual(
    c.sets.map((s) => s.name),
    ['ImageNet', 'ImageNet-V2', 'ImageNet-R', 'ImageNet-Sketch', 'ImageNet-A', 'ObjectNet'],
  );
  assert.deepEqual(c.differences, []);
  const sb = c.models[2]!;
  const r = c.sets.findIndex((s) => s.name === 'ImageNet-R');
  assert.equal(sb.top1[r]!.top1, 0.285);
  assert.deepEqual(sb.top1[r]!.interval, accuracyInterval(0.285, 30000));
  assert.equal(sb.id, 0.71);
  assert.ok(Math.abs(sb.oodAverage! - avg(OOD_STUDENT_B)) < 1e-12);
  const rel = (label: string) => c.relative.find((x) => x.model === label)!;
  const rb = rel('distilled-rn50 (b)');
  assert.deepEqual([rb.teacher, rb.runs], ['clip-rn50', ['b']]);
  assert.ok(Math.abs(rb.gapOod! - (avg(OOD_TEACHER) - avg(OOD_STUDENT_B))) < 1e-12);
  assert.ok(Math.abs(rel('distilled-rn50 (a)').gapOod! - (avg(OOD_TEACHER) - avg(OOD_STUDENT_A))) < 1e-12);
  assert.ok(Math.abs(rb.gapId! - (0.733 - 0.71)) < 1e-12);
  assert.equal(rel('clip-rn50').gapId, null);
  assert.deepEqual(rel('clip-rn50').runs, ['a', 'b'], "the teacher's effective robustness is the same in both runs");
  assert.equal(rb.contamination!.estimate, b.contamination[0]!.estimate);
  assert.deepEqual(rb.contamination!.interval, b.contamination[0]!.interval);
  assert.ok(Math.abs(rb.effectiveRobustness!.rho - rhoByHand(0.71, avg(OOD_STUDENT_B))) < 1e-12);
  const ra = rel('distilled-rn50 (a)');
  assert.ok(Math.abs(ra.effectiveRobustness!.rho - rhoByHand(0.71, avg(OOD_STUDENT_A))) < 1e-12);
  assert.equal(c.chance, null, 'the sets are scored over 1000, 200 and 113 classes: no single chance level');

  const t = comparisonTable(c);
  const col = t.headers.indexOf('ImageNet-R (OOD)');
  const ci = accuracyInterval(0.285, 30000)!;
  assert.equal(t.rows[2]![col], `28.50 [${(ci.low * 100).toFixed(1)}, ${(ci.high * 100).toFixed(1)}]`);
  assert.equal(t.rows[2]![t.headers.indexOf('OOD avg')], (avg(OOD_STUDENT_B) * 100).toFixed(2));
  // Each run's gaps per set: the students differ, so 2 x 6 rows, each naming its one run.
  assert.equal(c.gaps.length, 2 * 6);
  assert.ok(c.gaps.every((g) => g.model.startsWith('distilled-rn50 (') && g.teacher === 'clip-rn50'));
  assert.ok(c.gaps.every((g) => g.runs.length === 1 && g.model.endsWith(`(${g.runs[0]})`)));
});

test("compare CSV: each run's results.csv rows under <run>/<model>, then the summary rows", () => {
  const { a, b } = twoRuns();
  const inputs = [
    { workDir: 'w/a', results: a },
    { workDir: 'w/b', results: b },
  ];
  const csv = renderComparisonCsv(buildComparison(inputs), inputs).trimEnd().split('\n');
  assert.equal(csv[0], 'model,set,metric,value,low,high,n');
  const ci = accuracyInterval(0.285, 30000)!;
  assert.ok(csv.includes(`b/distilled-rn50,ImageNet-R,top1,0.285,${ci.low},${ci.high},30000`));
  assert.ok(
    csv.includes(
      'a/distilled-rn50,ImageNet-R,top1,0.385,' +
        accuracyInterval(0.385, 30000)!.low +
        ',' +
        accuracyInterval(0.385, 30000)!.high +
        ',30000',
    ),
  );
  const summary = csv.find((l) => l.startsWith('b/distilled-rn50,summary,ood_average,'))!.split(',');
  assert.ok(Math.abs(Number(summary[3]) - avg(OOD_STUDENT_B)) < 1e-12);
  assert.deepEqual(summary.slice(4), ['', '', '']);
  assert.ok(csv.some((l) => l.startsWith('a/clip-rn50~a/distilled-rn50,ImageNet,linear_cka,')));
  const perRun = csv.filter((l) => l.includes(',top1,')).length;
  assert.equal(perRun, 2 * 2 * 7, 'top1 of 2 models on 7 sets in each of 2 runs');
  assert.equal(csv.filter((l) => /^[ab]\/clip-rn50,summary,id_mean,/.test(l)).length, 2, 'summary rows per run');
  const html = renderComparisonHtml(buildComparison(inputs));
  assert.ok(
    html.includes('distilled-rn50 (b)') && html.includes('<svg') && !/https?:/.test(html.replace(/<svg[^>]*>/g, '')),
  );
});

test('compare refuses runs whose sets differ, and lists the differences when allowed', () => {
  const { a, b } = twoRuns();
  const changed: RunResults = {
    ...b,
    sets: b.sets.map((s) => (s.name === 'ImageNet-A' ? { ...s, n: 7000 } : s)),
    accuracy: b.accuracy.map((x) => (x.set === 'ImageNet-R' ? { ...x, classes: 1000 } : x)),
  };
  const inputs = [
    { workDir: 'w/a', results: a },
    { workDir: 'w/b', results: changed },
  ];
  assert.throws(
    () => buildComparison(inputs),
    (e: Error & { code?: string }) =>
      e.code === 'BAD_DATA' &&
      e.message.includes('set "ImageNet-R": scored over 200 classes in a, 1000 in b') &&
      e.message.includes('set "ImageNet-A": 7500 images in a, 7000 in b'),
  );
  const c = buildComparison(inputs, { allowDifferentSets: true });
  assert.deepEqual(c.differences, [
    'set "ImageNet-R": scored over 200 classes in a, 1000 in b',
    'set "ImageNet-A": 7500 images in a, 7000 in b',
  ]);
  const missing: RunResults = {
    ...b,
    sets: b.sets.filter((s) => s.name !== 'ObjectNet'),
    accuracy: b.accuracy.filter((x) => x.set !== 'ObjectNet'),
    gaps: b.gaps.filter((x) => x.set !== 'ObjectNet'),
    representationFit: b.representationFit.filter((x) => x.set !== 'ObjectNet'),
  };
  const inputs2 = [inputs[0]!, { workDir: 'w/b', results: missing }];
  assert.throws(() => buildComparison(inputs2), /set "ObjectNet" is in a but not in b/);
  const c2 = buildComparison(inputs2, { allowDifferentSets: true });
  const o = c2.sets.findIndex((s) => s.name === 'ObjectNet');
  const sb = c2.models.find((m) => m.label === 'distilled-rn50 (b)')!;
  assert.equal(sb.top1[o], null);
  assert.ok(Math.abs(sb.oodAverage! - avg(OOD_STUDENT_B.slice(0, 4))) < 1e-12);
  // Without ObjectNet run b measured other sets, so its teacher is another row than run a's.
  assert.deepEqual(
    c2.models.map((m) => m.label),
    ['clip-rn50 (a)', 'distilled-rn50 (a)', 'clip-rn50 (b)', 'distilled-rn50 (b)'],
  );
});

test('fcprobe compare <dirs> --out writes compare.md/csv/html; one work dir or the same twice is refused', async () => {
  const { a, b } = twoRuns();
  const root = mkdtempSync(join(tmpdir(), 'fcprobe-compare-'));
  mkdirSync(join(root, 'a'));
  mkdirSync(join(root, 'b'));
  const { title: _untitled, ...untitled } = a;
  writeResults(join(root, 'a'), untitled);
  writeResults(join(root, 'b'), b);
  const out = join(root, 'out');
  const program = new Command().exitOverride();
  registerCompareCommand(program);
  const lines = await captureWrites(process.stdout, () =>
    program.parseAsync(['node', 'fcprobe', 'compare', join(root, 'a'), join(root, 'b'), '--out', out]),
  );
  for (const f of ['compare.md', 'compare.csv', 'compare.html']) assert.ok(existsSync(join(out, f)), f);
  const text = lines.join('');
  assert.match(text, /^distilled-rn50 \(b\) +student +b /m);
  assert.match(readFileSync(join(out, 'compare.md'), 'utf8'), /\| distilled-rn50 \(b\) \| student \| b \|/);
  assert.throws(() => compareWorkDirs([join(root, 'a')], out), /at least two work directories/);
  assert.throws(() => compareWorkDirs([join(root, 'a'), join(root, 'a')], out), /same run/);
});

test('compare scatter: one colour per model file (the run report palette), one marker shape per run', () => {
  const { a, b } = twoRuns();
  const c = buildComparison([
    { workDir: 'w/a', results: a },
    { workDir: 'w/b', results: b },
  ]);
  const html = renderComparisonHtml(c);
  const fill = (label: string): string[] => [
    ...new Set(
      [
        ...html.matchAll(
          new RegExp(`fill="(#[0-9a-f]{6})"[^>]*data-series="point:${label.replace(/[()]/g, '\\$&')}"`, 'g'),
        ),
      ].map((m) => m[1]!),
    ),
  ];
  // The teacher (one row, both runs) in palette entry 0 as in each run's report; the student file (the same
  // sha256 in both runs, two rows because run b's numbers differ) in entry 1 in both rows.
  assert.deepEqual(fill('clip-rn50'), [MODEL_PALETTE[0]]);
  assert.deepEqual(fill('distilled-rn50 (a)'), [MODEL_PALETTE[1]]);
  assert.deepEqual(fill('distilled-rn50 (b)'), [MODEL_PALETTE[1]]);
  assert.match(html, /Colours \(one per model file\):.*clip-rn50.*distilled-rn50.*; marker shapes: runs\./);
});
