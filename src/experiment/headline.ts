/**
 * What a run headlines (issue 23): with several seeds (`run --seeds`), the mean over seeds with its own
 * interval, a t-interval over the seeds; with one, that run's figure with its bootstrap interval. The report
 * shows these figures in its cards, charts and tables, and labels any figure measured on one seed only
 * ("seed 0"); results.json keeps every seed's numbers (`acrossSeeds`) and records this block as `headline`.
 */
import { tInterval, type Interval } from '../math/intervals.js';
import type {
  AccuracyMeasurement,
  AcrossSeeds,
  ContaminationMeasurement,
  GapMeasurement,
  Headline,
  HeadlineFigure,
  StatisticsInfo,
} from './types.js';
import { INTERVAL_LEVEL } from './statistics.js';

/** The mean over seeds of `a` with its t-interval, or null when it cannot be formed (one seed, a NaN). */
export function overSeeds(a: AcrossSeeds | undefined, level = INTERVAL_LEVEL): (Interval & { mean: number }) | null {
  if (!a) return null;
  const t = tInterval(a.values, level);
  return t ? { mean: t.mean, low: t.low, high: t.high } : null;
}

function seedFigure(a: AcrossSeeds, what: string): HeadlineFigure {
  const t = tInterval(a.values, INTERVAL_LEVEL);
  return {
    value: a.mean,
    interval: t ? { low: t.low, high: t.high } : null,
    std: a.std,
    values: a.values,
    from: `mean over seeds ${a.seeds.join(', ')} of ${what}; interval: t over the ${a.seeds.length} seeds`,
  };
}

/** Each seed's mean over `sets` of the gaps, as one AcrossSeeds; undefined when a set lacks per-seed values. */
function meanGapAcrossSeeds(gaps: GapMeasurement[], sets: string[]): AcrossSeeds | undefined {
  const per = sets.map((s) => gaps.find((g) => g.set === s)?.acrossSeeds);
  const first = per[0];
  if (!first || per.some((a) => !a || a.seeds.join() !== first.seeds.join())) return undefined;
  const values = first.seeds.map((_, i) => per.reduce((s, a) => s + a!.values[i]!, 0) / per.length);
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const std =
    values.length > 1 ? Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1)) : NaN;
  return { seeds: first.seeds, values, mean, std };
}

export interface HeadlineInput {
  teacher: string;
  student: string;
  /** The ID test sets and the OOD sets, by name. */
  idSets: string[];
  oodSets: string[];
  gaps: GapMeasurement[];
  contamination: ContaminationMeasurement | null;
  statistics: StatisticsInfo;
}

/**
 * The headline of a run: with several seeds (any gap or the contamination carries `acrossSeeds`), every figure
 * is the mean over seeds with a 95% t-interval over them (t quantile at n - 1 degrees of freedom); with one
 * seed, the run's own figure with its paired bootstrap interval (null with --bootstrap 0).
 */
export function buildHeadline(h: HeadlineInput): Headline {
  const gaps = h.gaps.filter((g) => (g.teacher === undefined || g.teacher === h.teacher) && g.student === h.student);
  const c = h.contamination;
  const many = c?.acrossSeeds ?? gaps.find((g) => g.acrossSeeds)?.acrossSeeds;
  const seeds = many?.seeds ?? [h.statistics.seed];
  const single = (value: number, interval: Interval | null, what: string): HeadlineFigure => ({
    value,
    interval,
    std: null,
    values: null,
    from: `${what}${interval ? '; interval: paired bootstrap over images' : ''}`,
  });
  const gapOf = (sets: string[], what: string): HeadlineFigure | null => {
    const rows = sets.map((s) => gaps.find((g) => g.set === s));
    if (sets.length === 0 || rows.some((g) => !g)) return null;
    if (many) {
      const a = meanGapAcrossSeeds(gaps, sets);
      return a ? seedFigure(a, what) : null;
    }
    const value = rows.reduce((s, g) => s + g!.top1Gap, 0) / rows.length;
    // A mean over several sets has no bootstrap interval of its own in results.json.
    return single(value, rows.length === 1 ? rows[0]!.interval : null, what);
  };
  const contamination = !c
    ? null
    : many && c.acrossSeeds
      ? seedFigure(c.acrossSeeds, 'the contamination estimate')
      : single(c.estimate, c.interval, 'the contamination estimate');
  const note = many
    ? `Headline figures are means over seeds ${seeds.join(', ')} with 95% t-intervals over the ${seeds.length} ` +
      `seeds (t quantile at ${seeds.length - 1} df); figures measured on one seed only are labelled seed ${seeds[0]}.`
    : "Headline figures are this run's (one seed), with 95% Clopper-Pearson intervals for accuracies and " +
      (h.statistics.gapInterval
        ? 'paired bootstrap intervals over images for gaps.'
        : 'none for gaps (--bootstrap 0).');
  return {
    basis: many ? 'mean-over-seeds' : 'single-run',
    seeds,
    level: INTERVAL_LEVEL,
    interval: many ? 't-over-seeds' : h.statistics.gapInterval,
    teacher: h.teacher,
    student: h.student,
    contamination,
    idGap: gapOf(h.idSets, 'the teacher - student top-1 gap over the ID test sets'),
    oodGap: gapOf(h.oodSets, 'the teacher - student top-1 gap over the OOD sets'),
    note,
  };
}

/**
 * Results with the across-seed means headlined: every accuracy, gap and contamination that carries `acrossSeeds`
 * takes its mean as its value and its t-interval over seeds as its interval (the seed-0 figures stay in
 * `acrossSeeds.values[0]`). McNemar p and top-5, measured on the first seed only, are left as they are.
 */
export function headlineMeasurements<
  R extends { accuracy: AccuracyMeasurement[]; gaps: GapMeasurement[]; contamination: ContaminationMeasurement[] },
>(r: R): R {
  const clamp = (i: Interval): Interval => ({ low: Math.max(0, i.low), high: Math.min(1, i.high) });
  return {
    ...r,
    accuracy: r.accuracy.map((a) => {
      const o = overSeeds(a.acrossSeeds);
      return o ? { ...a, top1: o.mean, top1Interval: clamp(o) } : a;
    }),
    gaps: r.gaps.map((g) => {
      const o = overSeeds(g.acrossSeeds);
      return o ? { ...g, top1Gap: o.mean, interval: { low: o.low, high: o.high } } : g;
    }),
    contamination: r.contamination.map((c) => {
      const o = overSeeds(c.acrossSeeds);
      return o ? { ...c, estimate: o.mean, interval: { low: o.low, high: o.high } } : c;
    }),
  };
}
