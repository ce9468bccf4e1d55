/**
 * The run's uncertainty: a Clopper-Pearson interval per accuracy, and per (student, set) the teacher-minus-student
 * top-1 gap with its paired bootstrap interval and exact McNemar p, and per student the contamination estimate
 * (OOD-average gap minus ID-test gap) with its bootstrap interval. Everything comes from per-image correctness
 * vectors of the two models on the same images (see probe/evaluate.ts `correct`); one bootstrap serves all of it,
 * so the gap intervals and the contamination interval come from the same replicates.
 */
import { FcprobeError } from '../errors.js';
import {
  clopperPearson,
  mcnemarExactP,
  pairedCounts,
  pairedDifferenceReplicate,
  percentileInterval,
  type Interval,
  type PairedCounts,
} from '../math/intervals.js';
import { Rng } from '../math/rng.js';
import { errorConsistency, errorConsistencyReplicate } from '../math/agreement.js';
import type {
  ClassGapMeasurement,
  ContaminationMeasurement,
  GapMeasurement,
  SetRole,
  StatisticsInfo,
  StudentContrast,
} from './types.js';
import { RUN_DEFAULTS } from '../options.js';

export const INTERVAL_LEVEL = 0.95;
export const DEFAULT_BOOTSTRAP = RUN_DEFAULTS.bootstrap;

/** Both models' correctness on one evaluation set, row-aligned (same images, same order: checked by the caller). */
export interface PairedSet {
  set: string;
  role: Exclude<SetRole, 'id-train'>;
  teacher: Uint8Array;
  student: Uint8Array;
}

export interface StatisticsInput {
  teacher: string;
  student: string;
  sets: PairedSet[];
  /** Bootstrap replicates; 0: no bootstrap intervals (null). */
  bootstrap: number;
  seed: number;
}

export interface StatisticsOutput {
  gaps: GapMeasurement[];
  contamination: ContaminationMeasurement[];
  info: StatisticsInfo;
}

/** What results.json records about how the intervals were made. */
export function statisticsInfo(bootstrap: number, seed: number): StatisticsInfo {
  return {
    level: INTERVAL_LEVEL,
    accuracyInterval: 'clopper-pearson',
    gapInterval: bootstrap > 0 ? 'paired-bootstrap-percentile' : null,
    gapTest: 'mcnemar-exact',
    bootstrap,
    seed,
  };
}

/** Exact Clopper-Pearson interval of a top-1 accuracy measured on n images (null when n = 0). */
export function accuracyInterval(top1: number, n: number): Interval | null {
  if (!(n > 0) || !Number.isFinite(top1)) return null;
  // top1 is k / n for an integer k: recover k exactly.
  return clopperPearson(Math.round(top1 * n), n, INTERVAL_LEVEL);
}

/**
 * Gaps, McNemar p-values and contamination from paired correctness. Throws FcprobeError MISMATCH when the two
 * models did not score the same images of a set (different label spaces cannot be paired).
 */
export function computeStatistics(input: StatisticsInput): StatisticsOutput {
  const { bootstrap, seed } = input;
  if (!Number.isInteger(bootstrap) || bootstrap < 0)
    throw new RangeError(`computeStatistics: bootstrap must be a non-negative integer, got ${bootstrap}`);
  const counts: PairedCounts[] = input.sets.map((s) => {
    try {
      return pairedCounts(s.teacher, s.student);
    } catch (e) {
      if (e instanceof RangeError)
        throw new FcprobeError(
          'MISMATCH',
          `Set "${s.set}": the teacher's and the student's scored images cannot be paired ` +
            `(${e.message.replace(/^[^:]*: /, '')}).`,
        );
      throw e;
    }
  });
  // replicates[set][r]: one paired-bootstrap replicate of the set's gap; sets resampled independently.
  const replicates = counts.map(() => new Float64Array(bootstrap));
  const rng = new Rng(seed);
  for (let r = 0; r < bootstrap; r++)
    for (let i = 0; i < counts.length; i++) replicates[i]![r] = pairedDifferenceReplicate(counts[i]!, rng);

  // Error consistency gets its own stream (seed + 1): the gap replicates above stay what they were.
  const kappaRng = new Rng(seed + 1);
  const gaps: GapMeasurement[] = input.sets.map((s, i) => {
    const c = counts[i]!;
    const usable = bootstrap > 0 && c.n > 0;
    const ec = errorConsistency(c);
    let kappaInterval: Interval | null = null;
    if (usable && Number.isFinite(ec.kappa)) {
      const reps = new Float64Array(bootstrap);
      for (let r = 0; r < bootstrap; r++) reps[r] = errorConsistencyReplicate(c, kappaRng);
      kappaInterval = finiteInterval(reps);
    }
    return {
      teacher: input.teacher,
      student: input.student,
      set: s.set,
      n: c.n,
      top1Gap: c.n > 0 ? (c.onlyFirst - c.onlySecond) / c.n : NaN,
      interval: usable ? percentileInterval(replicates[i]!, INTERVAL_LEVEL) : null,
      mcnemarP: mcnemarExactP(c.onlyFirst, c.onlySecond),
      onlyTeacher: c.onlyFirst,
      onlyStudent: c.onlySecond,
      errorConsistency: { ...ec, interval: kappaInterval },
    };
  });

  const contamination: ContaminationMeasurement[] = [];
  const idx = (role: PairedSet['role']): number[] =>
    input.sets.flatMap((s, i) => (s.role === role && counts[i]!.n > 0 ? [i] : []));
  const ids = idx('id-test'),
    oods = idx('ood');
  if (ids.length > 0 && oods.length > 0) {
    const meanOf = (values: (i: number) => number, which: number[]): number =>
      which.reduce((a, i) => a + values(i), 0) / which.length;
    const point = (i: number): number => gaps[i]!.top1Gap;
    const estimate = meanOf(point, oods) - meanOf(point, ids);
    let interval: Interval | null = null;
    let idInterval: Interval | null = null;
    let oodInterval: Interval | null = null;
    if (bootstrap > 0) {
      const diff = new Float64Array(bootstrap);
      const idRep = new Float64Array(bootstrap);
      const oodRep = new Float64Array(bootstrap);
      for (let r = 0; r < bootstrap; r++) {
        const rep = (i: number): number => replicates[i]![r]!;
        idRep[r] = meanOf(rep, ids);
        oodRep[r] = meanOf(rep, oods);
        diff[r] = oodRep[r]! - idRep[r]!;
      }
      interval = percentileInterval(diff, INTERVAL_LEVEL);
      idInterval = percentileInterval(idRep, INTERVAL_LEVEL);
      oodInterval = percentileInterval(oodRep, INTERVAL_LEVEL);
    }
    contamination.push({
      teacher: input.teacher,
      student: input.student,
      estimate,
      interval,
      // The two terms of the estimate, from the same replicates (the headline table of many students shows them).
      idGap: { estimate: meanOf(point, ids), interval: idInterval },
      oodGap: { estimate: meanOf(point, oods), interval: oodInterval },
      idSets: ids.map((i) => input.sets[i]!.set),
      oodSets: oods.map((i) => input.sets[i]!.set),
    });
  }
  return { gaps, contamination, info: statisticsInfo(bootstrap, seed) };
}

/**
 * The percentile interval of the finite replicates; null when more than 1% are not finite (a kappa whose
 * expected agreement is 1 in a resample), since dropping many would bias the interval.
 */
function finiteInterval(reps: Float64Array): Interval | null {
  const finite = reps.filter((v) => Number.isFinite(v));
  return finite.length >= 0.99 * reps.length && finite.length > 0 ? percentileInterval(finite, INTERVAL_LEVEL) : null;
}

/** Two students' correctness on the same evaluation sets, row-aligned (checked by the caller). */
export interface ContrastInput {
  first: string;
  second: string;
  sets: { set: string; role: PairedSet['role']; first: Uint8Array; second: Uint8Array }[];
  bootstrap: number;
  seed: number;
}

/**
 * Which of two students is more contaminated: per set the difference of their gaps to the teacher (first's gap
 * minus second's, which is second's accuracy minus first's: the teacher cancels on the same images) with an exact
 * McNemar test between the two students, and the differences of their OOD-average gaps and of their
 * contamination estimates, with intervals from one paired bootstrap (both students scored on the same resampled
 * images of each set). A positive contamination difference: the first student is the more contaminated.
 * @throws FcprobeError MISMATCH when the two students did not score the same images of a set.
 */
export function computeStudentContrast(input: ContrastInput): StudentContrast {
  const { bootstrap } = input;
  const counts = input.sets.map((s) => {
    try {
      // Ordered (second, first): the paired difference is then second's accuracy minus first's.
      return pairedCounts(s.second, s.first);
    } catch (e) {
      if (e instanceof RangeError)
        throw new FcprobeError(
          'MISMATCH',
          `Set "${s.set}": students ${input.first} and ${input.second} cannot be paired (${e.message}).`,
        );
      throw e;
    }
  });
  const replicates = counts.map(() => new Float64Array(bootstrap));
  const rng = new Rng(input.seed);
  for (let r = 0; r < bootstrap; r++)
    for (let i = 0; i < counts.length; i++) replicates[i]![r] = pairedDifferenceReplicate(counts[i]!, rng);
  const perSet = input.sets.map((s, i) => {
    const c = counts[i]!;
    return {
      set: s.set,
      role: s.role,
      n: c.n,
      gapDifference: c.n > 0 ? (c.onlyFirst - c.onlySecond) / c.n : NaN,
      interval: bootstrap > 0 && c.n > 0 ? percentileInterval(replicates[i]!, INTERVAL_LEVEL) : null,
      mcnemarP: mcnemarExactP(c.onlyFirst, c.onlySecond),
      // Named from the students' side: images only the first student gets right, only the second.
      onlyFirst: c.onlySecond,
      onlySecond: c.onlyFirst,
    };
  });
  const which = (role: PairedSet['role']): number[] =>
    input.sets.flatMap((s, i) => (s.role === role && counts[i]!.n > 0 ? [i] : []));
  const ids = which('id-test'),
    oods = which('ood');
  const mean = (f: (i: number) => number, idx: number[]): number => idx.reduce((a, i) => a + f(i), 0) / idx.length;
  const summary = (point: (f: (i: number) => number) => number): { estimate: number; interval: Interval | null } => {
    const estimate = point((i) => perSet[i]!.gapDifference);
    if (bootstrap === 0) return { estimate, interval: null };
    const reps = new Float64Array(bootstrap);
    for (let r = 0; r < bootstrap; r++) reps[r] = point((i) => replicates[i]![r]!);
    return { estimate, interval: percentileInterval(reps, INTERVAL_LEVEL) };
  };
  return {
    first: input.first,
    second: input.second,
    perSet,
    oodGapDifference: oods.length > 0 ? summary((f) => mean(f, oods)) : null,
    contaminationDifference: oods.length > 0 && ids.length > 0 ? summary((f) => mean(f, oods) - mean(f, ids)) : null,
  };
}

/** One set's per-image vectors for the per-class gaps: both models' correctness and the row labels. */
export interface ClassGapInput {
  teacher: string;
  student: string;
  set: string;
  classes: readonly string[];
  /** Per row: the label in `classes` (-1 not scored). */
  labels: Int32Array;
  teacherCorrect: Uint8Array;
  studentCorrect: Uint8Array;
}

/**
 * Per class of a set: each model's top-1 on that class's images with its Clopper-Pearson interval, and the
 * teacher-minus-student gap; sorted by the gap, largest first (the classes that carry the set's gap on top).
 * Classes with no scored image are left out.
 */
export function computeClassGaps(input: ClassGapInput): ClassGapMeasurement {
  const k = input.classes.length;
  const n = new Int32Array(k),
    t = new Int32Array(k),
    s = new Int32Array(k);
  for (let i = 0; i < input.labels.length; i++) {
    const y = input.labels[i]!;
    if (y < 0) continue;
    n[y]!++;
    if (input.teacherCorrect[i] === 1) t[y]!++;
    if (input.studentCorrect[i] === 1) s[y]!++;
  }
  const classes = Array.from(input.classes, (name, c) => ({ c, name }))
    .filter(({ c }) => n[c]! > 0)
    .map(({ c, name }) => ({
      class: name,
      n: n[c]!,
      teacherTop1: t[c]! / n[c]!,
      teacherInterval: clopperPearson(t[c]!, n[c]!, INTERVAL_LEVEL),
      studentTop1: s[c]! / n[c]!,
      studentInterval: clopperPearson(s[c]!, n[c]!, INTERVAL_LEVEL),
      gap: (t[c]! - s[c]!) / n[c]!,
    }))
    .sort((a, b) => b.gap - a.gap || a.class.localeCompare(b.class));
  return { teacher: input.teacher, student: input.student, set: input.set, classes };
}
