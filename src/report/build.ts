/**
 * From what `run` measured to the report model (pure): per-set accuracy with teacher-minus-student gaps, ID
 * accuracy and OOD average (unweighted means over sets, as the paper reports them), effective robustness
 * against the configured baselines, and the representation-fit and asymmetry sections.
 */
import { buildStudentsSection } from './students.js';
import { ASYMMETRY_DEFINITION } from '../experiment/activationAsymmetry.js';
import {
  baselineProblem,
  bootstrapFitBand,
  effectiveRobustness,
  fitLogitLinear,
  predictOod,
} from '../experiment/effectiveRobustness.js';
import { Rng } from '../math/rng.js';
import { describeSweepTie } from '../probe/sweep.js';
import { buildHeadline, headlineMeasurements } from '../experiment/headline.js';
import { meanAndSampleStd } from '../math/spread.js';
import { FcprobeError } from '../errors.js';
import { isFoundSet } from '../experiment/types.js';
import type {
  AccuracyCell,
  AllModelsRow,
  AllModelsSection,
  EffectiveRobustnessSection,
  ErModelEntry,
  ErEntry,
  FitSummary,
  MissingSetEntry,
  ModelEntry,
  PairSummary,
  Report,
  RepresentationFitSection,
  RunResults,
  SetEntry,
  SetRole,
  SetModelCell,
  SetRow,
  AcrossSeeds,
  AcrossSeedsSection,
  Headline,
} from './types.js';

export const OOD_AVERAGE = 'ood-average';

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function pickModel(models: ModelEntry[], role: 'teacher' | 'student'): ModelEntry {
  const found = models.filter((m) => m.role === role);
  if (found.length !== 1) {
    throw new FcprobeError('BAD_DATA', `Expected exactly one ${role} model in the results, found ${found.length}.`);
  }
  return found[0]!;
}

function checkUnique(names: string[], what: string): void {
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n))
      throw new FcprobeError('BAD_DATA', `Two ${what} are named ${JSON.stringify(n)}; names must be unique.`);
    seen.add(n);
  }
}

/**
 * Derives the report model every renderer reads from measured results (pure: no I/O): accuracy tables,
 * teacher - student gaps, effective robustness, representation fit and activation asymmetry.
 *
 * @throws FcprobeError BAD_DATA when the results are inconsistent (see writeReport); BAD_CONFIG for an
 *   invalid effective-robustness baseline.
 */
export function buildReport(measured: RunResults): Report {
  // With several seeds every figure that has per-seed values is headlined as the mean over seeds with its
  // t-interval (experiment/headline.ts); seed 0's figures stay in acrossSeeds.values[0] for the seeds table.
  const results = headlineMeasurements(measured);
  const teacher = pickModel(results.models, 'teacher');
  const students = results.models.filter((m) => m.role === 'student');
  // The detailed sections compare the teacher with the first student; the "all models" section covers every one.
  const student = students[0];
  if (!student) throw new FcprobeError('BAD_DATA', 'Expected at least one student model in the results, found none.');
  checkUnique(
    results.models.map((m) => m.name),
    'models',
  );
  checkUnique(
    results.sets.map((s) => s.name),
    'sets',
  );
  const modelNames = new Set(results.models.map((m) => m.name));
  const foundSets = results.sets.filter(isFoundSet);
  const missingSets = results.sets.filter((s): s is MissingSetEntry => !isFoundSet(s));
  const missingNames = new Set(missingSets.map((s) => s.name));
  const setByName = new Map(foundSets.map((s) => [s.name, s]));
  const notes: string[] = [];

  const cells = new Map<string, AccuracyCell>();
  for (const a of results.accuracy) {
    if (!modelNames.has(a.model))
      throw new FcprobeError('BAD_DATA', `An accuracy refers to unknown model ${JSON.stringify(a.model)}.`);
    if (missingNames.has(a.set))
      throw new FcprobeError('BAD_DATA', `An accuracy refers to set ${JSON.stringify(a.set)}, which was not found.`);
    if (!setByName.has(a.set))
      throw new FcprobeError('BAD_DATA', `An accuracy refers to unknown set ${JSON.stringify(a.set)}.`);
    cells.set(`${a.model}\u0000${a.set}`, {
      n: a.n,
      top1: a.top1,
      top1Interval: a.top1Interval,
      classes: a.classes,
      top5: a.top5,
      ...(a.scoring ? { scoring: a.scoring } : {}),
    });
  }
  // One note per set when both models were scored the same way (the usual case), else one per model.
  for (const s of foundSets) {
    const scored = results.accuracy.filter((a) => a.set === s.name && a.scoring);
    const distinct = [...new Set(scored.map((a) => a.scoring!))];
    if (distinct.length === 1 && scored.length === results.models.length) notes.push(`${s.name}: ${distinct[0]}.`);
    else for (const a of scored) notes.push(`${s.name}, ${a.model}: ${a.scoring}.`);
  }
  const cell = (model: string, set: string): AccuracyCell | null => cells.get(`${model}\u0000${set}`) ?? null;

  const roleOrder: Record<SetRole, number> = { 'id-train': 0, 'id-test': 1, ood: 2 };
  const orderedSets = foundSets
    .map((s, i) => ({ s, i }))
    .sort((a, b) => roleOrder[a.s.role] - roleOrder[b.s.role] || a.i - b.i)
    .map((x) => x.s);
  const perSet: SetRow[] = orderedSets.map((s) => {
    const t = cell(teacher.name, s.name),
      st = cell(student.name, s.name);
    // The ID training set is usually not scored (its accuracy is the probe's training fit), so no note for it.
    if ((!t || !st) && s.role !== 'id-train')
      notes.push(
        `${s.name}: no accuracy for ` +
          `${[!t ? teacher.name : null, !st ? student.name : null].filter(Boolean).join(' and ')}.`,
      );
    const g = results.gaps.find((x) => x.teacher === teacher.name && x.student === student.name && x.set === s.name);
    const models = results.models.map((m): SetModelCell => {
      const c = cell(m.name, s.name);
      const mg =
        m.role === 'teacher'
          ? undefined
          : results.gaps.find((x) => x.teacher === teacher.name && x.student === m.name && x.set === s.name);
      const other = m.role !== 'teacher' && t && c;
      return {
        model: m.name,
        role: m.role,
        cell: c,
        gapTop1: other ? t.top1 - c.top1 : null,
        gapInterval: mg?.interval ?? null,
        mcnemarP: mg?.mcnemarP ?? null,
        gapTop5: other && t.top5 !== null && c.top5 !== null ? t.top5 - c.top5 : null,
      };
    });
    return {
      models,
      set: s.name,
      role: s.role,
      n: s.n,
      teacher: t,
      student: st,
      gapTop1: t && st ? t.top1 - st.top1 : null,
      gapInterval: g?.interval ?? null,
      mcnemarP: g?.mcnemarP ?? null,
      gapTop5: t && st && t.top5 !== null && st.top5 !== null ? t.top5 - st.top5 : null,
    };
  });

  const pairMean = (role: SetRole): { summary: PairSummary | null; sets: string[] } => {
    const rows = perSet.filter((r) => r.role === role);
    const complete = rows.filter((r) => r.teacher && r.student);
    if (complete.length === 0) return { summary: null, sets: [] };
    const t = mean(complete.map((r) => r.teacher!.top1)),
      s = mean(complete.map((r) => r.student!.top1));
    const across = gapAcrossSeeds(
      results,
      teacher.name,
      student.name,
      complete.map((r) => r.set),
    );
    return {
      summary: { teacher: t, student: s, gap: t - s, ...(across ? { gapAcrossSeeds: across } : {}) },
      sets: complete.map((r) => r.set),
    };
  };
  const id = pairMean('id-test');
  if (!id.summary) {
    throw new FcprobeError(
      'BAD_DATA',
      'The results hold no ID test set with accuracies for both models; ID accuracy needs one.',
    );
  }
  const ood = pairMean('ood');
  if (!ood.summary) notes.push('No OOD set: the OOD average, its gap and effective robustness are left out.');

  const contamination =
    results.contamination.find((c) => c.teacher === teacher.name && c.student === student.name) ?? null;
  const allModels = buildAllModels(results, orderedSets, cell);
  const headline = buildHeadline({
    teacher: teacher.name,
    student: student.name,
    idSets: contamination?.idSets ?? id.sets,
    oodSets: contamination?.oodSets ?? ood.sets,
    gaps: measured.gaps,
    contamination: measured.contamination.find((c) => c.student === student.name) ?? null,
    statistics: results.statistics,
  });
  return {
    format: 'fcprobe-report',
    formatVersion: 1,
    title:
      results.title ??
      (students.length === 1
        ? `fcprobe: ${teacher.name} (teacher) vs ${student.name} (student)`
        : `fcprobe: ${teacher.name} (teacher) vs ${students.length} students ` +
          `(${students.map((m) => m.name).join(', ')})`),
    fcprobeVersion: results.fcprobeVersion,
    createdAt: results.createdAt,
    machine: results.machine,
    config: results.config,
    models: results.models,
    teacher: teacher.name,
    student: student.name,
    students: students.map((m) => m.name),
    sets: orderedSets,
    missingSets,
    suite: results.suite ?? null,
    perSet,
    summary: { idSets: id.sets, oodSets: ood.sets, id: id.summary, oodAverage: ood.summary, contamination },
    statistics: results.statistics,
    headline,
    warnings: buildWarnings(
      results,
      perSet,
      cell,
      results.contamination.filter((c) => c.teacher === teacher.name),
      headline,
    ),
    allModels,
    effectiveRobustness: buildEffectiveRobustness(results, allModels, notes),
    representationFit: buildRepresentationFit(
      results,
      orderedSets,
      students.map((m) => m.name),
    ),
    asymmetry: {
      definition: ASYMMETRY_DEFINITION,
      perModel: [...results.asymmetry].sort((a, b) => +(a.model !== teacher.name) - +(b.model !== teacher.name)),
    },
    probes: results.probes,
    timings: results.timings,
    acrossSeeds: buildAcrossSeeds(results, teacher.name),
    notes,
    perStudent: buildStudentsSection(results),
  };
}

/**
 * The per-seed gap of a mean over `sets` (each seed's mean of the sets' per-seed gaps), or undefined when any of
 * those gaps lacks its per-seed values (one seed, or a set measured once).
 */
function gapAcrossSeeds(
  results: RunResults,
  teacher: string,
  student: string,
  sets: string[],
): AcrossSeeds | undefined {
  const per = sets.map(
    (set) => results.gaps.find((g) => g.teacher === teacher && g.student === student && g.set === set)?.acrossSeeds,
  );
  const first = per[0];
  if (!first || per.some((a) => !a || a.seeds.join() !== first.seeds.join())) return undefined;
  const values = first.seeds.map((_, i) => mean(per.map((a) => a!.values[i]!)));
  return { seeds: first.seeds, values, ...meanAndSampleStd(values) };
}

/** Every number measured over several seeds (`run --seeds`), in results order; null with one seed. */
function buildAcrossSeeds(results: RunResults, teacher: string): AcrossSeedsSection | null {
  const rows: AcrossSeedsSection['rows'] = [];
  for (const a of results.accuracy)
    if (a.acrossSeeds)
      rows.push({
        measure: `${a.model} top-1, ${a.set}`,
        kind: 'accuracy',
        value: a.acrossSeeds.values[0]!,
        across: a.acrossSeeds,
      });
  for (const g of results.gaps)
    if (g.acrossSeeds)
      rows.push({
        measure: `gap ${g.teacher ?? teacher} - ${g.student}, ${g.set}`,
        kind: 'gap',
        value: g.acrossSeeds.values[0]!,
        across: g.acrossSeeds,
      });
  for (const c of results.contamination)
    if (c.acrossSeeds)
      rows.push({
        measure: `contamination, ${c.student}`,
        kind: 'contamination',
        value: c.acrossSeeds.values[0]!,
        across: c.acrossSeeds,
      });
  const first = rows[0];
  return first ? { seeds: first.across.seeds, rows } : null;
}

/**
 * Every model's accuracy per evaluation set, its ID mean and OOD average (over the same sets as the summary),
 * its gaps to the teacher, and each student's CKA to the teacher (means over the ID test and OOD sets).
 */
function buildAllModels(
  results: RunResults,
  orderedSets: SetEntry[],
  cell: (model: string, set: string) => AccuracyCell | null,
): AllModelsSection {
  const evalSets = orderedSets.filter((s) => s.role !== 'id-train');
  const meanOf = (model: string, role: SetRole): number | null => {
    const sets = evalSets.filter((s) => s.role === role);
    const cells = sets.map((s) => cell(model, s.name));
    // A mean over fewer sets than the other models' would not be comparable: no mean then.
    if (sets.length === 0 || cells.some((c) => c === null)) return null;
    return mean(cells.map((c) => c!.top1));
  };
  const teacher = pickModel(results.models, 'teacher');
  const tId = meanOf(teacher.name, 'id-test'),
    tOod = meanOf(teacher.name, 'ood');
  const ckaMean = (student: string, role: SetRole): number | null => {
    const setsOfRole = new Set(evalSets.filter((s) => s.role === role).map((s) => s.name));
    const v = results.representationFit
      .filter((f) => fitStudent(f, results) === student && setsOfRole.has(f.set))
      .map((f) => f.fit.cka)
      .filter((x) => Number.isFinite(x));
    return v.length === setsOfRole.size && v.length > 0 ? mean(v) : null;
  };
  const gapOf = (student: string, set: string) =>
    results.gaps.find((g) => g.student === student && g.teacher === teacher.name && g.set === set);
  const rows: AllModelsRow[] = results.models.map((m) => {
    const id = meanOf(m.name, 'id-test'),
      ood = meanOf(m.name, 'ood');
    const other = m.role !== 'teacher';
    return {
      model: m.name,
      role: m.role,
      top1: evalSets.map((s) => cell(m.name, s.name)?.top1 ?? null),
      top1Interval: evalSets.map((s) => cell(m.name, s.name)?.top1Interval ?? null),
      gapTop1: evalSets.map((s) => gapOf(m.name, s.name)?.top1Gap ?? null),
      gapInterval: evalSets.map((s) => gapOf(m.name, s.name)?.interval ?? null),
      id,
      oodAverage: ood,
      gapId: other && id !== null && tId !== null ? tId - id : null,
      gapOod: other && ood !== null && tOod !== null ? tOod - ood : null,
      ckaIdTest: m.role === 'student' ? ckaMean(m.name, 'id-test') : null,
      ckaOod: m.role === 'student' ? ckaMean(m.name, 'ood') : null,
    };
  });
  return { sets: evalSets.map((s) => s.name), roles: evalSets.map((s) => s.role), rows };
}

/** The student a representation fit belongs to (results written before several students had no field). */
function fitStudent(f: RunResults['representationFit'][number], results: RunResults): string {
  return f.student ?? results.models.find((m) => m.role === 'student')?.name ?? '';
}

/**
 * Effective robustness of every model against each baseline: the configured (ID, OOD) points plus the
 * reference models of the run; with no configured baseline, the references alone (when there are two or more).
 */
function buildEffectiveRobustness(
  results: RunResults,
  all: AllModelsSection,
  notes: string[],
): EffectiveRobustnessSection {
  const configured = results.baselines ?? [];
  const refs = all.rows.filter((r) => r.role === 'reference');
  const baselines =
    configured.length > 0
      ? configured
      : refs.length >= 2
        ? [{ against: OOD_AVERAGE, label: 'reference models of this run', points: [] }]
        : [];
  if (baselines.length === 0) {
    return {
      status: 'omitted',
      note:
        refs.length === 1
          ? 'One reference model and no baseline points in the config: a baseline fit needs at least two points, so ' +
            'effective robustness is not computed.'
          : 'No baseline (ID, OOD) accuracy pairs were given in the config, so effective robustness is not computed.',
    };
  }
  const oodSets = all.sets.filter((_, i) => all.roles[i] === 'ood');
  const entries: (ErEntry | { problem: string })[] = baselines.map((b, bi) => {
    const label = b.label ?? `baseline ${bi + 1}`;
    let oodOf: (r: AllModelsRow) => number | null;
    if (b.against === OOD_AVERAGE) {
      if (oodSets.length === 0)
        throw new FcprobeError(
          'BAD_CONFIG',
          `Effective-robustness baseline ${JSON.stringify(label)} is against the OOD average, but there is no OOD set.`,
        );
      oodOf = (r) => r.oodAverage;
    } else {
      const j = all.sets.indexOf(b.against);
      if (j < 0 || all.roles[j] !== 'ood') {
        throw new FcprobeError(
          'BAD_CONFIG',
          `Effective-robustness baseline ${JSON.stringify(label)}: expected "against" to be "${OOD_AVERAGE}" or an ` +
            `OOD set name, got ${JSON.stringify(b.against)}.`,
          `OOD sets: ${oodSets.map((s) => JSON.stringify(s)).join(', ') || '(none)'}.`,
        );
      }
      oodOf = (r) => r.top1[j] ?? null;
    }
    const points = [...b.points];
    for (const r of refs) {
      const id = r.id,
        ood = oodOf(r);
      // logit is infinite at 0 and 1: such a reference cannot be a point of the fit.
      if (id !== null && ood !== null && id > 0 && id < 1 && ood > 0 && ood < 1)
        points.push({ name: r.model, id, ood });
      else
        notes.push(
          `Reference ${r.model} is not a point of baseline "${label}": its ID or OOD accuracy is 0, 1 or missing.`,
        );
    }
    const problem = baselineProblem(points);
    if (problem && configured.length === 0) return { problem };
    if (problem)
      throw new FcprobeError('BAD_CONFIG', `Effective-robustness baseline ${JSON.stringify(label)}: ${problem}.`);
    const fit = fitLogitLinear(points);
    // The band's seed is the run's: re-rendering the report gives the same band.
    const ids = [...points.map((p) => p.id), ...all.rows.map((r) => r.id).filter((v): v is number => v !== null)];
    const lo = Math.min(...ids),
      hi = Math.max(...ids);
    const grid = Array.from({ length: 41 }, (_, i) =>
      sigmoidLerp(Math.max(0.005, lo * 0.9), Math.min(0.995, 1 - (1 - hi) * 0.9), i / 40),
    );
    const band = bootstrapFitBand(
      points,
      grid,
      results.statistics.bootstrap,
      new Rng(results.statistics.seed + bi),
      results.statistics.level,
    );
    const models: ErModelEntry[] = [];
    for (const r of all.rows) {
      const idAccuracy = r.id,
        oodAccuracy = oodOf(r);
      if (idAccuracy === null || oodAccuracy === null) continue;
      models.push({
        model: r.model,
        idAccuracy,
        oodAccuracy,
        predictedOod: predictOod(fit, idAccuracy),
        rho: effectiveRobustness(fit, idAccuracy, oodAccuracy),
      });
    }
    return { label, against: b.against, points, fit, band, models };
  });
  const computed = entries.filter((e): e is ErEntry => !('problem' in e));
  // Only a baseline made of the run's references alone can fail here (configured points were checked above).
  const failed = entries.find((e): e is { problem: string } => 'problem' in e);
  if (failed)
    return {
      status: 'omitted',
      note: `Effective robustness is not computed: the reference models cannot form a baseline (${failed.problem}).`,
    };
  return { status: 'computed', entries: computed };
}

/** The point a fraction t of the way from p to q, evenly spaced in logit space. */
function sigmoidLerp(p: number, q: number, t: number): number {
  const lp = Math.log(p / (1 - p)),
    lq = Math.log(q / (1 - q));
  const z = lp + t * (lq - lp);
  return 1 / (1 + Math.exp(-z));
}

const pctOf = (x: number): string => (x * 100).toFixed(1);

/**
 * Cautions computed from the numbers: wide accuracy intervals, a contamination interval containing 0, a C
 * sweep with a thin hold-out or a choice at the grid's edge, an OOD set whose accuracy is not above chance.
 */
function buildWarnings(
  results: RunResults,
  perSet: SetRow[],
  cellOf: (model: string, set: string) => AccuracyCell | null,
  contaminations: RunResults['contamination'],
  headline: Headline,
): string[] {
  // With several seeds the intervals are t-intervals over seeds: more seeds, not only more images, narrow them.
  const overSeeds = headline.basis === 'mean-over-seeds';
  const w: string[] = assumedPreprocessWarnings(results);
  if (
    results.suite?.presentClassesOnly ||
    (results.config &&
      typeof results.config === 'object' &&
      !Array.isArray(results.config) &&
      results.config.presentClassesOnly === true)
  )
    w.push(
      '--present-classes-only: sets are scored over their class folders present, not over their benchmark label ' +
        'space (1000 classes, or the 200 of ImageNet-R/-A): accuracies on a partial set are not comparable with ' +
        'published numbers.',
    );
  for (const s of results.sets)
    if (!isFoundSet(s))
      w.push(
        `${s.name} was not found under ${results.suite?.dataRoot ?? 'the data root'}: it has no accuracy and ` +
          `is not in the ${s.role === 'ood' ? 'OOD average' : 'ID mean'} (see Missing sets).`,
      );
  // Every model's accuracy is checked, each named; with one student it is "student" (as the tables call it).
  const students = results.models.filter((m) => m.role === 'student').map((m) => m.name);
  const models = results.models.filter((m) => m.role !== 'reference').map((m) => m.name);
  const whoOf = (m: string): string =>
    m === headline.teacher ? 'teacher' : students.length === 1 && m === students[0] ? 'student' : m;
  for (const row of perSet) {
    for (const [who, c] of models.map((m) => [whoOf(m), cellOf(m, row.set)] as const)) {
      const ci = c?.top1Interval;
      if (!c || !ci) continue;
      if (ci.high - ci.low > 0.2)
        w.push(
          `${row.set}, ${who}: the 95% interval of top-1 is ${pctOf(ci.high - ci.low)} pp wide ` +
            `(${pctOf(ci.low)}-${pctOf(ci.high)}% on ${c.n} images` +
            (overSeeds
              ? `, t over ${headline.seeds.length} seeds); more seeds would narrow it.`
              : '); more images would narrow it.'),
        );
      const chance = 1 / c.classes;
      if (row.role === 'ood' && ci.low <= chance)
        w.push(
          `${row.set}, ${who}: top-1 ${pctOf(c.top1)}% is not above chance (${pctOf(chance)}% for ` +
            `${c.classes} classes) at 95%.`,
        );
    }
  }
  for (const c of contaminations)
    if (c.interval && c.interval.low <= 0 && c.interval.high >= 0)
      w.push(
        `${students.length > 1 ? `${c.student}: c` : 'C'}ontamination ${pctOf(c.estimate)} pp, 95% interval ` +
          `${pctOf(c.interval.low)} to ${pctOf(c.interval.high)} pp contains 0: not distinguishable from no ` +
          'contamination ' +
          (overSeeds ? `over ${headline.seeds.length} seeds (mean, t-interval over seeds).` : 'at this n.'),
      );
  for (const p of results.probes) {
    // The probe's own computed warnings (a fit at chance on its training rows) and the settings it chose itself.
    for (const x of p.warnings ?? []) w.push(`${p.model} probe: ${x}.`);
    for (const x of p.decided ?? []) w.push(`${p.model} probe: --${x.setting} ${x.value} was ${x.from}.`);
    const sw = p.sweep;
    if (!sw) continue;
    const perClass = sw.nVal / Math.max(1, sw.classes);
    if (perClass < 5)
      w.push(
        `${p.model}: the C sweep held out ${sw.nVal} images for ${sw.classes} classes (${perClass.toFixed(1)} per ` +
          `class, fewer than 5): the chosen C = ${p.C} is a noisy choice.`,
      );
    const tie =
      sw.tied !== undefined && sw.valTop1 !== undefined
        ? describeSweepTie({ of: sw.grid.length, tied: sw.tied, valTop1: sw.valTop1, nVal: sw.nVal, chosenC: p.C })
        : null;
    if (tie) w.push(`${p.model}: ${tie}.`);
    if (sw.atGridEdge)
      w.push(
        `${p.model}: the chosen C = ${p.C} is at the edge of the sweep grid (${sw.grid[0]} to ` +
          `${sw.grid[sw.grid.length - 1]}); the best C may lie outside it.`,
      );
  }
  return w;
}

/** One warning per model whose preprocessing nobody stated (docs/preprocessing.md: a wrong preset moves numbers). */
function assumedPreprocessWarnings(results: RunResults): string[] {
  return results.models
    .filter((m) => m.preprocess?.source === 'default')
    .map(
      (m) =>
        `${m.name}: no preprocessing was stated (no flag, config field, model metadata, catalog entry or hub ` +
        `config), so the ${m.preset ?? 'default'} preset was assumed; every number of this model depends on that ` +
        'assumption. State it (--preset, or "preset" in the config) if the model was trained otherwise.',
    );
}

/** `orderedSets`: the report's set order (ID train, ID test, OOD), which the rows follow. */
function buildRepresentationFit(
  results: RunResults,
  orderedSets: SetEntry[],
  students: string[],
): RepresentationFitSection {
  const position = new Map(orderedSets.map((s, i) => [s.name, i]));
  const order = (st: string): number => students.indexOf(st);
  const rows = results.representationFit
    .map((r) => {
      const i = position.get(r.set);
      if (i === undefined)
        throw new FcprobeError('BAD_DATA', `A representation fit refers to unknown set ${JSON.stringify(r.set)}.`);
      return { set: r.set, role: orderedSets[i]!.role, student: fitStudent(r, results), fit: r.fit, i };
    })
    .filter((r) => order(r.student) >= 0)
    .sort((a, b) => order(a.student) - order(b.student) || a.i - b.i)
    .map(({ set, role, student, fit }) => ({ set, role, student, fit }));
  // The summaries are the first student's: renderers show them only when there is one student (the Students
  // table has every student's means).
  const summarize = (role: SetRole): FitSummary | null => {
    const rs = rows.filter((r) => r.role === role && r.student === students[0]);
    if (rs.length === 0) return null;
    const ckas = rs.map((r) => r.fit.cka).filter((v) => Number.isFinite(v));
    const coss = rs.map((r) => r.fit.cosine?.mean).filter((v): v is number => v !== undefined && Number.isFinite(v));
    return {
      cka: ckas.length ? mean(ckas) : null,
      cosine: coss.length ? mean(coss) : null,
      sets: rs.map((r) => r.set),
    };
  };
  return { rows, idTrain: summarize('id-train'), idTest: summarize('id-test'), ood: summarize('ood') };
}
