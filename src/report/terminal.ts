/** Plain-text report for the terminal: the same tables as report.md, fixed-width, no colour codes. */
import { escapeControl } from '../io/terminal.js';
import { oneLine, textTable, shortHash } from './format.js';
import {
  allModelsTable,
  datasetsTable,
  hasManyModels,
  accuracyTable,
  asymmetryTable,
  effectiveRobustnessTable,
  machineLine,
  missingSetsTable,
  probesTable,
  representationFitTable,
  seedsTable,
  summaryTable,
  type Table,
} from './tables.js';
import type { Report } from './types.js';
import { rankingSentence } from './students.js';
import { classGapsTable, contrastsTable, kappaTable, studentsTable } from './studentTables.js';

function section(title: string, table: Table | null, extra: string[] = []): string {
  const body = table ? [textTable(table.headers, table.rows, table.align), ...(table.notes ?? [])] : [];
  return [title, '='.repeat(title.length), ...body, ...extra].join('\n');
}

/**
 * Whether the report has the teacher-vs-student summary (ID accuracy, OOD average, contamination of one pair):
 * only with one student; with several, the Students and All models tables hold every student's alike.
 */
export function hasOnePair(r: Report): boolean {
  return r.students.length === 1;
}

/** The representation-fit section's title: whose features are compared with the teacher's. */
export function fitTitle(r: Report): string {
  return hasOnePair(r)
    ? `Representation fit (teacher vs ${r.student} features)`
    : "Representation fit (each student's features vs the teacher's)";
}

/** Every student alike: the headline table, then (when measured) the student-vs-student contrasts. */
function studentSections(r: Report): string[] {
  const p = r.perStudent;
  const out = [section('Students: teacher - student (pp, 95% intervals)', studentsTable(p)), ''];
  const ranking = rankingSentence(p);
  if (ranking) out.splice(1, 0, ranking);
  const c = contrastsTable(p);
  if (c) out.push(section('Student vs student (first - second, pp)', c), '');
  return out;
}

/** After the per-set tables (as in report.html): error consistency and the classes that carry the OOD gaps. */
function evidenceSections(r: Report): string[] {
  const out: string[] = [];
  const k = kappaTable(r.perStudent);
  if (k) out.push(section('Error consistency (Cohen kappa, teacher vs student)', k), '');
  const g = classGapsTable(r.perStudent);
  if (g) out.push(section('Classes that carry the OOD gaps (largest and smallest gap)', g), '');
  return out;
}

/**
 * The report as plain text for a terminal (no colour codes). Names, titles and notes come from results.json
 * and the configs: their control characters are escaped, so a damaged or hostile file cannot drive the terminal.
 */
export function renderTerminal(r: Report): string {
  const t = r.models.find((m) => m.name === r.teacher);
  const s = r.models.find((m) => m.name === r.student);
  const missing = missingSetsTable(r);
  const out: string[] = [
    oneLine(r.title),
    `fcprobe ${r.fcprobeVersion}, ${r.createdAt}`,
    `teacher: ${t!.name} (${t!.featureDim}-d, sha256 ${shortHash(t!.sha256)})   ` +
      (r.students.length === 1
        ? `student: ${s!.name} (${s!.featureDim}-d, sha256 ${shortHash(s!.sha256)})`
        : `students: ${r.students.join(', ')}`),
    machineLine(r),
    r.headline.note,
    ...r.models.filter((m) => m.preprocessing).map((m) => `preprocessing of ${m.name}: ${m.preprocessing}`),
    '',
    section('Sets', datasetsTable(r)),
    '',
    ...(missing ? [section('Missing sets (not found: no numbers)', missing), ''] : []),
    ...studentSections(r),
    section('Accuracy per set (%)', accuracyTable(r)),
    '',
    ...(hasOnePair(r) ? [section('ID vs OOD (top-1, %)', summaryTable(r)), ''] : []),
    ...(r.acrossSeeds ? [section(`Across ${r.acrossSeeds.seeds.length} seeds`, seedsTable(r)), ''] : []),
    ...evidenceSections(r),
    ...(hasManyModels(r) ? [section('All models (top-1, %)', allModelsTable(r)), ''] : []),
  ];
  const er = effectiveRobustnessTable(r);
  out.push(
    r.effectiveRobustness.status === 'omitted'
      ? section('Effective robustness', null, [r.effectiveRobustness.note])
      : section('Effective robustness', er),
  );
  out.push('', section(fitTitle(r), representationFitTable(r)));
  const asym = asymmetryTable(r);
  out.push(
    '',
    section(
      'Activation asymmetry (normalized s_j; 0 = even over classes, 1 = one class)',
      asym.rows.length || asym.notes?.length ? asym : null,
      r.asymmetry.perModel.length === 0 ? ['Not measured.'] : [],
    ),
  );
  out.push('', section('Probes (chosen C)', probesTable(r)));
  if (r.warnings.length) out.push('', 'Warnings', '========', ...r.warnings.map((n) => `! ${n}`));
  if (r.notes.length) out.push('', 'Notes', '=====', ...r.notes.map((n) => `* ${n}`));
  return escapeControl(`${out.join('\n')}\n`);
}
