/**
 * A run with three students, rendered: every student alike on the first screen and in every per-set chart.
 * Expectations come from the fixture's inputs (results.json's accuracies, intervals, gaps and contamination),
 * formatted here independently of the renderers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildReport } from '../../src/report/build.js';
import { renderHtml } from '../../src/report/html.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { renderTerminal } from '../../src/report/terminal.js';
import type { RunResults } from '../../src/report/types.js';
import { manyStudentResults, sampleResults } from './fixtures.js';

const results = manyStudentResults();
const report = buildReport(results);
const html = renderHtml(report);
const STUDENTS = ['distilled-rn50', 'student-b', 'student-c'];
const EVAL_SETS = results.sets.filter((s) => s.role !== 'id-train').map((s) => s.name);

/** The inline SVG whose aria-label starts with `title`. */
function svgTitled(page: string, title: string): string {
  const at = page.indexOf(`aria-label="${title}`);
  assert.ok(at >= 0, `a chart titled ${title}`);
  const start = page.lastIndexOf('<svg', at);
  return page.slice(start, page.indexOf('</svg>', at) + 6);
}

/** Data indices that carry marks of series `id` in an SVG. */
function markedIndices(svg: string, id: string): Set<string> {
  const re = new RegExp(`data-series="${id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}" ecmeta_data_index="(\\d+)"`, 'g');
  return new Set([...svg.matchAll(re)].map((m) => m[1]!));
}

/** Fill colours of series `id`'s marks. */
function fills(svg: string, id: string): Set<string> {
  const re = new RegExp(`fill="(#[0-9a-f]{6})"[^>]*data-series="${id}"`, 'g');
  return new Set([...svg.matchAll(re)].map((m) => m[1]!));
}

const one = (v: number): string => (v * 100).toFixed(1);

test('accuracy chart: every model on every evaluation set, each with its Clopper-Pearson interval', () => {
  const svg = svgTitled(html, 'Top-1 accuracy per set, 95% Clopper-Pearson');
  for (const model of ['clip-rn50', ...STUDENTS]) {
    assert.equal(markedIndices(svg, `interval:${model}`).size, EVAL_SETS.length, `${model}'s error bars`);
    for (const set of EVAL_SETS) {
      const a = results.accuracy.find((x) => x.model === model && x.set === set)!;
      const tip = `${set}, ${model}: ${one(a.top1)} [${one(a.top1Interval!.low)}, ${one(a.top1Interval!.high)}]`;
      assert.ok(svg.includes(`<title>${tip}</title>`), `accuracy chart lacks "${tip}"`);
    }
  }
});

test('gap chart: teacher minus each student on every set, each with its paired-bootstrap interval', () => {
  const svg = svgTitled(html, 'Teacher minus each student');
  for (const student of STUDENTS) {
    assert.equal(markedIndices(svg, `interval:${student}`).size, EVAL_SETS.length, `${student}'s error bars`);
    for (const set of EVAL_SETS) {
      const g = results.gaps.find((x) => x.student === student && x.set === set)!;
      const two = (v: number): string => (v * 100).toFixed(2);
      const tip = `${set}, ${student}: ${two(g.top1Gap)} [${two(g.interval!.low)}, ${two(g.interval!.high)}]`;
      assert.ok(svg.includes(`<title>${tip}</title>`), `gap chart lacks "${tip}"`);
    }
  }
});

test('each model keeps one colour across the accuracy, gap and scatter charts, and no two models share one', () => {
  const acc = svgTitled(html, 'Top-1 accuracy per set, 95% Clopper-Pearson');
  const gap = svgTitled(html, 'Teacher minus each student');
  const scatter = svgTitled(html, 'ID vs OOD top-1');
  const colour = new Map<string, string>();
  for (const model of ['clip-rn50', ...STUDENTS]) {
    const a = fills(acc, `bar:${model}`);
    assert.equal(a.size, 1, `${model}: one colour in the accuracy chart`);
    const c = [...a][0]!;
    colour.set(model, c);
    if (model !== 'clip-rn50') assert.deepEqual([...fills(gap, `bar:${model}`)], [c], `${model} in the gap chart`);
    assert.deepEqual([...fills(scatter, `point:${model}`)], [c], `${model} in the scatter`);
  }
  assert.equal(new Set(colour.values()).size, 4, 'four distinct colours');
});

test('headline cards: the teacher and the least and most contaminated students, with their intervals', () => {
  const ranked = [...results.contamination].sort((a, b) => a.estimate - b.estimate);
  const [best, worst] = [ranked[0]!, ranked[ranked.length - 1]!];
  assert.equal(best.student, 'student-c');
  assert.equal(worst.student, 'student-b');
  const cards = html.slice(html.indexOf('<div class="cards">'), html.indexOf('<h2>'));
  const sign = (v: number): string => `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}`;
  for (const c of [best, worst]) {
    const text = `${sign(c.estimate)} [${sign(c.interval!.low)}, ${sign(c.interval!.high)}]`;
    assert.ok(cards.includes(text), `cards lack ${c.student}'s contamination ${text}`);
  }
  assert.match(cards, /Students \(3\): least \/ most contaminated/);
  assert.ok(cards.indexOf('student-c') < cards.indexOf('student-b'), 'least contaminated first');
  assert.ok(!cards.includes('distilled-rn50'), 'the middle student is in the Students table, not the cards');
  // The ID accuracy card: teacher / least / most, each the mean over the ID test sets (one set here).
  const idTop1 = (m: string): string => one(results.accuracy.find((x) => x.model === m && x.set === 'ImageNet')!.top1);
  const idCard = cards.slice(cards.indexOf('ID top-1 (%)'));
  const shown = [...idCard.slice(0, idCard.indexOf('</div></div>')).matchAll(/>(\d+\.\d)</g)].map((m) => m[1]);
  assert.deepEqual(shown.slice(0, 3), [idTop1('clip-rn50'), idTop1('student-c'), idTop1('student-b')]);
});

test('nothing is "the student" with several students, in any format; the one-pair summary is left out', () => {
  for (const [name, text] of [
    ['html', html],
    ['markdown', renderMarkdown(report)],
    ['terminal', renderTerminal(report)],
  ] as const) {
    assert.doesNotMatch(text, /\bthe student\b/i, name);
    assert.doesNotMatch(text, /Student@1|Teacher = /, `${name}: no teacher-vs-one-student accuracy table`);
    assert.doesNotMatch(text, /ID vs OOD \(top-1, %\)|## ID vs OOD/, `${name}: no one-pair summary`);
    for (const s of STUDENTS) assert.ok(text.includes(s), `${name} names ${s}`);
  }
});

test('per-set accuracy table: one row per set and model, each student with its gap and interval', () => {
  const text = renderTerminal(report);
  const lines = text.slice(text.indexOf('Accuracy per set')).split('\n');
  for (const student of STUDENTS)
    for (const set of EVAL_SETS) {
      const g = results.gaps.find((x) => x.student === student && x.set === set)!;
      const sign = (v: number): string => `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}`;
      const want = `[${sign(g.interval!.low)}, ${sign(g.interval!.high)}]`;
      // Rows of a set after its first carry only the model; find the set's block and the student's row in it.
      const start = lines.findIndex((l) => l.split(/\s{2,}/)[0]!.replace(/\*$/, '') === set);
      const row = lines.slice(start, start + 4).find((l) => l.includes(` ${student} `));
      assert.ok(row?.includes(want), `${set}, ${student}: ${want} in ${row}`);
    }
});

test('representation fit: every student, each in its colour (one student: unchanged, teacher vs it)', () => {
  const svg = svgTitled(html, 'Representation fit per set, each student');
  for (const s of STUDENTS) assert.ok(markedIndices(svg, `bar:${s} linear CKA`).size >= EVAL_SETS.length, s);
  const single: RunResults = sampleResults();
  const r1 = buildReport(single);
  assert.match(renderTerminal(r1), /Representation fit \(teacher vs distilled-rn50 features\)/);
  const h1 = renderHtml(r1);
  assert.match(h1, /vs student <span style="color:#dd8a2e"><b>distilled-rn50<\/b><\/span>/);
  assert.match(h1, /ID accuracy \(top-1, %\): teacher \/ student/);
});

test('one student: a mean gap over several sets shows the interval the contamination bootstrap gave that mean', () => {
  const r = sampleResults();
  const c = r.contamination[0]!;
  const mean = (role: string, model: string): number => {
    const xs = r.accuracy.filter((a) => a.model === model && r.sets.find((s) => s.name === a.set)?.role === role);
    return xs.reduce((s, a) => s + a.top1, 0) / xs.length;
  };
  const oodGap = mean('ood', 'clip-rn50') - mean('ood', 'distilled-rn50');
  c.oodGap = { estimate: oodGap, interval: { low: oodGap - 0.004, high: oodGap + 0.006 } };
  const sign = (v: number): string => `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}`;
  const want = `[${sign(oodGap - 0.004)}, ${sign(oodGap + 0.006)}]`;
  const row = (text: string): string => text.split('\n').find((l) => l.startsWith('OOD average (mean of 5 sets)'))!;
  assert.ok(row(renderTerminal(buildReport(r))).endsWith(want), row(renderTerminal(buildReport(r))));
  assert.ok(renderHtml(buildReport(r)).includes(`gap +${(oodGap * 100).toFixed(2)} pp ${want}`), 'the card too');
  // An interval of another estimate (here 0.1 pp off) is not shown beside this gap.
  c.oodGap = { estimate: oodGap + 0.001, interval: { low: oodGap - 0.004, high: oodGap + 0.006 } };
  assert.ok(!row(renderTerminal(buildReport(r))).includes('['));
});

test('the least / most contaminated ranking says whether their paired difference resolves it', () => {
  // student-c is least and student-b most contaminated (test above); the contrast between them set by hand.
  const withContrast = (first: string, second: string, estimate: number, low: number, high: number): RunResults => ({
    ...results,
    studentContrasts: [
      {
        first,
        second,
        perSet: [],
        oodGapDifference: null,
        contaminationDifference: { estimate, interval: { low, high } },
      },
    ],
  });
  // Stored as most - least: read as it is.
  const resolved = buildReport(withContrast('student-b', 'student-c', 0.012, 0.004, 0.021));
  const want =
    'their paired contamination difference +1.2 pp, 95% interval [+0.4, +2.1], excludes 0: the order is resolved.';
  assert.ok(renderTerminal(resolved).includes(`most contaminated: student-b (point estimates); ${want}`));
  // Markdown escapes the brackets; unescaped, the same sentence.
  assert.ok(
    renderMarkdown(resolved)
      .replace(/\\([[\]])/g, '$1')
      .includes(want),
  );
  const cards = (h: string): string => h.slice(h.indexOf('<div class="cards">'), h.indexOf('<h2>'));
  assert.ok(cards(renderHtml(resolved)).includes(want), 'the first card carries the verdict');
  // Stored as least - most: sign and interval flipped; this one contains 0.
  const open = buildReport(withContrast('student-c', 'student-b', -0.003, -0.008, 0.002));
  assert.ok(
    renderTerminal(open).includes(
      'their paired contamination difference +0.3 pp, 95% interval [-0.2, +0.8], ' +
        'contains 0: the order is not resolved at this n.',
    ),
  );
  // No contrast between the two: said, not guessed.
  const none = buildReport({ ...results, studentContrasts: [] });
  assert.ok(renderTerminal(none).includes('(point estimates); no paired contrast between them was measured.'));
});
