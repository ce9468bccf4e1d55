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
import type { ContaminationMeasurement, GapMeasurement, SetRole, StatisticsInfo } from './types.js';
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

  const gaps: GapMeasurement[] = input.sets.map((s, i) => {
    const c = counts[i]!;
    const usable = bootstrap > 0 && c.n > 0;
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
    if (bootstrap > 0) {
      const diff = new Float64Array(bootstrap);
      for (let r = 0; r < bootstrap; r++) {
        const rep = (i: number): number => replicates[i]![r]!;
        diff[r] = meanOf(rep, oods) - meanOf(rep, ids);
      }
      interval = percentileInterval(diff, INTERVAL_LEVEL);
    }
    contamination.push({
      teacher: input.teacher,
      student: input.student,
      estimate,
      interval,
      idSets: ids.map((i) => input.sets[i]!.set),
      oodSets: oods.map((i) => input.sets[i]!.set),
    });
  }
  return { gaps, contamination, info: statisticsInfo(bootstrap, seed) };
}
