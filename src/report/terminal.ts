/** Plain-text report for the terminal: the same tables as report.md, fixed-width, no colour codes. */
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

function section(title: string, table: Table | null, extra: string[] = []): string {
  const body = table ? [textTable(table.headers, table.rows, table.align), ...(table.notes ?? [])] : [];
  return [title, '='.repeat(title.length), ...body, ...extra].join('\n');
}

/** The report as plain text for a terminal (no colour codes). */
export function renderTerminal(r: Report): string {
  const t = r.models.find((m) => m.name === r.teacher);
  const s = r.models.find((m) => m.name === r.student);
  const missing = missingSetsTable(r);
  const out: string[] = [
    oneLine(r.title),
    `fcprobe ${r.fcprobeVersion}, ${r.createdAt}`,
    `teacher: ${t!.name} (${t!.featureDim}-d, sha256 ${shortHash(t!.sha256)})   student: ${s!.name} ` +
      `(${s!.featureDim}-d, sha256 ${shortHash(s!.sha256)})`,
    machineLine(r),
    ...r.models.filter((m) => m.preprocessing).map((m) => `preprocessing of ${m.name}: ${m.preprocessing}`),
    '',
    section('Sets', datasetsTable(r)),
    '',
    ...(missing ? [section('Missing sets (not found: no numbers)', missing), ''] : []),
    section('Accuracy per set (%)', accuracyTable(r)),
    '',
    section('ID vs OOD (top-1, %)', summaryTable(r)),
    '',
    ...(r.acrossSeeds ? [section(`Across ${r.acrossSeeds.seeds.length} seeds`, seedsTable(r)), ''] : []),
    ...(hasManyModels(r) ? [section('All models (top-1, %)', allModelsTable(r)), ''] : []),
  ];
  const er = effectiveRobustnessTable(r);
  out.push(
    r.effectiveRobustness.status === 'omitted'
      ? section('Effective robustness', null, [r.effectiveRobustness.note])
      : section('Effective robustness', er),
  );
  out.push('', section('Representation fit (teacher vs student features)', representationFitTable(r)));
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
  return `${out.join('\n')}\n`;
}
