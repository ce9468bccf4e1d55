/**
 * The report's tables as plain cells, so the terminal, Markdown and HTML renderers show the same rows and the
 * same digits and differ only in layout.
 */
import { ci, fixed, pct, pp, pValue, ROLE_LABEL, seconds, shortHash, type Align } from './format.js';
import type { AcrossSeeds, Interval, Report } from './types.js';
import { chanceAtK, TOP5_HEADLINE_MAX_CHANCE } from '../probe/metrics.js';
import { overSeeds } from '../experiment/headline.js';

export interface Table {
  headers: string[];
  rows: string[][];
  align: Align[];
  /** Lines shown under the table (rows that could not be tabulated). */
  notes?: string[];
}

const SCORED_OVER: Record<string, string> = {
  protocol: 'protocol label space',
  present: 'class folders present',
  training: 'trains the probe',
};

/**
 * Every set measured: what it is scored over (a suite's scoring in words), class folders present of the label
 * space's, and the images left out, with the missing class folders and left-out folders listed under it. The
 * suite's sets that were not found are in missingSetsTable, not here.
 */
export function datasetsTable(r: Report): Table {
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const s of r.sets) {
    let leftOut = '-';
    if (s.leftOut) {
      leftOut = String(s.leftOut.images);
      if (s.leftOut.images > 0)
        notes.push(
          `${s.name}: left out ${s.leftOut.entries
            .slice(0, 6)
            .map((e) => `${e.what} (${e.images}: ${e.reason})`)
            .join('; ')}${s.leftOut.entries.length > 6 ? `; ... (${s.leftOut.entries.length} in all)` : ''}.`,
        );
    }
    rows.push([
      s.name,
      s.role,
      'found',
      String(s.n),
      s.scoring ?? (s.scoredOver ? (SCORED_OVER[s.scoredOver] ?? s.scoredOver) : '-'),
      s.classes ? `${s.classes.present}/${s.classes.expected}` : '-',
      leftOut,
    ]);
    const missing = s.classes?.missing ?? [];
    if (missing.length > 0)
      notes.push(
        `${s.name}: missing class folder${missing.length > 1 ? 's' : ''} ${missing.slice(0, 20).join(', ')}` +
          `${missing.length > 20 ? `, ... (${missing.length} in all; every one in results.json)` : ''}.`,
      );
  }
  return {
    headers: ['Set', 'Role', 'Status', 'n', 'Scored over', 'Classes present', 'Left out'],
    rows,
    align: ['l', 'l', 'l', 'r', 'l', 'r', 'r'],
    notes,
  };
}

/**
 * The suite's sets that were not found (`run --suite`), with the folders tried under the data root; null when
 * none is missing. They have no number anywhere in the report.
 */
export function missingSetsTable(r: Report): Table | null {
  if (r.missingSets.length === 0) return null;
  return {
    headers: ['Set', 'Role', 'Status', `Folders tried under ${r.suite?.dataRoot ?? 'the data root'}`],
    rows: r.missingSets.map((s) => [s.name, s.role, 'missing', s.foldersTried.join(', ')]),
    align: ['l', 'l', 'l', 'l'],
  };
}

export function modelsTable(r: Report): Table {
  return {
    headers: ['Role', 'Model', 'Feature dim', 'sha256', 'Path', 'Preprocessing'],
    rows: r.models.map((m) => [
      m.role,
      m.name,
      String(m.featureDim),
      shortHash(m.sha256),
      m.path,
      m.preprocessing ?? m.preset ?? '-',
    ]),
    align: ['l', 'l', 'r', 'l', 'l', 'l'],
  };
}

/** Scored classes of a set's row (teacher and student are scored over the same label space); null if unscored. */
function scoredClasses(s: Report['perSet'][number]): number | null {
  return s.teacher?.classes ?? s.student?.classes ?? null;
}

/** Chance top-1, 1 / K: puts a low accuracy in context (14.3% on 7 classes is chance). */
function chanceOf(s: Report['perSet'][number]): string {
  const k = scoredClasses(s);
  return k === null || !(k > 0) ? pct(null) : pct(1 / k);
}

/** Chance top-5, min(5, K) / K, beside every @5 column: 71% on 7 classes; '-' where top-5 is not measured. */
function chance5Of(s: Report['perSet'][number]): string {
  const k = scoredClasses(s);
  return k === null || !(k > 5) ? pct(null) : pct(chanceAtK(k, 5));
}

/** Top-5 gaps are left out where chance@5 >= TOP5_HEADLINE_MAX_CHANCE: a near-certain top-5 says little. */
function top5Comparable(s: Report['perSet'][number]): boolean {
  const k = scoredClasses(s);
  return k !== null && chanceAtK(k, 5) < TOP5_HEADLINE_MAX_CHANCE;
}

/** Why top-5 is n/a: it is not measured with 5 or fewer scored classes, where every image would count. */
function top5Note(r: Report): string[] {
  const sets = r.perSet.filter((s) => {
    const k = scoredClasses(s);
    return k !== null && k <= 5 && s.teacher?.top5 == null && s.student?.top5 == null;
  });
  const easy = r.perSet.filter((s) => {
    const k = scoredClasses(s);
    return k !== null && k > 5 && !top5Comparable(s);
  });
  return [
    ...(sets.length === 0
      ? []
      : [
          `Top-5 is n/a for ${sets.map((s) => `${s.set} (${scoredClasses(s)} classes)`).join(', ')}: not defined ` +
            `with 5 or fewer scored classes, where every image would count as correct.`,
        ]),
    ...(easy.length === 0
      ? []
      : [
          `Gap@5 is n/a for ${easy.map((s) => `${s.set} (${scoredClasses(s)} classes)`).join(', ')}: chance@5 is ` +
            `${100 * TOP5_HEADLINE_MAX_CHANCE}% or more, so top-5 is near-certain there and is not compared; read @1.`,
        ]),
  ];
}

/** With several seeds: " (seed N)" for a figure measured on the first seed only, else "" (one run: no label). */
export function seedOnly(r: Report): string {
  return r.headline.basis === 'mean-over-seeds' ? ` (seed ${r.headline.seeds[0]})` : '';
}

/** The interval column's label: a t-interval over seeds with several seeds. */
function ciLabel(r: Report, pp = false): string {
  const unit = pp ? 'pp' : '';
  if (r.headline.basis !== 'mean-over-seeds') return pp ? '95% CI (pp)' : '95% CI';
  return `95% CI (${unit ? `${unit}, ` : ''}t over ${r.headline.seeds.length} seeds)`;
}

/** " (!)" beside a model whose probe carries a computed warning (probe.json's warnings), else "". */
function probeFlag(r: Report, model: string): string {
  return r.probes.some((p) => p.model === model && (p.warnings?.length ?? 0) > 0) ? ' (!)' : '';
}

/** The warnings behind the "(!)" marks of `models`, one line each, for the notes under a table. */
function probeFlagNotes(r: Report, models: readonly string[]): string[] {
  return r.probes
    .filter((p) => models.includes(p.model))
    .flatMap((p) => (p.warnings ?? []).map((w) => `(!) ${p.model} probe: ${w}.`));
}

/**
 * Top-1 and top-5 per evaluation set, with intervals: teacher and student side by side when there is one student;
 * with several, one row per set and model (every model alike, each gap to the teacher with its interval).
 */
export function accuracyTable(r: Report): Table {
  if (r.students.length > 1) return perModelAccuracyTable(r);
  return {
    headers: [
      'Set',
      'Role',
      'n',
      'Chance@1',
      `Teacher@1${probeFlag(r, r.teacher)}`,
      ciLabel(r),
      'Chance@5',
      `Teacher@5${seedOnly(r)}`,
      `Student@1${probeFlag(r, r.student)}`,
      ciLabel(r),
      `Student@5${seedOnly(r)}`,
      'Gap@1 (pp)',
      ciLabel(r, true),
      `McNemar p${seedOnly(r)}`,
      seedOnly(r) ? `Gap@5 (pp, ${seedOnly(r).slice(2, -1)})` : 'Gap@5 (pp)',
    ],
    rows: r.perSet.map((s) => {
      const scored = s.teacher?.n ?? s.student?.n ?? s.n;
      const marked = s.teacher?.scoring || s.student?.scoring ? '*' : '';
      return [
        s.set + marked,
        ROLE_LABEL[s.role],
        scored === s.n ? String(s.n) : `${scored} of ${s.n}`,
        chanceOf(s),
        pct(s.teacher?.top1),
        ci(s.teacher?.top1Interval),
        chance5Of(s),
        pct(s.teacher?.top5),
        pct(s.student?.top1),
        ci(s.student?.top1Interval),
        pct(s.student?.top5),
        pp(s.gapTop1),
        ci(s.gapInterval, 1, true),
        pValue(s.mcnemarP),
        top5Comparable(s) ? pp(s.gapTop5) : pp(null),
      ];
    }),
    align: ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    notes: [
      `Teacher = ${r.teacher}, Student = ${r.student}; @1 / @5: top-1 / top-5 accuracy; gap = teacher minus student; ` +
        `Chance@1 / Chance@5: top-1 / top-5 of a uniform guess, 1 / K and min(5, K) / K (K: classes scored). ` +
        (r.headline.basis === 'mean-over-seeds'
          ? `@1 and Gap@1: mean over seeds ${r.headline.seeds.join(', ')}; 95% CI: t-interval over the ` +
            `${r.headline.seeds.length} seeds (t quantile at ${r.headline.seeds.length - 1} df); @5, Gap@5 and ` +
            `McNemar p: seed ${r.headline.seeds[0]} only. `
          : `95% CI: Clopper-Pearson for accuracies, paired bootstrap (${r.statistics.bootstrap} replicates) for ` +
            'gaps; ') +
        `McNemar p: exact test of equal top-1 on the same images.` +
        (r.perSet.some((s) => s.teacher?.scoring || s.student?.scoring) ? ' *: scored specially, see Notes.' : ''),
      ...top5Note(r),
      ...probeFlagNotes(r, [r.teacher, r.student]),
    ],
  };
}

/** accuracyTable with several students: one row per (set, model); the set's own columns on its first row. */
function perModelAccuracyTable(r: Report): Table {
  const rows: string[][] = [];
  for (const s of r.perSet) {
    const scored = s.models.filter((m) => m.cell);
    if (scored.length === 0) continue;
    const n = scored[0]!.cell!.n;
    scored.forEach((m, i) => {
      const c = m.cell!;
      const first = i === 0;
      rows.push([
        first ? s.set + (s.models.some((x) => x.cell?.scoring) ? '*' : '') : '',
        first ? ROLE_LABEL[s.role] : '',
        first ? (n === s.n ? String(s.n) : `${n} of ${s.n}`) : '',
        first ? chanceOf(s) : '',
        first ? chance5Of(s) : '',
        m.model + probeFlag(r, m.model),
        pct(c.top1),
        ci(c.top1Interval),
        pct(c.top5),
        // The teacher's own row has no gap: blank, not n/a (nothing is missing).
        ...(m.role === 'teacher'
          ? ['', '', '', '']
          : [
              pp(m.gapTop1),
              ci(m.gapInterval, 1, true),
              pValue(m.mcnemarP),
              top5Comparable(s) ? pp(m.gapTop5) : pp(null),
            ]),
      ]);
    });
  }
  return {
    headers: [
      'Set',
      'Role',
      'n',
      'Chance@1',
      'Chance@5',
      'Model',
      '@1',
      ciLabel(r),
      `@5${seedOnly(r)}`,
      'Gap@1 (pp)',
      ciLabel(r, true),
      `McNemar p${seedOnly(r)}`,
      seedOnly(r) ? `Gap@5 (pp, ${seedOnly(r).slice(2, -1)})` : 'Gap@5 (pp)',
    ],
    rows,
    align: ['l', 'l', 'r', 'r', 'r', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    notes: [
      `@1 / @5: top-1 / top-5 accuracy; gap = the teacher (${r.teacher}) minus the model; Chance@1 / Chance@5: ` +
        'top-1 / ' +
        'top-5 of a uniform guess, 1 / K and min(5, K) / K (K: classes scored). ' +
        (r.headline.basis === 'mean-over-seeds'
          ? `@1 and Gap@1: mean over seeds ${r.headline.seeds.join(', ')}; 95% CI: t-interval over the ` +
            `${r.headline.seeds.length} seeds; @5, Gap@5 and McNemar p: seed ${r.headline.seeds[0]} only. `
          : `95% CI: Clopper-Pearson for accuracies, paired bootstrap (${r.statistics.bootstrap} replicates) for ` +
            'gaps; ') +
        'McNemar p: exact test of equal top-1 on the same images.' +
        (r.perSet.some((s) => s.models.some((m) => m.cell?.scoring)) ? ' *: scored specially, see Notes.' : ''),
      ...top5Note(r),
      ...probeFlagNotes(
        r,
        r.models.map((m) => m.name),
      ),
    ],
  };
}

/**
 * "mean ± std" of a number over seeds: accuracies in percent, gaps and contamination in signed pp; the std is
 * the sample standard deviation (n - 1).
 */
export function meanStd(a: AcrossSeeds | null | undefined, signed: boolean): string {
  if (!a) return '';
  return `${signed ? pp(a.mean) : pct(a.mean)} ± ${pct(a.std)}`;
}

/** Every number measured over several seeds (`run --seeds`): first seed, mean ± std, each seed; null with one. */
export function seedsTable(r: Report): Table | null {
  const s = r.acrossSeeds;
  if (!s) return null;
  const fmt = (kind: string, v: number) => (kind === 'accuracy' ? pct(v) : pp(v));
  return {
    headers: [
      'Measure',
      `Seed ${s.seeds[0]}`,
      `Mean ± std over ${s.seeds.length} seeds`,
      '95% t-interval',
      `Seeds ${s.seeds.join(', ')}`,
    ],
    rows: s.rows.map((x) => {
      const o = overSeeds(x.across);
      // Accuracies cannot leave [0, 1]: their t-interval is clipped there, as in the headlined tables.
      const t = o && x.kind === 'accuracy' ? { low: Math.max(0, o.low), high: Math.min(1, o.high) } : o;
      return [
        x.measure,
        fmt(x.kind, x.value),
        meanStd(x.across, x.kind !== 'accuracy'),
        t ? `${fmt(x.kind, t.low)} to ${fmt(x.kind, t.high)}` : '-',
        x.across.values.map((v) => fmt(x.kind, v)).join(', '),
      ];
    }),
    align: ['l', 'r', 'r', 'r', 'r'],
    notes: [
      'Top-1 in %, gaps and contamination in pp. Split and probe were redone for each of ' +
        `${s.seeds.length} seeds; the other tables headline the mean with its 95% t-interval over the seeds ` +
        `(t quantile at ${s.seeds.length - 1} df), and label figures of seed ${s.seeds[0]} alone. ` +
        'Std is the sample standard deviation (n - 1) across seeds: the spread of split plus probe.',
    ],
  };
}

/**
 * The 95% interval of the one student's gap averaged over the ID test sets or the OOD sets, when one exists for
 * exactly the gap shown: the headline's (a t-interval over seeds, or one set's bootstrap), else, for one run, the
 * contamination bootstrap's interval of that mean gap (results' contamination idGap / oodGap). Null otherwise.
 */
export function meanGap(r: Report, gap: number, which: 'idGap' | 'oodGap'): Interval | null {
  const same = (v: number): boolean => Math.abs(v - gap) < 1e-9;
  const h = r.headline[which];
  if (h?.interval && r.headline.student === r.student && same(h.value)) return h.interval;
  const e = r.perStudent.rows.find((x) => x.student === r.student)?.[which];
  return r.headline.basis === 'single-run' && e?.interval && same(e.estimate) ? e.interval : null;
}

/** The one-student summary: ID mean, OOD average, each OOD set and contamination, each gap with its interval. */
export function summaryTable(r: Report): Table {
  const rows: string[][] = [];
  const over = r.acrossSeeds;
  // With several seeds, each gap's mean ± std over the seeds beside it.
  const gapOver = (set: string | undefined): string =>
    set === undefined
      ? ''
      : meanStd(
          r.acrossSeeds?.rows.find((x) => x.kind === 'gap' && x.measure === `gap ${r.teacher} - ${r.student}, ${set}`)
            ?.across,
          true,
        );
  const { id, oodAverage, idSets, oodSets } = r.summary;
  const single = (sets: string[]) => (sets.length === 1 ? r.perSet.find((x) => x.set === sets[0]) : undefined);
  const idRow = single(idSets);
  const meanGapInterval = (gap: number, which: 'idGap' | 'oodGap'): string => {
    const iv = meanGap(r, gap, which);
    return iv ? ci(iv, 1, true) : '';
  };
  rows.push([
    `ID accuracy (${describeMean(idSets)})`,
    pct(id.teacher),
    pct(id.student),
    pp(id.gap),
    idRow ? ci(idRow.gapInterval, 1, true) : meanGapInterval(id.gap, 'idGap'),
    ...(over ? [meanStd(id.gapAcrossSeeds, true)] : []),
  ]);
  if (oodAverage) {
    const oodRow = single(oodSets);
    rows.push([
      `OOD average (${describeMean(oodSets)})`,
      pct(oodAverage.teacher),
      pct(oodAverage.student),
      pp(oodAverage.gap),
      oodRow ? ci(oodRow.gapInterval, 1, true) : meanGapInterval(oodAverage.gap, 'oodGap'),
      ...(over ? [meanStd(oodAverage.gapAcrossSeeds, true)] : []),
    ]);
  }
  for (const s of r.perSet.filter((x) => x.role === 'ood')) {
    rows.push([
      `  ${s.set}`,
      pct(s.teacher?.top1),
      pct(s.student?.top1),
      pp(s.gapTop1),
      ci(s.gapInterval, 1, true),
      ...(over ? [gapOver(s.set)] : []),
    ]);
  }
  const c = r.summary.contamination;
  if (c)
    rows.push([
      'Contamination (OOD gap - ID gap)',
      '',
      '',
      pp(c.estimate),
      ci(c.interval, 1, true),
      ...(over ? [meanStd(c.acrossSeeds, true)] : []),
    ]);
  return {
    headers: [
      'Top-1 accuracy (%)',
      r.teacher + probeFlag(r, r.teacher),
      r.student + probeFlag(r, r.student),
      'Gap (pp)',
      ciLabel(r, true),
      ...(over ? [`Gap, mean ± std over ${over.seeds.length} seeds (pp)`] : []),
    ],
    rows,
    align: ['l', 'r', 'r', 'r', 'r', ...(over ? (['r'] as const) : [])],
    notes: [
      ...(over
        ? [
            `Accuracies, gaps and contamination: mean over seeds ${over.seeds.join(', ')}; 95% CI: t-interval over ` +
              `the ${over.seeds.length} seeds; mean ± std (sample, n - 1) across the seeds beside it.`,
          ]
        : []),
      ...probeFlagNotes(r, [r.teacher, r.student]),
    ],
  };
}

function describeMean(sets: string[]): string {
  return sets.length === 1 ? sets[0]! : `mean of ${sets.length} sets`;
}

/** Whether the report has more than a teacher and one student (then the all-models section is shown). */
export function hasManyModels(r: Report): boolean {
  return r.models.length > 2;
}

/** Every model (teacher, students, references) on every evaluation set, with means, gaps and CKA. */
export function allModelsTable(r: Report): Table {
  const a = r.allModels;
  const hasOod = a.roles.includes('ood');
  return {
    headers: [
      'Model',
      'Role',
      ...a.sets.map((s) => `${s}@1`),
      'ID',
      ...(hasOod ? ['OOD avg'] : []),
      'Gap ID (pp)',
      ...(hasOod ? ['Gap OOD (pp)'] : []),
      `CKA ID test${seedOnly(r)}`,
      ...(hasOod ? [`CKA OOD${seedOnly(r)}`] : []),
    ],
    rows: a.rows.map((m) => [
      m.model + probeFlag(r, m.model),
      m.role,
      ...m.top1.map((v) => pct(v)),
      pct(m.id),
      ...(hasOod ? [pct(m.oodAverage)] : []),
      pp(m.gapId),
      ...(hasOod ? [pp(m.gapOod)] : []),
      fixed(m.ckaIdTest, 4),
      ...(hasOod ? [fixed(m.ckaOod, 4)] : []),
    ]),
    align: ['l', 'l', ...a.sets.map(() => 'r' as const), 'r', 'r', 'r', 'r', 'r', 'r'].slice(
      0,
      2 + a.sets.length + (hasOod ? 6 : 3),
    ) as Align[],
    notes: [
      'Top-1 accuracy (%); ID and OOD avg: unweighted means over the sets; gap = teacher minus the model; CKA: ' +
        'linear CKA of a student to the teacher, mean over the sets.',
      ...probeFlagNotes(
        r,
        a.rows.map((m) => m.model),
      ),
    ],
  };
}

/** Why effective robustness is printed without an interval (the report and `fcprobe compare` say so). */
export const ER_NO_INTERVAL =
  'Effective robustness has no interval yet: it would have to combine the fit (the band resamples the baseline ' +
  "models) with the model's own images, whose per-image scores results.json does not keep. Read it against the " +
  "band and the model's error bars in the scatter, not as a number known to the shown digits.";

export function effectiveRobustnessTable(r: Report): Table | null {
  const er = r.effectiveRobustness;
  if (er.status !== 'computed') return null;
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const e of er.entries) {
    for (const m of e.models) {
      rows.push([m.model, e.label, e.against, pct(m.idAccuracy), pct(m.oodAccuracy), pct(m.predictedOod), pp(m.rho)]);
    }
    const b = e.fit.intercept;
    notes.push(
      `${e.label}: logit(OOD) = ${fixed(e.fit.slope, 3)} * logit(ID) ${b < 0 ? '-' : '+'} ${fixed(Math.abs(b), 3)}, ` +
        `least squares over ${e.fit.n} baseline models (R^2 ${fixed(e.fit.r2, 3)} in logit space).`,
    );
  }
  notes.push(ER_NO_INTERVAL);
  return {
    headers: ['Model', 'Baseline', 'OOD target', 'ID', 'OOD', 'Baseline predicts', 'Eff. robustness (pp)'],
    rows,
    align: ['l', 'l', 'l', 'r', 'r', 'r', 'r'],
    notes,
  };
}

/**
 * Linear and debiased CKA (and cosine) of the students' features to the teacher's, per set; with several students a
 * Student column and no means (the Students table has each student's).
 */
export function representationFitTable(r: Report): Table {
  const rf = r.representationFit;
  const many = r.students.length > 1;
  const withCosine = rf.rows.some((x) => x.fit.cosine !== null);
  const rows = rf.rows.map((x) => [
    ...(many ? [x.student] : []),
    x.set,
    ROLE_LABEL[x.role],
    String(x.fit.n),
    fixed(x.fit.cka, 4),
    fixed(x.fit.ckaDebiased, 4),
    ...(withCosine ? [fixed(x.fit.cosine?.mean, 4), fixed(x.fit.cosine?.median, 4), fixed(x.fit.cosine?.p10, 4)] : []),
  ]);
  for (const [label, s] of [
    ['ID train', rf.idTrain],
    ['ID test (mean)', rf.idTest],
    ['OOD (mean)', rf.ood],
  ] as const) {
    if (!many && s && (label !== 'ID train' || s.sets.length > 1))
      rows.push([label, '', '', fixed(s.cka, 4), '', ...(withCosine ? [fixed(s.cosine, 4), '', ''] : [])]);
  }
  // A note every set shares (e.g. differing dimensions) is shown once, others with their set.
  const notes: string[] = [];
  const all = rf.rows.flatMap((x) => x.fit.notes.map((n) => ({ set: x.set, n })));
  for (const n of new Set(all.map((a) => a.n))) {
    const sets = [...new Set(all.filter((a) => a.n === n).map((a) => a.set))];
    const everySet = all.filter((a) => a.n === n).length === rf.rows.length;
    notes.push(everySet ? `${n.charAt(0).toUpperCase()}${n.slice(1)}.` : `${sets.join(', ')}: ${n}.`);
  }
  if (seedOnly(r)) notes.push(`Measured on the sets of seed ${r.headline.seeds[0]} only (its ID split).`);
  return {
    headers: [
      ...(many ? ['Student'] : []),
      'Set',
      'Role',
      'n',
      'Linear CKA',
      'Debiased CKA',
      ...(withCosine ? ['Cosine mean', 'Cosine median', 'Cosine p10'] : []),
    ],
    rows,
    align: [...(many ? (['l'] as const) : []), 'l', 'l', 'r', 'r', 'r', 'r', 'r', 'r'].slice(
      0,
      (many ? 1 : 0) + (withCosine ? 8 : 5),
    ) as Align[],
    notes,
  };
}

export function asymmetryTable(r: Report): Table {
  const first = r.asymmetry.perModel.find((a) => a.result.applicable)?.result;
  const th = first?.applicable ? first.thresholds : [];
  const headers = [
    'Model',
    'Set',
    'K',
    'Neurons',
    'Dead',
    'Mean',
    'p10',
    'p25',
    'Median',
    'p75',
    'p90',
    ...th.map((t) => `% s>=${t}`),
  ];
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const a of r.asymmetry.perModel) {
    const x = a.result;
    if (!x.applicable) {
      notes.push(`${a.model} (${a.set}): not applicable, ${x.reason}.`);
      continue;
    }
    const d = x.normalized;
    rows.push([
      a.model,
      a.set,
      String(x.classes),
      String(x.neurons),
      String(x.deadNeurons),
      fixed(d.mean, 3),
      fixed(d.p10, 3),
      fixed(d.p25, 3),
      fixed(d.median, 3),
      fixed(d.p75, 3),
      fixed(d.p90, 3),
      ...x.shareAbove.map((v) => pct(v, 1)),
    ]);
  }
  if (seedOnly(r) && rows.length > 0) notes.push(`Measured on the sets of seed ${r.headline.seeds[0]} only.`);
  return { headers, rows, align: headers.map((_, i): Align => (i < 2 ? 'l' : 'r')), notes };
}

export function probesTable(r: Report): Table | null {
  if (r.probes.length === 0) return null;
  return {
    headers: ['Model', 'C', 'Solver', 'Details'],
    rows: r.probes.map((p) => [
      p.model,
      String(p.C),
      p.solver,
      Object.entries(p.details ?? {})
        .map(([k, v]) => `${k}=${detail(v)}`)
        .join(', '),
    ]),
    align: ['l', 'r', 'l', 'l'],
  };
}

/** Solver diagnostics carry full float precision; four significant digits say enough in a table. */
function detail(v: number | string): string {
  return typeof v === 'number' && !Number.isInteger(v) ? String(Number(v.toPrecision(4))) : String(v);
}

export function timingsTable(r: Report): Table | null {
  if (r.timings.length === 0) return null;
  // Peak RSS so far at the stage's end: the column is shown when the results carry it (fcprobe 0.1.0 after 2026-12-07).
  if (!r.timings.some((t) => t.peakRssMiB !== undefined))
    return { headers: ['Stage', 'Time'], rows: r.timings.map((t) => [t.stage, seconds(t.seconds)]), align: ['l', 'r'] };
  return {
    headers: ['Stage', 'Time', 'Peak RSS so far (MiB)'],
    rows: r.timings.map((t) => [t.stage, seconds(t.seconds), t.peakRssMiB === undefined ? '-' : String(t.peakRssMiB)]),
    align: ['l', 'r', 'r'],
  };
}

export function machineLine(r: Report): string {
  const m = r.machine;
  return (
    `${m.cpuModel} (${m.cpus} CPUs, ${m.memoryGiB.toFixed(0)} GiB), ${m.platform}/${m.arch}, Node ${m.node}, ` +
    `providers: ${m.executionProviders.join(', ') || 'cpu'}`
  );
}
