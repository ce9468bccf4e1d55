/**
 * `fcprobe compare`: several runs' results.json side by side. Every model of every run becomes a row named
 * `<run>/<model>` (run: the run's title, else its folder's name), with its top-1 and Clopper-Pearson interval on
 * every evaluation set, its ID mean and OOD average, its gaps to its own run's teacher, its contamination
 * estimate with the bootstrap interval, and its effective robustness against its own run's first baseline.
 *
 * Nothing is recomputed from images: the numbers are the runs' own (buildReport derives the means and the
 * effective robustness exactly as `fcprobe report` does), so a compare table agrees with each run's report.
 * Runs are comparable only when they measured the same sets; `buildComparison` refuses otherwise unless
 * asked to match sets by name, and then lists every difference. A suite's set found in one run and not found in
 * another is such a difference; a set found in no run is no column.
 */
import { basename, join, resolve } from 'node:path';
import { mkdirSync } from 'node:fs';
import { FcprobeError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { readResults } from '../experiment/results.js';
import { buildReport } from './build.js';
import { csvLine, CSV_HEADER, resultsCsvRows } from './csv.js';
import { ci, MISSING, markdownTable, mdText, pct, pp, pValue, ROLE_LABEL, textTable } from './format.js';
import { CSS, htmlTable } from './html.js';
import { logitScatterChart, paletteColor } from './charts.js';
import { escapeXml } from './svgCharts.js';
import { ER_NO_INTERVAL, type Table } from './tables.js';
import type { Interval, ModelRole, RunResults, SetRole } from './types.js';

/** One run to compare: where it was read from and what it measured. */
export interface CompareInput {
  workDir: string;
  results: RunResults;
}

/** A set's definition, as compared across runs. */
export interface SetDefinition {
  name: string;
  role: SetRole;
  /** False for a suite's set that was not found: it differs from the same set found in another run. */
  found: boolean;
  /** Images; null when not found. */
  n: number | null;
  /** Distinct class counts the set was scored over (its label space size), ascending. */
  classes: number[];
}

export interface CompareCell {
  top1: number;
  interval: Interval | null;
  n: number;
}

export interface CompareRow {
  /** `<run>/<model>`. */
  name: string;
  run: string;
  model: string;
  role: ModelRole;
  /** Per column of `Comparison.sets`; null when the model's run did not measure that set. */
  top1: (CompareCell | null)[];
  /** Mean top-1 over the run's ID test sets, and over its OOD sets (null when missing). */
  id: number | null;
  oodAverage: number | null;
  /** The run's teacher minus this model (null for teachers). */
  gapId: number | null;
  gapOod: number | null;
  /** Students only: the run's contamination estimate with its bootstrap interval. */
  contamination: { estimate: number; interval: Interval | null } | null;
  /** Against the run's first effective-robustness baseline; null when the run has none. */
  effectiveRobustness: { rho: number; baseline: string; against: string } | null;
}

export interface CompareGap {
  /** `<run>/<student>`. */
  model: string;
  teacher: string;
  set: string;
  n: number;
  top1Gap: number;
  interval: Interval | null;
  mcnemarP: number;
}

export interface CompareRun {
  label: string;
  workDir: string;
  title: string | null;
  teacher: string;
  /** What the run's effective robustness is measured against, or why it is not. */
  effectiveRobustness: string;
  bootstrap: number;
  seed: number;
}

export interface Comparison {
  runs: CompareRun[];
  /** Evaluation sets (ID test, then OOD), matched by name across runs: the columns. */
  sets: { name: string; role: SetRole }[];
  rows: CompareRow[];
  gaps: CompareGap[];
  /** Set definitions that differ between runs (empty unless allowed). */
  differences: string[];
  /** 1 / classes when every evaluation set of every run has the same class count; else null. */
  chance: number | null;
}

export interface CompareOptions {
  /** Match sets by name even when their definitions differ (the differences are listed). */
  allowDifferentSets?: boolean;
}

/** The set definitions of one run, in its order. */
export function setDefinitions(r: RunResults): SetDefinition[] {
  return r.sets.map((s) => ({
    name: s.name,
    role: s.role,
    found: s.found !== false,
    n: s.found === false ? null : s.n,
    classes: [...new Set(r.accuracy.filter((a) => a.set === s.name).map((a) => a.classes))].sort((a, b) => a - b),
  }));
}

/** Every way `b`'s set definitions differ from `a`'s (labels name the runs), one line each. */
export function setDifferences(a: SetDefinition[], b: SetDefinition[], la: string, lb: string): string[] {
  const out: string[] = [];
  const byName = new Map(b.map((s) => [s.name, s]));
  for (const s of a) {
    const t = byName.get(s.name);
    if (!t) {
      out.push(`set "${s.name}" is in ${la} but not in ${lb}`);
      continue;
    }
    if (s.found !== t.found) {
      out.push(
        `set "${s.name}" was ${s.found ? 'found' : 'not found'} in ${la}, ${t.found ? 'found' : 'not found'} in ${lb}`,
      );
      continue;
    }
    if (s.role !== t.role) out.push(`set "${s.name}": role ${s.role} in ${la}, ${t.role} in ${lb}`);
    if (s.n !== t.n) out.push(`set "${s.name}": ${s.n} images in ${la}, ${t.n} in ${lb}`);
    if (s.classes.join(',') !== t.classes.join(','))
      out.push(
        `set "${s.name}": scored over ${s.classes.join('/') || 'no'} classes in ${la}, ` +
          `${t.classes.join('/') || 'no'} in ${lb}`,
      );
  }
  const names = new Set(a.map((s) => s.name));
  for (const t of b) if (!names.has(t.name)) out.push(`set "${t.name}" is in ${lb} but not in ${la}`);
  return out;
}

/** Labels: each run's title, else its folder's name; the folder path where two labels would collide. */
function runLabels(inputs: CompareInput[]): string[] {
  const first = inputs.map((x) => x.results.title?.trim() || basename(resolve(x.workDir)));
  const count = (labels: string[], l: string): number => labels.filter((y) => y === l).length;
  const second = first.map((l, i) => (count(first, l) > 1 ? inputs[i]!.workDir : l));
  if (new Set(second).size !== second.length)
    throw new FcprobeError(
      'BAD_OPTION',
      `Two of the work directories to compare are the same run (${second.find((l) => count(second, l) > 1)}).`,
      'Give each work directory once.',
    );
  return second;
}

/** The results with every model name prefixed by `<label>/`, so that models of different runs never collide. */
export function prefixModels(r: RunResults, label: string): RunResults {
  const p = (name: string): string => `${label}/${name}`;
  return {
    ...r,
    models: r.models.map((m) => ({ ...m, name: p(m.name) })),
    accuracy: r.accuracy.map((a) => ({ ...a, model: p(a.model) })),
    gaps: r.gaps.map((g) => ({ ...g, teacher: p(g.teacher), student: p(g.student) })),
    contamination: r.contamination.map((c) => ({ ...c, teacher: p(c.teacher), student: p(c.student) })),
    probes: r.probes.map((x) => ({ ...x, model: p(x.model) })),
    representationFit: r.representationFit.map((f) => (f.student === undefined ? f : { ...f, student: p(f.student) })),
    asymmetry: r.asymmetry.map((x) => ({ ...x, model: p(x.model) })),
  };
}

/**
 * The comparison of several runs (pure: no I/O).
 *
 * @throws FcprobeError BAD_OPTION with fewer than two runs, or the same run twice; BAD_DATA when the runs' set
 *   definitions (names, found or not, roles, image counts, classes scored) differ and `allowDifferentSets` is
 *   not set, or when a run's results are inconsistent (see buildReport).
 */
export function buildComparison(inputs: CompareInput[], opts: CompareOptions = {}): Comparison {
  if (inputs.length < 2)
    throw new FcprobeError('BAD_OPTION', `Expected at least two work directories to compare, got ${inputs.length}.`);
  const labels = runLabels(inputs);
  const defs = inputs.map((x) => setDefinitions(x.results));
  const differences: string[] = [];
  for (let i = 1; i < inputs.length; i++)
    differences.push(...setDifferences(defs[0]!, defs[i]!, labels[0]!, labels[i]!));
  if (differences.length && !opts.allowDifferentSets)
    throw new FcprobeError(
      'BAD_DATA',
      `The runs measured different sets, so their numbers are not comparable: ` +
        `${differences.slice(0, 3).join('; ')}${differences.length > 3 ? `; and ${differences.length - 3} more` : ''}.`,
      'Pass --allow-different-sets to compare them anyway (sets are then matched by name and the differences listed).',
    );

  // Columns: every evaluation set of every run, by name, ID test sets first, in order of first appearance.
  const columns: { name: string; role: SetRole }[] = [];
  for (const d of defs)
    for (const s of d)
      if (s.found && s.role !== 'id-train' && !columns.some((c) => c.name === s.name))
        columns.push({ name: s.name, role: s.role });
  columns.sort((a, b) => +(a.role === 'ood') - +(b.role === 'ood'));

  const runs: CompareRun[] = [];
  const rows: CompareRow[] = [];
  const gaps: CompareGap[] = [];
  inputs.forEach((x, i) => {
    const label = labels[i]!;
    const r = prefixModels(x.results, label);
    const report = buildReport(r);
    const er = report.effectiveRobustness;
    const firstEr = er.status === 'computed' ? er.entries[0]! : null;
    runs.push({
      label,
      workDir: x.workDir,
      title: x.results.title ?? null,
      teacher: report.teacher,
      effectiveRobustness: firstEr
        ? `${firstEr.label} (${firstEr.points.length} points, against ${firstEr.against})`
        : er.status === 'omitted'
          ? er.note
          : MISSING,
      bootstrap: r.statistics.bootstrap,
      seed: r.statistics.seed,
    });
    for (const m of report.allModels.rows) {
      const c = r.contamination.find((k) => k.student === m.model && k.teacher === report.teacher);
      const e = firstEr?.models.find((k) => k.model === m.model);
      rows.push({
        name: m.model,
        run: label,
        model: m.model.slice(label.length + 1),
        role: m.role,
        top1: columns.map((col) => {
          const a = r.accuracy.find((k) => k.model === m.model && k.set === col.name);
          return a ? { top1: a.top1, interval: a.top1Interval, n: a.n } : null;
        }),
        id: m.id,
        oodAverage: m.oodAverage,
        gapId: m.gapId,
        gapOod: m.gapOod,
        contamination: c ? { estimate: c.estimate, interval: c.interval } : null,
        effectiveRobustness: e && firstEr ? { rho: e.rho, baseline: firstEr.label, against: firstEr.against } : null,
      });
    }
    for (const g of r.gaps)
      gaps.push({
        model: g.student,
        teacher: g.teacher,
        set: g.set,
        n: g.n,
        top1Gap: g.top1Gap,
        interval: g.interval,
        mcnemarP: g.mcnemarP,
      });
  });
  const classCounts = new Set(defs.flatMap((d) => d.filter((s) => s.role !== 'id-train').flatMap((s) => s.classes)));
  const chance = classCounts.size === 1 ? 1 / [...classCounts][0]! : null;
  return { runs, sets: columns, rows, gaps, differences, chance };
}

const cellText = (c: CompareCell | null): string => (c ? `${pct(c.top1)} ${ci(c.interval)}` : MISSING);

/** Models x sets: top-1 with its 95% interval, means, gaps, contamination and effective robustness. */
export function comparisonTable(c: Comparison): Table {
  return {
    headers: [
      'Model',
      'Role',
      ...c.sets.map((s) => `${s.name} (${ROLE_LABEL[s.role]})`),
      'ID',
      'OOD avg',
      'Gap ID (pp)',
      'Gap OOD (pp)',
      'Contamination (pp) [95% CI]',
      'Eff. robustness (pp)',
    ],
    rows: c.rows.map((r) => [
      r.name,
      r.role,
      ...r.top1.map(cellText),
      pct(r.id),
      pct(r.oodAverage),
      pp(r.gapId),
      pp(r.gapOod),
      r.contamination ? `${pp(r.contamination.estimate)} ${ci(r.contamination.interval, 1, true)}` : MISSING,
      r.effectiveRobustness ? pp(r.effectiveRobustness.rho) : MISSING,
    ]),
    align: ['l', 'l', ...c.sets.map(() => 'r' as const), 'r', 'r', 'r', 'r', 'r', 'r'],
  };
}

/** Teacher minus student per set, with the paired bootstrap interval and McNemar p. */
export function comparisonGapsTable(c: Comparison): Table {
  return {
    headers: ['Student', 'Teacher', 'Set', 'n', 'Gap@1 (pp)', '95% CI (pp)', 'McNemar p'],
    rows: c.gaps.map((g) => [
      g.model,
      g.teacher,
      g.set,
      String(g.n),
      pp(g.top1Gap),
      ci(g.interval, 1, true),
      pValue(g.mcnemarP),
    ]),
    align: ['l', 'l', 'l', 'r', 'r', 'r', 'r'],
  };
}

export function comparisonRunsTable(c: Comparison): Table {
  return {
    headers: ['Run', 'Work dir', 'Teacher', 'Bootstrap', 'Effective robustness baseline'],
    rows: c.runs.map((r) => [r.label, r.workDir, r.teacher, `${r.bootstrap} (seed ${r.seed})`, r.effectiveRobustness]),
    align: ['l', 'l', 'l', 'r', 'l'],
  };
}

const NOTES = [
  'Top-1 in percent with its exact 95% Clopper-Pearson interval; ID is the mean over the ID test sets, OOD avg the ' +
    'unweighted mean over the OOD sets of each run.',
  "Gaps are each run's teacher minus the model; contamination = OOD-average gap minus ID gap, its interval a " +
    'bootstrap over images within each set.',
  "Effective robustness is measured against each run's own first baseline (listed under Runs), so compare it across " +
    'runs only where the baselines are the same.',
  ER_NO_INTERVAL,
];

function differenceLines(c: Comparison): string[] {
  if (c.differences.length === 0) return [];
  return [
    'The runs measured different sets (compared with --allow-different-sets; sets matched by name, means over each ' +
      "run's own sets):",
    ...c.differences.map((d) => `- ${d}`),
  ];
}

/** The comparison as terminal text. */
export function renderComparisonTerminal(c: Comparison): string {
  const t = comparisonTable(c),
    g = comparisonGapsTable(c),
    runs = comparisonRunsTable(c);
  const parts = [
    `fcprobe compare: ${c.runs.length} runs, ${c.rows.length} models`,
    '',
    textTable(runs.headers, runs.rows, runs.align),
    '',
    textTable(t.headers, t.rows, t.align),
    '',
    textTable(g.headers, g.rows, g.align),
  ];
  const diff = differenceLines(c);
  if (diff.length) parts.push('', ...diff);
  return `${parts.join('\n')}\n`;
}

/** The comparison as a Markdown document. */
export function renderComparisonMarkdown(c: Comparison): string {
  const t = comparisonTable(c),
    g = comparisonGapsTable(c),
    runs = comparisonRunsTable(c);
  const diff = differenceLines(c);
  return `${[
    '# fcprobe compare',
    '',
    '## Runs',
    '',
    markdownTable(runs.headers, runs.rows, runs.align),
    '',
    ...(diff.length
      ? ['## Set differences', '', mdText(diff[0]!), '', ...diff.slice(1).map((d) => `- ${mdText(d.slice(2))}`), '']
      : []),
    '## Top-1 per set and summary',
    '',
    markdownTable(t.headers, t.rows, t.align),
    '',
    ...NOTES.map((n) => `${mdText(n)}\n`),
    '## Gaps per set',
    '',
    markdownTable(g.headers, g.rows, g.align),
  ].join('\n')}\n`;
}

/**
 * All models of all runs on one ID-vs-OOD-average scatter (logit axes). A model's colour is that of its
 * position in its run's results.models (as in each run's report: teacher blue, first student orange, ...); a
 * run is a marker shape.
 * Bars: the Clopper-Pearson interval where the axis is a single set (a mean over sets has no exact interval).
 */
export function comparisonScatter(c: Comparison): string {
  const idCols = c.sets.map((s, i) => (s.role === 'id-test' ? i : -1)).filter((i) => i >= 0);
  const oodCols = c.sets.map((s, i) => (s.role === 'ood' ? i : -1)).filter((i) => i >= 0);
  const single = (r: CompareRow, cols: number[]): Interval | null =>
    cols.length === 1 ? (r.top1[cols[0]!]?.interval ?? null) : null;
  const models = c.rows
    .filter((r) => r.id !== null && r.oodAverage !== null)
    .map((r) => ({
      x: r.id!,
      y: r.oodAverage!,
      label: r.name,
      color: paletteColor(c.rows.filter((x) => x.run === r.run).indexOf(r)),
      series: r.name,
      shape: r.run,
      xInterval: single(r, idCols),
      yInterval: single(r, oodCols),
    }));
  return logitScatterChart({
    title: 'ID vs OOD top-1, all runs (logit axes)',
    xLabel: 'ID top-1 accuracy (%), mean over ID test sets',
    yLabel: oodCols.length === 1 ? `OOD top-1 accuracy (%), ${c.sets[oodCols[0]!]!.name}` : 'OOD average top-1 (%)',
    baseline: [],
    models,
    fit: null,
    diagonal: true,
    chance: c.chance,
    width: 1000,
    height: 560,
  });
}

/** The comparison as one self-contained HTML file (inline CSS and SVG, no scripts, no URLs). */
export function renderComparisonHtml(c: Comparison): string {
  const diff = differenceLines(c);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fcprobe compare</title>
<style>${CSS}</style>
</head>
<body>
<h1>fcprobe compare</h1>
<p class="meta">${c.runs.length} runs, ${c.rows.length} models</p>
<h2>Runs</h2>
${htmlTable(comparisonRunsTable(c))}
${
  diff.length
    ? `<h2>Set differences</h2><p class="note">${escapeXml(diff[0]!)}</p><ul>${diff
        .slice(1)
        .map((d) => `<li class="note">${escapeXml(d.slice(2))}</li>`)
        .join('')}</ul>`
    : ''
}
<h2>ID vs OOD</h2>
${comparisonScatter(c)}
<h2>Top-1 per set and summary</h2>
${htmlTable(comparisonTable(c))}
${NOTES.map((n) => `<p class="def">${escapeXml(n)}</p>`).join('\n')}
<h2>Gaps per set</h2>
${htmlTable(comparisonGapsTable(c))}
</body>
</html>
`;
}

/**
 * Tidy CSV: the rows of every run's results.csv with models named `<run>/<model>`, then per model the summary
 * metrics id_mean, ood_average, gap_id, gap_ood and effective_robustness (set = "summary").
 */
export function renderComparisonCsv(c: Comparison, inputs: CompareInput[]): string {
  const lines = [csvLine(CSV_HEADER)];
  inputs.forEach((x, i) => {
    const label = c.runs[i]!.label;
    for (const row of resultsCsvRows(prefixModels(x.results, label), label)) lines.push(csvLine(row));
  });
  for (const r of c.rows) {
    const metrics: [string, number | null][] = [
      ['id_mean', r.id],
      ['ood_average', r.oodAverage],
      ['gap_id', r.gapId],
      ['gap_ood', r.gapOod],
      ['effective_robustness', r.effectiveRobustness?.rho ?? null],
    ];
    for (const [metric, v] of metrics)
      if (v !== null) lines.push(csvLine([r.name, 'summary', metric, v, null, null, null]));
  }
  return `${lines.join('\n')}\n`;
}

export const COMPARE_FILES = { md: 'compare.md', csv: 'compare.csv', html: 'compare.html' } as const;

/**
 * `fcprobe compare`: reads each work directory's results.json (verified by readResults), compares them, and
 * writes compare.md, compare.csv and compare.html into `outDir` (created). Returns the terminal text and the
 * paths written.
 *
 * @throws FcprobeError NOT_FOUND / BAD_DATA from readResults; those of buildComparison.
 */
export function compareWorkDirs(
  workDirs: string[],
  outDir: string,
  opts: CompareOptions = {},
): { comparison: Comparison; terminal: string; written: string[] } {
  const inputs = workDirs.map((workDir) => ({ workDir, results: readResults(workDir) }));
  const comparison = buildComparison(inputs, opts);
  mkdirSync(outDir, { recursive: true });
  const written: string[] = [];
  for (const [kind, text] of [
    ['md', renderComparisonMarkdown(comparison)],
    ['csv', renderComparisonCsv(comparison, inputs)],
    ['html', renderComparisonHtml(comparison)],
  ] as const) {
    const path = join(outDir, COMPARE_FILES[kind]);
    writeFileAtomic(path, text);
    written.push(path);
  }
  return { comparison, terminal: renderComparisonTerminal(comparison), written };
}
