import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildReport } from '../../src/report/build.js';
import { renderHtml } from '../../src/report/html.js';
import { renderJson } from '../../src/report/json.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { renderTerminal } from '../../src/report/terminal.js';
import { groupedBarChart } from '../../src/report/charts.js';
import { niceTicks } from '../../src/report/svgCharts.js';
import { accuracyTable } from '../../src/report/tables.js';
import { sampleResults } from './fixtures.js';

const report = buildReport(sampleResults());
// Numbers computed by hand from the fixture: OOD averages (62.0 + 60.1 + 35.2 + 22.6 + 41.5) / 5 = 44.28 and
// (59.1 + 38.5 + 24.0 + 6.1 + 28.7) / 5 = 31.28, gap 13.00 pp; ID gap 73.3 - 71.0 = 2.30 pp; ImageNet-R gap 21.60 pp.
const EXPECTED = ['73.30', '71.00', '+2.30', '44.28', '31.28', '+13.00', '+21.60', '0.9120', '0.7300', '5b7d02c45b7d'];

for (const [name, render] of [
  ['terminal', renderTerminal],
  ['markdown', renderMarkdown],
  ['html', renderHtml],
] as const) {
  test(`${name} report shows the key numbers and the section of every measure`, () => {
    const text = render(report);
    for (const n of EXPECTED) assert.ok(text.includes(n), `${name} lacks ${n}`);
    for (const h of ['Effective robustness', 'Representation fit', 'Activation asymmetry'])
      assert.ok(text.includes(h), `${name} lacks ${h}`);
    // Effective robustness of the sample: +7.90 pp teacher, -3.11 pp student (checked against the core maths in
    // build.test).
    assert.ok(text.includes('+7.90') && text.includes('-3.11'));
  });
}

test('markdown and terminal leave effective robustness out with a note when no baseline is given', () => {
  const input = sampleResults();
  input.baselines = null;
  const r = buildReport(input);
  for (const text of [renderMarkdown(r), renderTerminal(r), renderHtml(r)]) {
    assert.match(text, /No baseline \(ID, OOD\) accuracy pairs were given/);
    assert.ok(!text.includes('+7.90'));
  }
});

test('html is self-contained: no URLs, no scripts, no external resources, inline SVG charts', () => {
  const html = renderHtml(report);
  assert.ok(!/https?:\/\//i.test(html), 'no http(s) URL');
  assert.ok(!/<script/i.test(html), 'no script');
  assert.ok(!/<link\b/i.test(html) && !/\bsrc\s*=/i.test(html) && !/url\((?!#)/i.test(html), 'no linked resources');
  assert.ok(html.startsWith('<!DOCTYPE html>'));
  assert.ok(
    (html.match(/<svg /g) ?? []).length >= 5,
    'accuracy, gap, effective robustness, representation fit, asymmetry charts',
  );
  // Every opened svg is closed, and names are escaped.
  assert.equal((html.match(/<svg /g) ?? []).length, (html.match(/<\/svg>/g) ?? []).length);
  const input = sampleResults();
  input.models[1]!.name = 'student <b>&"x"';
  input.accuracy.forEach((a) => {
    if (a.model === 'distilled-rn50') a.model = input.models[1]!.name;
  });
  input.asymmetry.forEach((a) => {
    if (a.model === 'distilled-rn50') a.model = input.models[1]!.name;
  });
  const escaped = renderHtml(buildReport(input));
  assert.ok(!escaped.includes('<b>&"x"'));
  assert.ok(escaped.includes('student &lt;b&gt;&amp;&quot;x&quot;'));
});

test('report.json holds every number, the version, the sha256 and the config; NaN becomes null', () => {
  const input = sampleResults();
  input.representationFit[0]!.fit.cka = NaN;
  const parsed = JSON.parse(renderJson(buildReport(input))) as Record<string, unknown> & {
    summary: { oodAverage: { teacher: number } };
    representationFit: { rows: { fit: { cka: number | null } }[] };
  };
  assert.equal(parsed.format, 'fcprobe-report');
  assert.equal(parsed.fcprobeVersion, '0.1.0');
  assert.deepEqual(parsed.config, input.config);
  assert.ok(Math.abs(parsed.summary.oodAverage.teacher - 0.4428) < 1e-12);
  assert.equal(parsed.representationFit.rows[0]!.fit.cka, null);
  assert.ok(JSON.stringify(parsed).includes('5b7d02c4'.repeat(8)));
});

test('chart axes end on round ticks that cover the data, including negative gaps', () => {
  assert.deepEqual(niceTicks(0, 21.6), [0, 5, 10, 15, 20, 25]);
  assert.deepEqual(niceTicks(-0.031, 0.2), [-0.05, 0, 0.05, 0.1, 0.15, 0.2]);
  const svg = groupedBarChart({
    title: 'gap',
    yLabel: 'pp',
    format: (v) => v.toFixed(2),
    categories: [{ label: 'a' }, { label: 'b' }],
    series: [{ name: 's', color: '#000', values: [-0.5, null] }],
  });
  assert.match(svg, />-0\.50</);
  assert.match(svg, />n\/a</);
});

test('a zero or tiny bar at the edge of the plot gets a dark label, never white on the pale band', () => {
  // All gaps <= 0: the zero line is the top of the plot, so "above the bar" leaves the plot.
  const svg = groupedBarChart({
    title: 'gap',
    yLabel: 'pp',
    format: (v) => (100 * v).toFixed(1),
    valueLabels: true,
    categories: [{ label: 'test' }, { label: 'ood' }],
    series: [{ name: 'gap', color: '#c0392b', values: [0, -0.05] }],
  });
  // ECharts writes a value label as <text ... font-size:10px ... transform="translate(x y)" fill="...">.
  const label = (text: string): { fill: string; y: number } => {
    const at = String.raw`translate\([\d.]+ ([\d.]+)\)`;
    const m = new RegExp(
      `<text [^>]*font-size:10px[^>]*${at}" fill="(#[0-9a-f]+)">${text.replace('.', '\\.')}</text>`,
    ).exec(svg);
    assert.ok(m, `label ${text} drawn`);
    return { y: Number(m[1]), fill: m[2]! };
  };
  const zero = label('0.0');
  assert.equal(zero.fill, '#333');
  // A bar is a path from the zero line (its first y) down to its value.
  const bar = /<path d="M[\d.]+ ([\d.]+)l[\d.]+ 0l0 [\d.]+[^"]*" fill="#c0392b"/.exec(svg);
  assert.ok(bar, 'a bar');
  assert.ok(zero.y > Number(bar[1]), 'below the zero line, inside the plot');
  // The tall negative bar still holds its label inside, in white.
  assert.equal(label('-5.0').fill, '#fff');
});

test('accuracy table: chance level per set from its scored classes, and why top-5 is n/a', () => {
  const results = sampleResults();
  const sets = [...new Set(results.accuracy.map((a) => a.set))];
  const [many, seven, five] = [sets[0]!, sets[1]!, sets[2]!];
  for (const a of results.accuracy) {
    if (a.set === many) a.classes = 1000;
    if (a.set === seven) a.classes = 7;
    if (a.set === five) {
      a.classes = 5;
      a.top5 = null;
    }
  }
  const table = accuracyTable(buildReport(results));
  const col = table.headers.indexOf('Chance@1');
  assert.ok(col > 0, 'a chance column');
  const row = (set: string): string[] => table.rows.find((r) => r[0]!.replace('*', '') === set)!;
  assert.equal(row(many)[col], '0.10'); // 1/1000
  assert.equal(row(seven)[col], '14.29'); // 1/7: a sketch set at 14.3% is exactly chance
  assert.equal(row(five)[col], '20.00');
  assert.ok(
    table.notes!.includes(
      `Top-5 is n/a for ${five} (5 classes): not defined with 5 or fewer scored classes, where every image ` +
        `would count as correct.`,
    ),
    table.notes!.join('\n'),
  );
  assert.ok(renderHtml(buildReport(results)).includes('Chance@1'));
  // Chance@5 = min(5, K) / K beside the @5 columns: 0.5% on 1000 classes, 5/7 = 71.43% on 7; n/a at K <= 5.
  const c5 = table.headers.indexOf('Chance@5');
  assert.equal(table.headers[c5 + 1], 'Teacher@5');
  assert.equal(row(many)[c5], '0.50');
  assert.equal(row(seven)[c5], '71.43');
  assert.equal(row(five)[c5], 'n/a');
  // At chance@5 >= 50% the top-5 values stay (beside their chance) but the top-5 gap is not offered.
  const g5 = table.headers.indexOf('Gap@5 (pp)');
  assert.equal(row(seven)[g5], 'n/a');
  assert.match(row(many)[g5]!, /^[+-]\d+\.\d\d$/);
  assert.ok(table.notes!.some((n) => n.startsWith(`Gap@5 is n/a for ${seven} (7 classes): chance@5 is 50% or more`)));
  for (const text of [renderTerminal, renderMarkdown, renderHtml].map((f) => f(buildReport(results))))
    assert.ok(text.includes('Chance@5') && text.includes('71.43'));
});
