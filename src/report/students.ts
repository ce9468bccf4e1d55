/**
 * The report's many-student view, built purely from results.json: one headline row per student (ID gap, OOD
 * gap, contamination, each with its interval, McNemar p, CKA), the best and worst student by contamination,
 * the paired student-vs-student contrasts, error consistency, and the classes that carry each OOD gap. Every
 * student is treated alike: nothing here is "the student".
 */
import {
  isFoundSet,
  type ClassGapMeasurement,
  type EstimateWithInterval,
  type RunResults,
  type SetRole,
  type StudentContrast,
} from '../experiment/types.js';

export interface StudentRow {
  student: string;
  idGap: EstimateWithInterval | null;
  oodGap: EstimateWithInterval | null;
  contamination: EstimateWithInterval | null;
  /** McNemar p of the gap on each evaluation set, ID test first. */
  mcnemar: { set: string; role: SetRole; p: number }[];
  /** Mean linear / debiased CKA to the teacher over the ID test sets and over the OOD sets. */
  cka: { id: number | null; ood: number | null; idDebiased: number | null; oodDebiased: number | null };
}

export interface KappaRow {
  student: string;
  set: string;
  role: SetRole;
  kappa: number;
  interval: { low: number; high: number } | null;
}

export interface StudentsSection {
  rows: StudentRow[];
  /** Lowest and highest contamination estimate (null with fewer than two students with one). */
  best: string | null;
  worst: string | null;
  contrasts: StudentContrast[];
  kappa: KappaRow[];
  /** Per (student, OOD set): the `CLASS_ROWS` classes with the largest and the smallest gap. */
  classGaps: {
    student: string;
    set: string;
    top: ClassGapMeasurement['classes'];
    bottom: ClassGapMeasurement['classes'];
  }[];
}

/** Classes shown at each end of a set's ranking in the report (class-gaps.csv has all of them). */
export const CLASS_ROWS = 3;

const meanOf = (xs: number[]): number | null =>
  xs.length === 0 || xs.some((x) => !Number.isFinite(x)) ? null : xs.reduce((a, b) => a + b, 0) / xs.length;

/** See the module comment. */
export function buildStudentsSection(r: RunResults): StudentsSection {
  const roles = new Map(r.sets.filter(isFoundSet).map((s) => [s.name, s.role]));
  const students = r.models.filter((m) => m.role === 'student').map((m) => m.name);
  const rows = students.map((student): StudentRow => {
    const c = r.contamination.find((x) => x.student === student);
    const gaps = r.gaps.filter((g) => g.student === student);
    const fit = (role: SetRole, debiased: boolean): number | null =>
      meanOf(
        r.representationFit
          .filter((f) => (f.student ?? students[0]) === student && roles.get(f.set) === role)
          .map((f) => (debiased ? f.linearCkaDebiased : f.linearCka)),
      );
    const single = (role: SetRole): EstimateWithInterval | null => {
      const gs = gaps.filter((g) => roles.get(g.set) === role);
      return gs.length === 1 ? { estimate: gs[0]!.top1Gap, interval: gs[0]!.interval } : null;
    };
    const byRole = (g: { set: string }): number => (roles.get(g.set) === 'id-test' ? 0 : 1);
    return {
      student,
      idGap: c?.idGap ?? single('id-test'),
      oodGap: c?.oodGap ?? single('ood'),
      contamination: c ? { estimate: c.estimate, interval: c.interval } : null,
      mcnemar: [...gaps]
        .sort((a, b) => byRole(a) - byRole(b))
        .map((g) => ({ set: g.set, role: roles.get(g.set) ?? 'ood', p: g.mcnemarP })),
      cka: {
        id: fit('id-test', false),
        ood: fit('ood', false),
        idDebiased: fit('id-test', true),
        oodDebiased: fit('ood', true),
      },
    };
  });
  const ranked = rows
    .filter((x) => x.contamination && Number.isFinite(x.contamination.estimate))
    .sort((a, b) => a.contamination!.estimate - b.contamination!.estimate);
  const kappa = r.gaps.flatMap((g): KappaRow[] =>
    g.errorConsistency
      ? [
          {
            student: g.student,
            set: g.set,
            role: roles.get(g.set) ?? 'ood',
            kappa: g.errorConsistency.kappa,
            interval: g.errorConsistency.interval,
          },
        ]
      : [],
  );
  const classGaps = (r.classGaps ?? [])
    .filter((g) => roles.get(g.set) === 'ood')
    .map((g) => {
      const top = g.classes.slice(0, CLASS_ROWS);
      const rest = g.classes.slice(top.length);
      return { student: g.student, set: g.set, top, bottom: rest.slice(-CLASS_ROWS) };
    });
  return {
    rows,
    best: ranked.length >= 2 ? ranked[0]!.student : null,
    worst: ranked.length >= 2 ? ranked[ranked.length - 1]!.student : null,
    contrasts: r.studentContrasts ?? [],
    kappa,
    classGaps,
  };
}

/**
 * The best/worst sentence with what decides it: the two are ranked by point estimate, and their paired
 * contamination difference (most minus least, pp, its 95% bootstrap interval) says whether the order is
 * resolved. A ranking by two point estimates alone reads as a finding when it may be noise (CIFAR-10 example:
 * +2.1 vs +2.2 pp, difference +0.1 [-0.3, +0.5]). Null with fewer than two ranked students.
 */
export function rankingSentence(p: StudentsSection): string | null {
  const verdict = rankingVerdict(p);
  if (!p.best || !p.worst || !verdict) return null;
  return `Least contaminated: ${p.best}; most contaminated: ${p.worst} (point estimates); ${verdict}`;
}

/** rankingSentence's second half: the paired difference of the two and whether it resolves their order. */
export function rankingVerdict(p: StudentsSection): string | null {
  if (!p.best || !p.worst) return null;
  const c = p.contrasts.find(
    (x) => (x.first === p.worst && x.second === p.best) || (x.first === p.best && x.second === p.worst),
  );
  const d = c?.contaminationDifference;
  if (!c || !d) return 'no paired contrast between them was measured.';
  // Most minus least: flip the contrast when it was stored the other way round.
  const flip = c.first === p.best;
  const est = (flip ? -d.estimate : d.estimate) * 100;
  const signed = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;
  const iv = d.interval;
  if (!iv) return `their paired contamination difference ${signed(est)} pp has no interval.`;
  const lo = (flip ? -iv.high : iv.low) * 100;
  const hi = (flip ? -iv.low : iv.high) * 100;
  return (
    `their paired contamination difference ${signed(est)} pp, 95% interval [${signed(lo)}, ${signed(hi)}], ` +
    (lo > 0
      ? 'excludes 0: the order is resolved.'
      : hi < 0
        ? 'lies below 0: the resampled images do not support the order of the point estimates.'
        : 'contains 0: the order is not resolved at this n.')
  );
}
