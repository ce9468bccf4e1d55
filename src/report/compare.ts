/**
 * `fcprobe compare`: several runs' results.json side by side, each model listed once. A model is one identity:
 * its role, its file (sha256), the preprocessing and output it was read with, and the sets it was measured on;
 * the same identity in several runs with the same top-1 numbers is one row that names the runs it appears in
 * (a teacher shared by three runs is one row, not three). Labels are short: the model's name, and only where two
 * rows share a name, the name of the run (its work folder's name, or `--label run=NAME`) where the row first
 * appears. The numbers that depend on a run's teacher or baseline (gaps, contamination, effective robustness)
 * are listed per identity too, with the runs they hold for; where runs disagree, each value is its own row.
 *
 * Nothing is recomputed from images: the numbers are the runs' own (buildReport derives the means and the
 * effective robustness exactly as `fcprobe report` does), so a compare table agrees with each run's report.
 * Runs are comparable only when they measured the same sets; `buildComparison` refuses otherwise unless
 * asked to match sets by name, and then lists every difference. A suite's set found in one run and not found in
 * another is such a difference; a set found in no run is no column.
 *
 * The tables fit 120 terminal columns (fitTable.ts: wide tables are split by columns, long cells wrap); the HTML
 * and Markdown use the same parts, so no table needs sideways scrolling.
 */
import { basename, join, resolve } from 'node:path';
import { openOutputFolder } from '../features/outputFolder.js';
import { FcprobeError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { readResults } from '../experiment/results.js';
import { buildReport } from './build.js';
import { headlineMeasurements } from '../experiment/headline.js';
import { csvLine, CSV_HEADER, resultsCsvRows } from './csv.js';
import { ci, MISSING, markdownTable, mdText, pct, pp, pValue, ROLE_LABEL } from './format.js';
import { CSS } from './html.js';
import { logitScatterChart, paletteColor } from './charts.js';
import { escapeXml } from './svgCharts.js';
import { ER_NO_INTERVAL } from './tables.js';
import { type FitTable, fittedTextTable, splitColumns, wrapText } from './fitTable.js';
import type { Interval, ModelEntry, ModelRole, RunResults, SetRole } from './types.js';
import { escapeControl } from '../io/terminal.js';

/** Terminal columns every line of compare's terminal output fits. */
export const TERMINAL_WIDTH = 120;

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

/** One model identity with one set of top-1 numbers: a row of the models and top-1 tables. */
export interface CompareModel {
  /** Short and unique: the model's name, with `(run)` added only where two rows share the name. */
  label: string;
  /** The model's name in its runs' results. */
  model: string;
  role: ModelRole;
  /** Names of the runs it appears in, in the order the runs were given. */
  runs: string[];
  sha256: string;
  /** The preprocessing in words (results.json models[].preprocessing, else its preset; null: not recorded). */
  preprocessing: string | null;
  /** Per column of `Comparison.sets`; null when the model's runs did not measure that set. */
  top1: (CompareCell | null)[];
  /** Mean top-1 over the runs' ID test sets, and over their OOD sets (null when missing). */
  id: number | null;
  oodAverage: number | null;
}

/** What a model measured against its run's teacher and baseline, and the runs where it is so. */
export interface CompareRelative {
  /** CompareModel labels. */
  model: string;
  /** The run's teacher (null for the teacher itself). */
  teacher: string | null;
  runs: string[];
  /** The run's teacher minus this model (null for teachers). */
  gapId: number | null;
  gapOod: number | null;
  /** Students only: the run's headline contamination (bootstrap interval; several seeds: mean, t over seeds). */
  contamination: { estimate: number; interval: Interval | null } | null;
  /** Against the run's first effective-robustness baseline; null when the run has none. */
  effectiveRobustness: { rho: number; baseline: string; against: string } | null;
}

export interface CompareGap {
  /** CompareModel labels of the student and its run's teacher. */
  model: string;
  teacher: string;
  runs: string[];
  set: string;
  n: number;
  top1Gap: number;
  interval: Interval | null;
  mcnemarP: number;
}

/** A model of one run, as that run measured it (the CSV's summary rows). */
export interface CompareRunModel {
  run: string;
  model: string;
  /** Its CompareModel label. */
  label: string;
  id: number | null;
  oodAverage: number | null;
  gapId: number | null;
  gapOod: number | null;
  effectiveRobustness: number | null;
}

export interface CompareRun {
  /** Short and unique: `--label`, else the work folder's name, else (folders of the same name) the path. */
  name: string;
  workDir: string;
  title: string | null;
  /** The CompareModel label of its teacher. */
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
  models: CompareModel[];
  relative: CompareRelative[];
  gaps: CompareGap[];
  perRun: CompareRunModel[];
  /** Set definitions that differ between runs (empty unless allowed). */
  differences: string[];
  /** 1 / classes when every evaluation set of every run has the same class count; else null. */
  chance: number | null;
}

export interface CompareOptions {
  /** Match sets by name even when their definitions differ (the differences are listed). */
  allowDifferentSets?: boolean;
  /** `run=NAME` (from `--label`): the run's name in every table; `run` is its work directory or folder name. */
  labels?: readonly string[];
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

/**
 * The runs' names: `--label` where given, else the work folder's name, else (two folders of the same name) the
 * work directory as given.
 * @throws FcprobeError BAD_OPTION when a work directory is given twice, a label is not RUN=NAME, names no run,
 *   an ambiguous one or one already labelled, or two runs would get the same name.
 */
export function runNames(workDirs: string[], labels: readonly string[] = []): string[] {
  const paths = workDirs.map((d) => resolve(d));
  const twice = paths.findIndex((p, i) => paths.indexOf(p) !== i);
  if (twice >= 0)
    throw new FcprobeError(
      'BAD_OPTION',
      `Two of the work directories to compare are the same run (${workDirs[twice]}).`,
      'Give each work directory once.',
    );
  const folders = paths.map((p) => basename(p));
  const given = new Map<number, string>();
  for (const l of labels) {
    const at = l.indexOf('=');
    const run = at > 0 ? l.slice(0, at).trim() : '';
    const name = at > 0 ? l.slice(at + 1).trim() : '';
    if (!run || !name)
      throw new FcprobeError(
        'BAD_OPTION',
        `Expected --label to be RUN=NAME, got ${JSON.stringify(l)}.`,
        'RUN is a work directory (or its folder name), NAME the short name to show, e.g. --label work/rn50=rn50.',
      );
    // A run is named by its path (as given or resolved) or, where that is unambiguous, by its folder's name.
    let hits = paths.flatMap((p, i) => (workDirs[i] === run || p === resolve(run) ? [i] : []));
    if (hits.length === 0) hits = folders.flatMap((f, i) => (f === run ? [i] : []));
    if (hits.length !== 1)
      throw new FcprobeError(
        'BAD_OPTION',
        hits.length === 0
          ? `--label ${l}: "${run}" is none of the work directories to compare.`
          : `--label ${l}: "${run}" is the folder name of ${hits.length} of the work directories.`,
        `Name the run by its work directory as given: ${workDirs.join(', ')}.`,
      );
    if (given.has(hits[0]!))
      throw new FcprobeError(
        'BAD_OPTION',
        `--label ${l}: run ${workDirs[hits[0]!]} already has a --label (${given.get(hits[0]!)}).`,
        'Give each run one --label.',
      );
    given.set(hits[0]!, name);
  }
  const names = folders.map(
    (f, i) => given.get(i) ?? (folders.filter((g, j) => g === f && !given.has(j)).length > 1 ? workDirs[i]! : f),
  );
  const clash = names.find((n, i) => names.indexOf(n) !== i);
  if (clash !== undefined)
    throw new FcprobeError(
      'BAD_OPTION',
      `Two of the runs to compare would both be called "${clash}".`,
      'Give them different names with --label RUN=NAME.',
    );
  return names;
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
 * What makes two models of two runs the same model: role, file, preprocessing, output and pooling (together:
 * the same features) and the sets measured. The provenance of the preprocessing (`preprocess`) is left out: the
 * same values from a flag or from the model's metadata give the same features.
 */
function identityOf(m: ModelEntry, defs: SetDefinition[]): string {
  return JSON.stringify([
    m.role,
    m.sha256,
    m.preprocessing ?? m.preset ?? null,
    m.output ?? null,
    m.pool ?? null,
    m.distill?.key ?? null,
    defs,
  ]);
}

/** Adds `run` to the group keyed `key` (made by `make` the first time); groups keep first-appearance order. */
function addTo<T extends { runs: string[] }>(groups: Map<string, T>, key: string, run: string, make: () => T): T {
  let g = groups.get(key);
  if (!g) {
    g = make();
    groups.set(key, g);
  }
  if (!g.runs.includes(run)) g.runs.push(run);
  return g;
}

/**
 * The comparison of several runs (pure: no I/O).
 *
 * @throws FcprobeError BAD_OPTION with fewer than two runs, the same run twice or a bad label (see runNames);
 *   BAD_DATA when the runs' set definitions (names, found or not, roles, image counts, classes scored) differ
 *   and `allowDifferentSets` is not set, or when a run's results are inconsistent (see buildReport).
 */
export function buildComparison(inputs: CompareInput[], opts: CompareOptions = {}): Comparison {
  if (inputs.length < 2)
    throw new FcprobeError('BAD_OPTION', `Expected at least two work directories to compare, got ${inputs.length}.`);
  const names = runNames(
    inputs.map((x) => x.workDir),
    opts.labels,
  );
  const defs = inputs.map((x) => setDefinitions(x.results));
  const differences: string[] = [];
  for (let i = 1; i < inputs.length; i++) differences.push(...setDifferences(defs[0]!, defs[i]!, names[0]!, names[i]!));
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

  // First pass: each run's models, grouped into rows by identity and the top-1 numbers shown for them (the same
  // model probed differently in two runs gives two rows, so that no row shows a number one of its runs lacks).
  const models = new Map<string, CompareModel>();
  // The same figures as each run's own report: with several seeds, means over seeds with t-intervals.
  const measured = inputs.map((x) => headlineMeasurements(x.results));
  const reports = measured.map((r) => buildReport(r));
  const rowOf: Map<string, CompareModel>[] = inputs.map((x, i) => {
    const run = names[i]!;
    const byName = new Map<string, CompareModel>();
    for (const m of reports[i]!.allModels.rows) {
      const entry = x.results.models.find((k) => k.name === m.model)!;
      const top1 = columns.map((col) => {
        const a = x.results.accuracy.find((k) => k.model === m.model && k.set === col.name);
        return a ? { top1: a.top1, interval: a.top1Interval, n: a.n } : null;
      });
      const key = JSON.stringify([identityOf(entry, defs[i]!), top1, m.id, m.oodAverage]);
      byName.set(
        m.model,
        addTo(models, key, run, () => ({
          label: m.model,
          model: m.model,
          role: m.role,
          runs: [],
          sha256: entry.sha256,
          preprocessing: entry.preprocessing ?? entry.preset ?? null,
          top1,
          id: m.id,
          oodAverage: m.oodAverage,
        })),
      );
    }
    return byName;
  });
  // Labels: the name alone where it is unique among the rows, else the name and the row's first run.
  const rows = [...models.values()];
  const shared = (r: CompareModel): boolean => rows.filter((o) => o.model === r.model).length > 1;
  for (const r of rows) if (shared(r)) r.label = `${r.model} (${r.runs[0]})`;

  const runs: CompareRun[] = [];
  const relative = new Map<string, CompareRelative>();
  const gaps = new Map<string, CompareGap>();
  const perRun: CompareRunModel[] = [];
  inputs.forEach((x, i) => {
    const run = names[i]!;
    const report = reports[i]!;
    const label = (model: string): string => rowOf[i]!.get(model)!.label;
    const er = report.effectiveRobustness;
    const firstEr = er.status === 'computed' ? er.entries[0]! : null;
    runs.push({
      name: run,
      workDir: x.workDir,
      title: x.results.title ?? null,
      teacher: label(report.teacher),
      effectiveRobustness: firstEr
        ? `${firstEr.label} (${firstEr.points.length} points, against ${firstEr.against})`
        : er.status === 'omitted'
          ? er.note
          : MISSING,
      bootstrap: x.results.statistics.bootstrap,
      seed: x.results.statistics.seed,
    });
    for (const m of report.allModels.rows) {
      const c = measured[i]!.contamination.find((k) => k.student === m.model && k.teacher === report.teacher);
      const e = firstEr?.models.find((k) => k.model === m.model);
      const value: Omit<CompareRelative, 'runs'> = {
        model: label(m.model),
        teacher: m.role === 'teacher' ? null : label(report.teacher),
        gapId: m.gapId,
        gapOod: m.gapOod,
        contamination: c ? { estimate: c.estimate, interval: c.interval } : null,
        effectiveRobustness: e && firstEr ? { rho: e.rho, baseline: firstEr.label, against: firstEr.against } : null,
      };
      perRun.push({
        run,
        model: m.model,
        label: value.model,
        id: m.id,
        oodAverage: m.oodAverage,
        gapId: m.gapId,
        gapOod: m.gapOod,
        effectiveRobustness: value.effectiveRobustness?.rho ?? null,
      });
      // A row only where the run measured something against its teacher or baseline for this model.
      if (value.gapId === null && value.gapOod === null && !value.contamination && !value.effectiveRobustness) continue;
      addTo(relative, JSON.stringify(value), run, () => ({ ...value, runs: [] }));
    }
    for (const g of x.results.gaps) {
      const value: Omit<CompareGap, 'runs'> = {
        model: label(g.student),
        teacher: label(g.teacher),
        set: g.set,
        n: g.n,
        top1Gap: g.top1Gap,
        interval: g.interval,
        mcnemarP: g.mcnemarP,
      };
      addTo(gaps, JSON.stringify(value), run, () => ({ ...value, runs: [] }));
    }
  });
  const classCounts = new Set(defs.flatMap((d) => d.filter((s) => s.role !== 'id-train').flatMap((s) => s.classes)));
  const chance = classCounts.size === 1 ? 1 / [...classCounts][0]! : null;
  return {
    runs,
    sets: columns,
    models: rows,
    relative: [...relative.values()],
    gaps: [...gaps.values()],
    perRun,
    differences,
    chance,
  };
}

const cellText = (c: CompareCell | null): string => (c ? `${pct(c.top1)} ${ci(c.interval)}` : MISSING);
const runList = (runs: string[]): string => runs.join(', ');

export function comparisonRunsTable(c: Comparison): FitTable {
  return {
    headers: ['Run', 'Title', 'Work dir', 'Teacher', 'Bootstrap', 'Effective robustness baseline'],
    rows: c.runs.map((r) => [
      r.name,
      r.title ?? MISSING,
      r.workDir,
      r.teacher,
      `${r.bootstrap} (seed ${r.seed})`,
      r.effectiveRobustness,
    ]),
    align: ['l', 'l', 'l', 'l', 'r', 'l'],
    keys: 1,
    wrap: [0, 1, 2, 3, 5],
  };
}

/** Each model once: role, the runs it appears in, its file's hash and its preprocessing. */
export function comparisonModelsTable(c: Comparison): FitTable {
  return {
    headers: ['Model', 'Role', 'Runs', 'sha256', 'Preprocessing'],
    rows: c.models.map((m) => [m.label, m.role, runList(m.runs), m.sha256.slice(0, 12), m.preprocessing ?? MISSING]),
    align: ['l', 'l', 'l', 'l', 'l'],
    keys: 1,
    wrap: [0, 2, 4],
  };
}

/** Models x sets: top-1 with its 95% interval, and the ID and OOD means. */
export function comparisonTable(c: Comparison): FitTable {
  return {
    headers: ['Model', ...c.sets.map((s) => `${s.name} (${ROLE_LABEL[s.role]})`), 'ID', 'OOD avg'],
    rows: c.models.map((r) => [r.label, ...r.top1.map(cellText), pct(r.id), pct(r.oodAverage)]),
    align: ['l', ...c.sets.map(() => 'r' as const), 'r', 'r'],
    keys: 1,
    wrap: [0],
  };
}

/** Gaps to the run's teacher, contamination and effective robustness, with the runs each value holds for. */
export function comparisonRelativeTable(c: Comparison): FitTable {
  return {
    headers: [
      'Model',
      'Teacher',
      'Gap ID (pp)',
      'Gap OOD (pp)',
      'Contamination (pp) [95% CI]',
      'Eff. robustness (pp)',
      'Runs',
    ],
    rows: c.relative.map((r) => [
      r.model,
      r.teacher ?? MISSING,
      pp(r.gapId),
      pp(r.gapOod),
      r.contamination ? `${pp(r.contamination.estimate)} ${ci(r.contamination.interval, 1, true)}` : MISSING,
      r.effectiveRobustness ? pp(r.effectiveRobustness.rho) : MISSING,
      runList(r.runs),
    ]),
    align: ['l', 'l', 'r', 'r', 'r', 'r', 'l'],
    keys: 1,
    wrap: [0, 1, 6],
  };
}

/** Teacher minus student per set, with the paired bootstrap interval and McNemar p. */
export function comparisonGapsTable(c: Comparison): FitTable {
  return {
    headers: ['Student', 'Teacher', 'Set', 'n', 'Gap@1 (pp)', '95% CI (pp)', 'McNemar p', 'Runs'],
    rows: c.gaps.map((g) => [
      g.model,
      g.teacher,
      g.set,
      String(g.n),
      pp(g.top1Gap),
      ci(g.interval, 1, true),
      pValue(g.mcnemarP),
      runList(g.runs),
    ]),
    align: ['l', 'l', 'l', 'r', 'r', 'r', 'r', 'l'],
    keys: 1,
    wrap: [0, 1, 2, 7],
  };
}

const NOTES = [
  'One row per model: the same file, preprocessing and sets with the same numbers in several runs is listed once ' +
    'with its runs; a name shared by different models gets the name of the run where it first appears.',
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

/** The tables in order, each with its heading. */
function sections(c: Comparison): [string, FitTable][] {
  return [
    ['Runs', comparisonRunsTable(c)],
    ['Models', comparisonModelsTable(c)],
    ['Top-1 per set and summary', comparisonTable(c)],
    ["Against each run's teacher and baseline", comparisonRelativeTable(c)],
    ['Gaps per set', comparisonGapsTable(c)],
  ];
}

/** The comparison as terminal text: every line fits TERMINAL_WIDTH columns. */
export function renderComparisonTerminal(c: Comparison): string {
  const parts = [`fcprobe compare: ${c.runs.length} runs, ${c.models.length} models`];
  for (const [title, t] of sections(c)) {
    parts.push('', title);
    for (const part of splitColumns(t, TERMINAL_WIDTH)) parts.push(fittedTextTable(part, TERMINAL_WIDTH), '');
    parts.pop();
  }
  const diff = differenceLines(c);
  if (diff.length) parts.push('', ...diff.flatMap((d) => wrapText(d, TERMINAL_WIDTH)));
  return `${parts.join('\n')}\n`;
}

/** The comparison as a Markdown document (the tables in the same parts as in the terminal). */
export function renderComparisonMarkdown(c: Comparison): string {
  const diff = differenceLines(c);
  const md = (t: FitTable): string[] =>
    splitColumns(t, TERMINAL_WIDTH).flatMap((p) => [markdownTable(p.headers, p.rows, p.align), '']);
  const [runs, ...rest] = sections(c);
  return `${[
    '# fcprobe compare',
    '',
    `## ${runs![0]}`,
    '',
    ...md(runs![1]),
    ...(diff.length
      ? ['## Set differences', '', mdText(diff[0]!), '', ...diff.slice(1).map((d) => `- ${mdText(d.slice(2))}`), '']
      : []),
    ...rest.flatMap(([title, t]) => [
      `## ${title}`,
      '',
      ...md(t),
      ...(title.startsWith('Top-1') ? NOTES.map((n) => `${mdText(n)}\n`) : []),
    ]),
  ]
    .join('\n')
    .trimEnd()}\n`;
}

/**
 * A model's colour: by its identity (the model file's sha256), in order of first appearance, from the run
 * report's palette; teacher, first student, ... of the first run get the colours they have in that run's report,
 * and one file has one colour whichever runs it appears in.
 */
function modelColor(c: Comparison, sha256: string): string {
  return paletteColor([...new Set(c.models.map((m) => m.sha256))].indexOf(sha256));
}

/** The marker shape of a model's point: its run, or "several runs" for a row that several runs share. */
const SEVERAL_RUNS = 'several runs';

/**
 * All models on one ID-vs-OOD-average scatter (logit axes): each model file in its colour (modelColor), each run
 * in its marker shape (a row of several runs: its own shape); each row a legend entry (no labels on the plot, so
 * none can overlap). Bars: the Clopper-Pearson interval where the axis is a single set (a mean over sets has no
 * exact interval).
 */
export function comparisonScatter(c: Comparison): string {
  const idCols = c.sets.map((s, i) => (s.role === 'id-test' ? i : -1)).filter((i) => i >= 0);
  const oodCols = c.sets.map((s, i) => (s.role === 'ood' ? i : -1)).filter((i) => i >= 0);
  const single = (r: CompareModel, cols: number[]): Interval | null =>
    cols.length === 1 ? (r.top1[cols[0]!]?.interval ?? null) : null;
  const models = c.models
    .filter((r) => r.id !== null && r.oodAverage !== null)
    .map((r) => ({
      x: r.id!,
      y: r.oodAverage!,
      label: r.label,
      color: modelColor(c, r.sha256),
      series: r.label,
      shape: r.runs.length > 1 ? SEVERAL_RUNS : r.runs[0]!,
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

/**
 * One table part as HTML. Cells wrap (the shared report CSS keeps cells on one line, which is what made wide
 * compare tables scroll sideways); a wrapping column's cells may also break inside a word (paths, long names).
 */
function compareHtmlTable(t: FitTable): string {
  const cls = (i: number, cell: boolean): string => {
    const c = [t.align[i] === 'r' ? 'r' : '', cell && t.wrap.includes(i) ? 'w' : ''].filter((x) => x).join(' ');
    return c ? ` class="${c}"` : '';
  };
  const head = `<tr>${t.headers.map((h, i) => `<th${cls(i, false)}>${escapeXml(h)}</th>`).join('')}</tr>`;
  const body = t.rows
    .map((r) => `<tr>${r.map((x, i) => `<td${cls(i, true)}>${escapeXml(x)}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table class="cmp">\n${head}\n${body}\n</table>`;
}

/** Compare's additions to the report CSS: cells that wrap, and a page as wide as a 1400-pixel window allows. */
const COMPARE_CSS = [
  'body{max-width:1336px}',
  'table.cmp th,table.cmp td{white-space:normal}table.cmp td.w{overflow-wrap:anywhere}',
  '.swatch{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px}',
].join('\n');

/** The comparison as one self-contained HTML file (inline CSS and SVG, no scripts, no URLs). */
export function renderComparisonHtml(c: Comparison): string {
  const diff = differenceLines(c);
  const html = (t: FitTable): string => splitColumns(t, TERMINAL_WIDTH).map(compareHtmlTable).join('\n');
  const swatch = (color: string, text: string): string =>
    `<span class="swatch" style="background:${color}"></span>${escapeXml(text)}`;
  // One swatch per model file, named as its rows are (without the run, which the marker shape gives).
  const files = [...new Map(c.models.map((m) => [m.sha256, m.model])).entries()];
  const legend = files.map(([sha, name]) => swatch(modelColor(c, sha), name));
  const [runs, ...rest] = sections(c);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fcprobe compare</title>
<style>${CSS}${COMPARE_CSS}
</style>
</head>
<body>
<h1>fcprobe compare</h1>
<p class="meta">${c.runs.length} runs, ${c.models.length} models</p>
<h2>${escapeXml(runs![0])}</h2>
${html(runs![1])}
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
<p class="def">Colours (one per model file): ${legend.join(' ')}; marker shapes: runs.</p>
${rest
  .map(
    ([title, t]) =>
      `<h2>${escapeXml(title)}</h2>\n${html(t)}${
        title.startsWith('Top-1') ? `\n${NOTES.map((n) => `<p class="def">${escapeXml(n)}</p>`).join('\n')}` : ''
      }`,
  )
  .join('\n')}
</body>
</html>
`;
}

/**
 * Tidy CSV, one row per run and model (a machine reads each run whole): the rows of every run's results.csv with
 * models named `<run>/<model>` (run: the run's name, as in the tables), then per run and model the summary
 * metrics id_mean, ood_average, gap_id, gap_ood and effective_robustness (set = "summary").
 */
export function renderComparisonCsv(c: Comparison, inputs: CompareInput[]): string {
  const lines = [csvLine(CSV_HEADER)];
  inputs.forEach((x, i) => {
    const name = c.runs[i]!.name;
    for (const row of resultsCsvRows(prefixModels(x.results, name), name)) lines.push(csvLine(row));
  });
  for (const r of c.perRun) {
    const metrics: [string, number | null][] = [
      ['id_mean', r.id],
      ['ood_average', r.oodAverage],
      ['gap_id', r.gapId],
      ['gap_ood', r.gapOod],
      ['effective_robustness', r.effectiveRobustness],
    ];
    for (const [metric, v] of metrics)
      if (v !== null) lines.push(csvLine([`${r.run}/${r.model}`, 'summary', metric, v, null, null, null]));
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
  // Names first: a bad --label is a usage error, reported before any file is read.
  if (workDirs.length >= 2) runNames(workDirs, opts.labels);
  const inputs = workDirs.map((workDir) => ({ workDir, results: readResults(workDir) }));
  const comparison = buildComparison(inputs, opts);
  // The shared output-folder rules (features/outputFolder.ts): created level by level, never a feature folder,
  // one writer at a time.
  const lock = openOutputFolder(outDir, 'compare', '--out');
  const written: string[] = [];
  try {
    for (const [kind, text] of [
      ['md', renderComparisonMarkdown(comparison)],
      ['csv', renderComparisonCsv(comparison, inputs)],
      ['html', renderComparisonHtml(comparison)],
    ] as const) {
      const path = join(outDir, COMPARE_FILES[kind]);
      writeFileAtomic(path, text);
      written.push(path);
    }
  } finally {
    lock.release();
  }
  return { comparison, terminal: escapeControl(renderComparisonTerminal(comparison)), written };
}
