/**
 * report.html: one self-contained file (inline CSS, inline SVG, no scripts, no URLs), so it can be mailed,
 * archived or opened offline and always shows the same thing.
 */
import { DEFINITIONS } from './definitions.js';
import { ci, MISSING, pct, pp, fixed, ROLE_LABEL } from './format.js';
import {
  groupedBarChart,
  logitScatterChart,
  paletteColor,
  quantileBoxChart,
  type ScatterModelPoint,
} from './charts.js';
import { escapeXml } from './svgCharts.js';
import {
  allModelsTable,
  hasManyModels,
  accuracyTable,
  datasetsTable,
  missingSetsTable,
  asymmetryTable,
  effectiveRobustnessTable,
  machineLine,
  meanGap,
  modelsTable,
  probesTable,
  representationFitTable,
  seedsTable,
  summaryTable,
  timingsTable,
  type Table,
} from './tables.js';
import type { AllModelsRow, ErModelEntry, Interval, Report } from './types.js';
import type { EstimateWithInterval } from '../experiment/types.js';
import { rankingVerdict, type StudentRow } from './students.js';
import { hasOnePair } from './terminal.js';
import type { GalleryEntry, GalleryImage } from './gallery.js';
import { classGapsTable, contrastsTable, kappaTable, studentsTable } from './studentTables.js';

/** A model's colour in every chart and page: fixed by its position in results.models. */
function modelColor(r: Report, name: string): string {
  return paletteColor(r.models.findIndex((m) => m.name === name));
}

/** `html` (escaped already) in the model's chart colour, so a name or number reads as the same model everywhere. */
function colored(r: Report, model: string, html: string): string {
  return `<span style="color:${modelColor(r, model)}">${html}</span>`;
}
const CKA_COLOR = '#4a7c59';
const COSINE_COLOR = '#5fa8b8';
const GROUP_FILLS: Record<string, string> = {
  [ROLE_LABEL['id-train']]: '#f1f4f8',
  [ROLE_LABEL['id-test']]: '#eaf1fa',
  [ROLE_LABEL.ood]: '#fcf1e8',
};

export const CSS = [
  '',
  'body{font-family:system-ui,-apple-system,"Segoe ' +
    'UI",Helvetica,Arial,sans-serif;color:#222;background:#fff;margin:0;padding:24px 32px;max-width:1100px}',
  'h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid ' +
    '#e2e2e2;padding-bottom:4px}',
  '.meta{color:#666;font-size:13px;margin:2px 0}',
  '.cards{display:flex;flex-wrap:wrap;gap:12px;margin:18px 0 6px}',
  '.card{border:1px solid #e2e2e2;border-radius:6px;padding:10px 14px;min-width:190px;max-width:420px}',
  '.card .k{font-size:12px;color:#666}.card .v{font-size:18px;font-weight:600;margin-top:2px}.card ' +
    '.s{font-size:12px;color:#444;margin-top:2px}',
  'table{border-collapse:collapse;font-size:13px;margin:8px 0}',
  'th,td{padding:4px 8px;border-bottom:1px solid ' +
    '#eee;white-space:nowrap}th{background:#f6f7f9;text-align:left;font-weight:600}',
  // Headers may wrap (numbers may not): a table of many models and sets then still fits a 1400 px window.
  'th{white-space:normal;vertical-align:bottom;min-width:3em}',
  'td.r,th.r{text-align:right;font-variant-numeric:tabular-nums}',
  '.def{font-size:12.5px;color:#555;max-width:900px;line-height:1.45}',
  '.note{font-size:12.5px;color:#8a5a00}',
  'svg{max-width:100%;height:auto;display:block;margin:8px 0}',
  'details{margin:8px 0}pre{background:#f6f7f9;padding:10px;font-size:12px;overflow:auto}',
  '.charts{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}',
  '.gallery{display:flex;flex-wrap:wrap;gap:6px;margin:6px 0 14px}',
  '.gallery figure{margin:0;width:96px;font-size:10.5px;line-height:1.25;color:#444}',
  '.gallery img{width:72px;height:72px;display:block;border:1px solid #ddd}',
  // Text cells of wide tables may wrap; numbers and their intervals stay on one line.
  '.wrap td:not(.r){white-space:normal}',
  '',
].join('\n');

export function htmlTable(t: Table | null): string {
  if (!t) return '';
  const cls = (i: number): string => (t.align[i] === 'r' ? ' class="r"' : '');
  const head = `<tr>${t.headers.map((h, i) => `<th${cls(i)}>${escapeXml(h)}</th>`).join('')}</tr>`;
  const body = t.rows
    .map((r) => `<tr>${r.map((c, i) => `<td${cls(i)}>${escapeXml(c)}</td>`).join('')}</tr>`)
    .join('\n');
  const notes = (t.notes ?? []).map((n) => `<p class="note">${escapeXml(n)}</p>`).join('');
  return `<table>\n${head}\n${body}\n</table>${notes}`;
}

const def = (text: string): string => `<p class="def">${escapeXml(text)}</p>`;

/** A one-student headline card: teacher / student values, and the gap with its 95% interval when measured. */
function card(
  r: Report,
  title: string,
  teacher: number | null,
  student: number | null,
  gap: number | null,
  interval: Interval | null | undefined,
): string {
  const gapText =
    gap === null ? '' : `<div class="s">gap ${pp(gap)} pp${interval ? ` ${ci(interval, 1, true)}` : ''}</div>`;
  return (
    `<div class="card"><div class="k">${escapeXml(title)}</div><div class="v">` +
    `${colored(r, r.teacher, pct(teacher, 1))} / ${colored(r, r.student, pct(student, 1))}</div>${gapText}</div>`
  );
}

/**
 * The ID-vs-OOD scatter on logit axes, drawn for every report: every model (one colour each) at its ID accuracy
 * against each OOD set's accuracy (one marker shape per set) and the OOD average when there are several sets,
 * with Clopper-Pearson bars both ways where the coordinate is one set's accuracy (an average over several sets
 * has no exact interval, so no bar).
 */
function idVsOodScatter(r: Report): string {
  const a = r.allModels;
  const oodCols = a.roles.flatMap((role, i) => (role === 'ood' ? [i] : []));
  const idCols = a.roles.flatMap((role, i) => (role === 'id-test' ? [i] : []));
  if (oodCols.length === 0) return '';
  const classes = new Set(
    r.perSet.flatMap((x) => (x.role !== 'id-train' ? [x.teacher?.classes, x.student?.classes] : [])),
  );
  classes.delete(undefined);
  const chance = classes.size === 1 ? 1 / [...classes][0]! : null;
  const points: ScatterModelPoint[] = [];
  for (const row of a.rows) {
    if (row.id === null) continue;
    const xInterval: Interval | null = idCols.length === 1 ? (row.top1Interval[idCols[0]!] ?? null) : null;
    const common = { x: row.id, color: modelColor(r, row.model), series: row.model, xInterval };
    for (const c of oodCols) {
      const y = row.top1[c];
      if (y === null || y === undefined) continue;
      const set = a.sets[c]!;
      points.push({ ...common, y, label: `${row.model}: ${set}`, shape: set, yInterval: row.top1Interval[c] ?? null });
    }
    if (oodCols.length > 1 && row.oodAverage !== null)
      points.push({ ...common, y: row.oodAverage, label: `${row.model}: OOD average`, shape: 'OOD average' });
  }
  const er = r.effectiveRobustness.status === 'computed' ? r.effectiveRobustness.entries[0]! : null;
  return logitScatterChart({
    title: 'ID vs OOD top-1 (logit axes, 95% intervals)',
    xLabel: `ID top-1 accuracy (%), ${r.summary.idSets.join(', ')}`,
    yLabel: 'OOD top-1 accuracy (%)',
    baseline: er ? er.points.map((p) => ({ x: p.id, y: p.ood, ...(p.name ? { label: p.name } : {}) })) : [],
    models: points,
    fit: er ? er.fit : null,
    band: er?.band ?? null,
    diagonal: true,
    chance,
    width: 1000,
    height: 540,
  });
}

/**
 * A model's Clopper-Pearson intervals on an effective-robustness chart: x when there is one ID test set, y when
 * the baseline is against one OOD set (or the OOD average of a single set); a mean over sets has none.
 */
function erIntervals(
  r: Report,
  model: string,
  against: string,
): { xInterval: Interval | null; yInterval: Interval | null } {
  const a = r.allModels;
  const row = a.rows.find((x) => x.model === model);
  const idCols = a.roles.flatMap((role, i) => (role === 'id-test' ? [i] : []));
  const oodCols = a.roles.flatMap((role, i) => (role === 'ood' ? [i] : []));
  const yCol = a.sets.indexOf(against) >= 0 ? a.sets.indexOf(against) : oodCols.length === 1 ? oodCols[0]! : -1;
  return {
    xInterval: row && idCols.length === 1 ? (row.top1Interval[idCols[0]!] ?? null) : null,
    yInterval: row && yCol >= 0 ? (row.top1Interval[yCol] ?? null) : null,
  };
}

function warningsHtml(r: Report): string {
  if (r.warnings.length === 0) return '';
  return `<h2>Warnings</h2>\n<ul>${r.warnings.map((w) => `<li class="note">${escapeXml(w)}</li>`).join('')}</ul>`;
}

/**
 * The whole report as one self-contained HTML document (inline CSS and SVG charts, no scripts or remote files).
 * @param r the report model (report/build.ts); nothing is recomputed here.
 */
export function renderHtml(r: Report, gallery: readonly GalleryEntry[] = []): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(r.title)}</title>
<style>${CSS}</style>
</head>
<body>
${headerSection(r)}
${studentsHtml(r)}
${accuracySection(r)}
${evidenceHtml(r)}
${allModelsSection(r)}
${effectiveRobustnessSection(r)}
${representationFitSection(r)}
${asymmetrySection(r)}
${galleryHtml(gallery)}
${runSection(r)}
</body>
</html>
`;
}

/** Title, the models (each in its chart colour), the machine, and the headline cards. */
function headerSection(r: Report): string {
  const model = (name: string): string => {
    const m = r.models.find((x) => x.name === name);
    return m ? `${colored(r, m.name, `<b>${escapeXml(m.name)}</b>`)} (${m.featureDim}-d)` : MISSING;
  };
  const students =
    r.students.length === 1
      ? `student ${model(r.students[0]!)}`
      : `${r.students.length} students: ${r.students.map(model).join(', ')}`;
  const made = `fcprobe ${escapeXml(r.fcprobeVersion)}, ${escapeXml(r.createdAt)}`;
  return `<h1>${escapeXml(r.title)}</h1>
<p class="meta">Teacher ${model(r.teacher)} vs ${students}. ${made}.</p>
<p class="meta">${escapeXml(machineLine(r))}</p>
<div class="cards">${headlineCards(r).join('')}</div>
<p class="meta">${escapeXml(r.headline.note)}</p>`;
}

/** What the contamination card's interval is: "95% CI " for one run; mean ± std and t over seeds for several. */
function contaminationBasis(r: Report): string {
  const h = r.headline;
  const c = h.contamination;
  if (h.basis !== 'mean-over-seeds' || !c || c.std === null) return '95% CI ';
  return `mean of ${h.seeds.length} seeds ± ${(100 * c.std).toFixed(2)} (std); 95% t-interval `;
}

/**
 * The headline cards. One student: teacher / student (ID accuracy, OOD average, contamination, CKA, effective
 * robustness). Several: the teacher and the least and the most contaminated student (by their contamination
 * estimates; every student when there is no such ranking), each value in its model's colour and every gap and
 * contamination with its interval. The Students table below has every student alike.
 */
function headlineCards(r: Report): string[] {
  return r.students.length === 1 ? pairCards(r) : manyStudentCards(r);
}

function pairCards(r: Report): string[] {
  const { id, oodAverage } = r.summary;
  const rf = r.representationFit;
  const cards = [
    card(r, `ID accuracy (top-1, %): teacher / student`, id.teacher, id.student, id.gap, meanGap(r, id.gap, 'idGap')),
    oodAverage
      ? card(
          r,
          'OOD average (top-1, %)',
          oodAverage.teacher,
          oodAverage.student,
          oodAverage.gap,
          meanGap(r, oodAverage.gap, 'oodGap'),
        )
      : '',
    r.summary.contamination
      ? `<div class="card"><div class="k">Contamination (OOD gap - ID gap, pp)</div><div ` +
        `class="v">${pp(r.summary.contamination.estimate, 1)}</div><div class="s">${escapeXml(contaminationBasis(r))}` +
        `${ci(r.summary.contamination.interval, 1, true)}</div></div>`
      : '',
    rf.idTest && rf.ood
      ? `<div class="card"><div class="k">Linear CKA: ID test / OOD</div><div class="v">${fixed(rf.idTest.cka, 3)} / ` +
        `${fixed(rf.ood.cka, 3)}</div>` +
        (rf.idTest.cosine !== null
          ? `<div class="s">cosine ${fixed(rf.idTest.cosine, 3)} / ${fixed(rf.ood.cosine, 3)}</div>`
          : '') +
        '</div>'
      : '',
  ];
  const e = r.effectiveRobustness.status === 'computed' ? r.effectiveRobustness.entries[0] : undefined;
  const rho = (m: string): ErModelEntry | undefined => e?.models.find((x) => x.model === m);
  const [mt, ms] = [rho(r.teacher), rho(r.student)];
  if (e && mt && ms) {
    cards.push(
      `<div class="card"><div class="k">Effective robustness (pp), ${escapeXml(e.against)}</div><div class="v">` +
        `${colored(r, r.teacher, pp(mt.rho, 1))} / ${colored(r, r.student, pp(ms.rho, 1))}</div><div ` +
        `class="s">${escapeXml(e.label)}; no interval (see Effective robustness)</div></div>`,
    );
  }
  return cards;
}

/** See headlineCards: the teacher and the least and most contaminated student. */
function manyStudentCards(r: Report): string[] {
  const p = r.perStudent;
  const picked = p.best && p.worst ? [p.best, p.worst] : r.students;
  const rows = picked.map((st) => p.rows.find((x) => x.student === st) ?? null);
  // The first card says who the two are; the others' titles stay short so the cards fit two rows.
  const who = p.best && p.worst ? 'least / most contaminated' : r.students.join(' / ');
  const names = [r.teacher, ...picked];
  const of = (m: string): AllModelsRow | undefined => r.allModels.rows.find((x) => x.model === m);
  const values = (get: (m: string) => string): string => names.map((m) => colored(r, m, get(m))).join(' / ');
  // One line per picked student: its figure with the 95% interval.
  const lines = (get: (x: StudentRow) => EstimateWithInterval | null): string =>
    rows
      .map((x, i) => {
        const g = x ? get(x) : null;
        const text = g ? `${pp(g.estimate, 1)} ${ci(g.interval, 1, true)}` : MISSING;
        return `${colored(r, picked[i]!, escapeXml(picked[i]!))} ${text}`;
      })
      .join('<br>');
  const k = (title: string): string => `<div class="k">${escapeXml(title)}</div>`;
  const ranking = rankingVerdict(p);
  const cards = [
    `<div class="card">${k(`Students (${r.students.length}): ${p.best && p.worst ? who : 'each'}`)}<div class="v">` +
      `${picked.map((m) => colored(r, m, escapeXml(m))).join(' / ')}</div><div class="s">teacher ` +
      `${colored(r, r.teacher, escapeXml(r.teacher))}; every student in the Students table` +
      `${ranking ? `<br>${escapeXml(ranking)}` : ''}</div></div>`,
    `<div class="card">${k(`ID top-1 (%): teacher / ${who}`)}<div class="v">` +
      `${values((m) => pct(of(m)?.id, 1))}</div><div class="s">gap (pp) [95% CI]<br>` +
      `${lines((x) => x.idGap)}</div></div>`,
    r.summary.oodAverage
      ? `<div class="card">${k(`OOD average top-1 (%): teacher / ${who}`)}<div class="v">` +
        `${values((m) => pct(of(m)?.oodAverage, 1))}</div><div class="s">gap (pp) [95% CI]<br>` +
        `${lines((x) => x.oodGap)}</div></div>`
      : '',
    rows.some((x) => x?.contamination)
      ? `<div class="card">${k(`Contamination (OOD gap - ID gap, pp): ${who}`)}<div class="v">` +
        `${rows.map((x, i) => colored(r, picked[i]!, pp(x?.contamination?.estimate ?? null, 1))).join(' / ')}</div>` +
        `<div class="s">${escapeXml(contaminationBasis(r))}<br>${lines((x) => x.contamination)}</div></div>`
      : '',
    rows.some((x) => x && x.cka.id !== null)
      ? `<div class="card">${k(`Linear CKA, ID test / OOD: ${who}`)}<div class="v">` +
        rows
          .map((x, i) => colored(r, picked[i]!, `${fixed(x?.cka.id ?? null, 3)} / ${fixed(x?.cka.ood ?? null, 3)}`))
          .join('<br>') +
        '</div></div>'
      : '',
  ];
  const e = r.effectiveRobustness.status === 'computed' ? r.effectiveRobustness.entries[0] : undefined;
  if (e) {
    const rho = (m: string): string => pp(e.models.find((x) => x.model === m)?.rho ?? null, 1);
    cards.push(
      `<div class="card">${k(`Effective robustness (pp), ${e.against}: teacher / ${who}`)}<div class="v">` +
        `${values(rho)}</div><div class="s">${escapeXml(e.label)}; no interval (see Effective robustness)</div></div>`,
    );
  }
  return cards;
}

/** Every scored evaluation set (sets nobody scored, usually the ID training set, would be empty slots). */
function chartSets(r: Report): { label: string; group: string }[] {
  const a = r.allModels;
  return a.sets.map((s, i) => ({ label: s, group: ROLE_LABEL[a.roles[i]!] }));
}

/**
 * Per-set accuracy and gaps of every model alike: one bar per model (its fixed colour) with its Clopper-Pearson
 * interval, and one gap bar per student (teacher minus it) with its paired-bootstrap interval.
 */
function accuracySection(r: Report): string {
  const a = r.allModels;
  const cats = chartSets(r);
  const accuracyChart = groupedBarChart({
    title: 'Top-1 accuracy per set, 95% Clopper-Pearson intervals',
    yLabel: 'top-1 accuracy (%)',
    categories: cats,
    yMax: 1,
    format: (v) => (v * 100).toFixed(0),
    tipFormat: (v) => (v * 100).toFixed(1),
    valueLabels: true,
    groupFills: GROUP_FILLS,
    series: a.rows.map((m) => ({
      name: m.model,
      color: modelColor(r, m.model),
      values: m.top1,
      errors: m.top1Interval,
    })),
  });
  const students = a.rows.filter((m) => m.role === 'student');
  const gapChart = groupedBarChart({
    title:
      `Teacher minus ${students.length === 1 ? 'student' : 'each student'}, top-1 (pp), ` +
      '95% paired bootstrap intervals',
    yLabel: 'gap (percentage points)',
    categories: cats,
    format: (v) => (v * 100).toFixed(1),
    tipFormat: (v) => (v * 100).toFixed(2),
    groupFills: GROUP_FILLS,
    series: students.map((m) => ({
      name: m.model,
      color: modelColor(r, m.model),
      values: m.gapTop1,
      errors: m.gapInterval,
    })),
  });
  const sets = datasetsTable(r);
  const missing = missingSetsTable(r);
  return `<h2>Sets</h2>
${htmlTable(sets)}
${missing ? `<h3>Missing sets (not found: no numbers)</h3>\n${htmlTable(missing)}` : ''}
<h2>Accuracy</h2>
${accuracyChart}
${htmlTable(accuracyTable(r))}
${hasOnePair(r) ? htmlTable(summaryTable(r)) : ''}
${r.acrossSeeds ? `<h3>Across ${r.acrossSeeds.seeds.length} seeds</h3>\n${htmlTable(seedsTable(r))}` : ''}
${gapChart}
${warningsHtml(r)}
${idVsOodScatter(r)}
${def(DEFINITIONS.scatter)}
${def(DEFINITIONS.accuracy)}
${def(DEFINITIONS.accuracyInterval)}
${def(DEFINITIONS.gapInterval)}
${def(DEFINITIONS.contaminationInterval)}`;
}

/** Every model's means, gaps and CKA in one table (shown when there is more than one student or any reference). */
function allModelsSection(r: Report): string {
  if (!hasManyModels(r)) return '';
  return `<h2>All models</h2>
${htmlTable(allModelsTable(r))}`;
}

function effectiveRobustnessSection(r: Report): string {
  const er = r.effectiveRobustness;
  const body =
    er.status === 'omitted'
      ? `<p class="note">${escapeXml(er.note)}</p>`
      : `<div class="charts">${er.entries
          .map((e) =>
            logitScatterChart({
              title: `${e.label}: ${e.against}`,
              xLabel: 'ID top-1 accuracy (%), logit scale',
              yLabel: `OOD top-1 accuracy (%), ${e.against}`,
              baseline: e.points.map((p) => ({ x: p.id, y: p.ood, ...(p.name ? { label: p.name } : {}) })),
              models: e.models.map((m) => ({
                x: m.idAccuracy,
                y: m.oodAccuracy,
                label: m.model,
                color: modelColor(r, m.model),
                ...erIntervals(r, m.model, e.against),
              })),
              fit: e.fit,
              band: e.band,
            }),
          )
          .join('\n')}</div>${htmlTable(effectiveRobustnessTable(r))}`;
  return `<h2>Effective robustness</h2>
${body}
${er.status === 'computed' ? def(DEFINITIONS.effectiveRobustness) : ''}`;
}

function representationFitSection(r: Report): string {
  const fitRows = r.representationFit.rows;
  const sets = [...new Map(fitRows.map((x) => [x.set, x.role])).entries()];
  const categories = sets.map(([set, role]) => ({ label: set, group: ROLE_LABEL[role] }));
  const fitValue = (student: string, set: string, get: (f: (typeof fitRows)[number]['fit']) => number | null) => {
    const f = fitRows.find((x) => x.student === student && x.set === set)?.fit;
    const v = f ? get(f) : null;
    return v !== null && Number.isFinite(v) ? v : null;
  };
  // One student: its CKA and cosine side by side. Several: each student's CKA in its model colour (CKA and
  // cosine have no interval; the series are named "<student> CKA" so they are not taken for accuracy bars).
  const series =
    r.students.length === 1
      ? [
          { name: 'linear CKA', color: CKA_COLOR, values: sets.map(([set]) => fitValue(r.student, set, (f) => f.cka)) },
          ...(fitRows.some((x) => x.fit.cosine)
            ? [
                {
                  name: 'mean cosine',
                  color: COSINE_COLOR,
                  values: sets.map(([set]) => fitValue(r.student, set, (f) => f.cosine?.mean ?? null)),
                },
              ]
            : []),
        ]
      : r.students.map((st) => ({
          name: `${st} linear CKA`,
          color: modelColor(r, st),
          values: sets.map(([set]) => fitValue(st, set, (f) => f.cka)),
        }));
  const fitChart =
    fitRows.length === 0
      ? ''
      : groupedBarChart({
          title: r.students.length === 1 ? 'Representation fit per set' : 'Representation fit per set, each student',
          yLabel: 'similarity',
          yMin: 0,
          yMax: 1,
          format: (v) => v.toFixed(2),
          groupFills: GROUP_FILLS,
          categories,
          series,
        });
  return `<h2>Representation fit</h2>
${fitChart}
${htmlTable(representationFitTable(r))}
${def(DEFINITIONS.cka)}
${def(DEFINITIONS.ckaDebiased)}
${def(DEFINITIONS.cosine)}`;
}

function asymmetrySection(r: Report): string {
  const boxes = r.asymmetry.perModel.flatMap((a) =>
    a.result.applicable ? [{ label: a.model, color: modelColor(r, a.model), ...a.result.normalized }] : [],
  );
  const chart =
    boxes.length === 0
      ? ''
      : quantileBoxChart({
          title: 'Normalized activation asymmetry s_j over neurons',
          xLabel: 's_j (0: even over classes, 1: one class); box p25-p75, whiskers p10-p90, line median, dot mean',
          boxes,
          format: (v) => v.toFixed(3),
        });
  const body =
    r.asymmetry.perModel.length === 0
      ? '<p class="note">Not measured.</p>'
      : `${chart}\n${htmlTable(asymmetryTable(r))}`;
  return `<h2>Activation asymmetry</h2>
${body}
${def(DEFINITIONS.asymmetry)}`;
}

/** Models, probes, timings, notes, the config as run, and the full model hashes. */
function runSection(r: Report): string {
  const notes = r.notes.map((n) => `<li class="def">${escapeXml(n)}</li>`).join('');
  const hashes = r.models.map((m) => `${escapeXml(m.name)} ${escapeXml(m.sha256)}`).join('; ');
  return `<h2>Models and run</h2>
${htmlTable(modelsTable(r))}
${htmlTable(probesTable(r))}
${htmlTable(timingsTable(r))}
${r.notes.length ? `<h2>Notes</h2>\n<ul>${notes}</ul>` : ''}
<details><summary>Config</summary><pre>${escapeXml(JSON.stringify(r.config, null, 2))}</pre></details>
<p class="meta">Full sha256: ${hashes}. Missing values are shown as ${MISSING}.</p>`;
}

/** Every student alike: the headline table and the sections a many-student run asks for. */
function studentsHtml(r: Report): string {
  const p = r.perStudent;
  const c = contrastsTable(p);
  return `<h2>Students</h2>
<div class="wrap">${htmlTable(studentsTable(p))}</div>
${c ? `<h3>Student vs student</h3>\n<div class="wrap">${htmlTable(c)}</div>` : ''}`;
}

/**
 * Where the gaps sit, after the per-set charts (long tables that would push the charts off the first screen):
 * error consistency per set and the classes that carry each OOD gap.
 */
function evidenceHtml(r: Report): string {
  const k = kappaTable(r.perStudent),
    g = classGapsTable(r.perStudent);
  if (!k && !g) return '';
  return `<h2>Which images and classes carry the gaps</h2>
${k ? `<h3>Error consistency</h3>\n${htmlTable(k)}` : ''}
${g ? `<h3>Classes that carry the OOD gaps</h3>\n${htmlTable(g)}` : ''}`;
}

/** Thumbnails of the images on which teacher and student disagree, per OOD set and student. */
function galleryHtml(gallery: readonly GalleryEntry[]): string {
  if (gallery.length === 0) return '';
  const img = (i: GalleryImage): string =>
    i.src ? `<img src="${i.src}" alt="${escapeXml(i.file)}">` : '<div class="note">(image not found)</div>';
  const fig = (i: GalleryImage, wrong: string): string =>
    `<figure>${img(i)}<figcaption>true ${escapeXml(i.label)}<br>${wrong}</figcaption></figure>`;
  const block = (title: string, images: GalleryImage[], total: number, wrong: (i: GalleryImage) => string): string =>
    `<h4>${escapeXml(title)} (${images.length} of ${total})</h4>` +
    (images.length ? `<div class="gallery">${images.map((i) => fig(i, wrong(i))).join('')}</div>` : '<p>None.</p>');
  const body = gallery
    .map(
      (e) =>
        `<h3>${escapeXml(e.set)}: teacher vs ${escapeXml(e.student)}</h3>` +
        block(
          'teacher right, student wrong',
          e.teacherOnly,
          e.teacherOnlyTotal,
          (i) => `student said ${escapeXml(i.studentPrediction)}`,
        ) +
        block(
          'student right, teacher wrong',
          e.studentOnly,
          e.studentOnlyTotal,
          (i) => `teacher said ${escapeXml(i.teacherPrediction)}`,
        ),
    )
    .join('\n');
  return `<h2>Disagreements</h2>
<p class="def">Images of each OOD set that one model gets right and the other wrong (a deterministic spread over all of
them; every image is in predictions/&lt;set&gt;.csv). The per-image truth behind the gaps above.</p>
${body}`;
}
