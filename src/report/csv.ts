/**
 * results.csv: every measured number with its interval as one tidy row per (model, set, metric), for
 * spreadsheets and data-frame tools. Columns: model, set, metric, value, low, high, n. Fractions stay fractions
 * (as in results.json); an empty cell is a missing value (no interval, or not measured).
 *
 * Metrics: top1 and top5 (per model and set), top1_gap (teacher minus student; model = the student, "vs"
 * the teacher), mcnemar_p (value only), contamination (set = "ood-vs-id"), linear_cka and linear_cka_debiased
 * (model = "teacher~student"). With several seeds (`run --seeds`), the values are the first seed's, and each
 * top1, top1_gap and contamination row is followed by <metric>_seed_mean and <metric>_seed_std rows (the mean
 * and sample standard deviation, n - 1, over the seeds; low, high and n empty). A suite's set that was not found
 * (`run --suite`) has one row, metric `not_found`, with every number empty (model: `missingModel`).
 */
import { csvLine } from '../io/csv.js';
import type { AcrossSeeds, RunResults } from './types.js';

export const CSV_FILE = 'results.csv';
export const CSV_HEADER = ['model', 'set', 'metric', 'value', 'low', 'high', 'n'];
export type CsvRow = (string | number | null)[];

/** One CSV line (no line end): fields quoted where needed, formulas neutralised (src/io/csv.ts). */
export { csvLine };

/**
 * The rows of results.csv (without the header), in CSV_HEADER's columns; `missingModel` fills the model column
 * of a missing set's not_found row (empty by default; compare gives the run's label).
 */
export function resultsCsvRows(r: RunResults, missingModel = ''): CsvRow[] {
  const rows: CsvRow[] = [];
  for (const s of r.sets) if (s.found === false) rows.push([missingModel, s.name, 'not_found', null, null, null, null]);
  const seeds = (model: string, set: string, metric: string, a: AcrossSeeds | undefined): void => {
    if (!a) return;
    rows.push([model, set, `${metric}_seed_mean`, a.mean, null, null, null]);
    rows.push([model, set, `${metric}_seed_std`, a.std, null, null, null]);
  };
  for (const a of r.accuracy) {
    rows.push([a.model, a.set, 'top1', a.top1, a.top1Interval?.low ?? null, a.top1Interval?.high ?? null, a.n]);
    seeds(a.model, a.set, 'top1', a.acrossSeeds);
    if (a.top5 !== null) rows.push([a.model, a.set, 'top5', a.top5, null, null, a.n]);
  }
  for (const g of r.gaps) {
    rows.push([g.student, g.set, 'top1_gap', g.top1Gap, g.interval?.low ?? null, g.interval?.high ?? null, g.n]);
    seeds(g.student, g.set, 'top1_gap', g.acrossSeeds);
    rows.push([g.student, g.set, 'mcnemar_p', g.mcnemarP, null, null, g.n]);
  }
  for (const c of r.contamination) {
    rows.push([
      c.student,
      'ood-vs-id',
      'contamination',
      c.estimate,
      c.interval?.low ?? null,
      c.interval?.high ?? null,
      null,
    ]);
    seeds(c.student, 'ood-vs-id', 'contamination', c.acrossSeeds);
  }
  const teacher = r.models.find((m) => m.role === 'teacher')?.name ?? 'teacher';
  const firstStudent = r.models.find((m) => m.role === 'student')?.name ?? 'student';
  for (const f of r.representationFit) {
    // Each fit is of its own student (results written before several students name none: the only one).
    const student = f.student ?? firstStudent;
    rows.push([`${teacher}~${student}`, f.set, 'linear_cka', f.linearCka, null, null, f.fit.n]);
    rows.push([`${teacher}~${student}`, f.set, 'linear_cka_debiased', f.linearCkaDebiased, null, null, f.fit.n]);
  }
  return rows;
}

export function renderResultsCsv(r: RunResults): string {
  return `${[CSV_HEADER, ...resultsCsvRows(r)].map(csvLine).join('\n')}\n`;
}

/** class-gaps.csv: every class of every (student, evaluation set), ranked by gap as results.json classGaps. */
export const CLASS_GAPS_CSV_FILE = 'class-gaps.csv';
const CLASS_GAPS_HEADER = [
  'student',
  'set',
  'class',
  'n',
  'teacher_top1',
  'teacher_low',
  'teacher_high',
  'student_top1',
  'student_low',
  'student_high',
  'gap',
];

/** The file's text; null when the results carry no per-class gaps (written before they were measured). */
export function renderClassGapsCsv(r: RunResults): string | null {
  if (!r.classGaps) return null;
  const rows: CsvRow[] = r.classGaps.flatMap((g) =>
    g.classes.map((c) => [
      g.student,
      g.set,
      c.class,
      c.n,
      c.teacherTop1,
      c.teacherInterval.low,
      c.teacherInterval.high,
      c.studentTop1,
      c.studentInterval.low,
      c.studentInterval.high,
      c.gap,
    ]),
  );
  return `${[CLASS_GAPS_HEADER, ...rows].map(csvLine).join('\n')}\n`;
}
