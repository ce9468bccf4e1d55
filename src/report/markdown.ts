/** report.md: every table of the report plus the definitions of what the numbers mean. */
import { DEFINITIONS } from './definitions.js';
import { markdownTable, mdText } from './format.js';
import {
  allModelsTable,
  datasetsTable,
  hasManyModels,
  accuracyTable,
  asymmetryTable,
  effectiveRobustnessTable,
  machineLine,
  missingSetsTable,
  modelsTable,
  probesTable,
  representationFitTable,
  seedsTable,
  summaryTable,
  timingsTable,
  type Table,
} from './tables.js';
import type { Report } from './types.js';
import { rankingSentence } from './students.js';
import { classGapsTable, contrastsTable, kappaTable, studentsTable } from './studentTables.js';
import { fitTitle, hasOnePair } from './terminal.js';

function table(t: Table | null): string[] {
  if (!t) return [];
  return [
    markdownTable(t.headers, t.rows, t.align),
    ...(t.notes?.length ? ['', ...t.notes.map((n) => `- ${mdText(n)}`)] : []),
    '',
  ];
}

/** The report as Markdown text (tables; accuracies in percent, gaps in percentage points). */
export function renderMarkdown(r: Report): string {
  const out: string[] = [
    `# ${mdText(r.title)}`,
    '',
    mdText(`fcprobe ${r.fcprobeVersion}, ${r.createdAt}. Machine: ${machineLine(r)}.`),
    '',
    mdText(r.headline.note),
    '',
    '## Models',
    '',
    ...table(modelsTable(r)),
    '## Sets',
    '',
    ...table(datasetsTable(r)),
    ...(missingSetsTable(r) ? ['## Missing sets (not found: no numbers)', '', ...table(missingSetsTable(r))] : []),
    '## Students: teacher - student (pp, 95% intervals)',
    '',
    ...(r.perStudent.best && r.perStudent.worst ? [mdText(rankingSentence(r.perStudent) ?? ''), ''] : []),
    ...table(studentsTable(r.perStudent)),
    ...(contrastsTable(r.perStudent)
      ? ['## Student vs student (first - second, pp)', '', ...table(contrastsTable(r.perStudent))]
      : []),
    '## Accuracy per set (%)',
    '',
    ...table(accuracyTable(r)),
    ...(hasOnePair(r) ? ['## ID vs OOD', '', ...table(summaryTable(r))] : []),
    ...(r.acrossSeeds ? [`## Across ${r.acrossSeeds.seeds.length} seeds`, '', ...table(seedsTable(r))] : []),
    ...(r.warnings.length ? ['**Warnings**', '', ...r.warnings.map((w) => `- ${mdText(w)}`), ''] : []),
    `> ${mdText(DEFINITIONS.accuracy)}`,
    '',
    `> ${mdText(DEFINITIONS.accuracyInterval)}`,
    '',
    `> ${mdText(DEFINITIONS.gapInterval)}`,
    '',
    `> ${mdText(DEFINITIONS.contaminationInterval)}`,
    '',
    // After the per-set tables, as in report.html: which images and classes carry the gaps.
    ...(kappaTable(r.perStudent) ? ['## Error consistency', '', ...table(kappaTable(r.perStudent))] : []),
    ...(classGapsTable(r.perStudent)
      ? ['## Classes that carry the OOD gaps', '', ...table(classGapsTable(r.perStudent))]
      : []),
    ...(hasManyModels(r) ? ['## All models', '', ...table(allModelsTable(r))] : []),
    '## Effective robustness',
    '',
  ];
  if (r.effectiveRobustness.status === 'omitted') {
    out.push(`> ${mdText(r.effectiveRobustness.note)}`, '');
  } else {
    out.push(...table(effectiveRobustnessTable(r)));
    for (const e of r.effectiveRobustness.entries) {
      const pts = e.points
        .map((p) => `${p.name ? `${p.name} ` : ''}(${(p.id * 100).toFixed(1)}, ${(p.ood * 100).toFixed(1)})`)
        .join(', ');
      out.push(mdText(`Baseline "${e.label}" points (ID %, OOD %): ${pts}.`), '');
    }
    out.push(`> ${mdText(DEFINITIONS.effectiveRobustness)}`, '');
  }
  out.push(
    `## ${mdText(fitTitle(r))}`,
    '',
    ...table(representationFitTable(r)),
    `> ${mdText(DEFINITIONS.cka)}`,
    '',
    `> ${mdText(DEFINITIONS.ckaDebiased)}`,
    '',
    `> ${mdText(DEFINITIONS.cosine)}`,
    '',
  );
  out.push('## Activation asymmetry', '');
  if (r.asymmetry.perModel.length === 0) out.push('Not measured.', '');
  else out.push(...table(asymmetryTable(r)));
  out.push(`> ${mdText(DEFINITIONS.asymmetry)}`, '');
  const probes = probesTable(r),
    timings = timingsTable(r);
  if (probes) out.push('## Probes', '', ...table(probes));
  if (timings) out.push('## Timings', '', ...table(timings));
  if (r.notes.length) out.push('## Notes', '', ...r.notes.map((n) => `- ${mdText(n)}`), '');
  out.push('## Config', '', '```json', JSON.stringify(r.config, null, 2), '```', '');
  return out.join('\n');
}
