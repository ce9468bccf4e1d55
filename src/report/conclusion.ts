/**
 * The demo's closing sentences: what its runs found, in three or four plain sentences computed from the
 * results (pure: same results, same words). A run compares the teacher with one or more students.
 *
 * Intervals are used when the results carry them (`gaps[].interval`, `contamination[].interval`); results
 * without them say "no interval computed" instead of implying a precision they do not have.
 */
import type { ModelRole, SetRole } from '../experiment/types.js';

/** A 95% interval, fractions. */
export interface IntervalLike {
  low: number;
  high: number;
}

/** The parts of `RunResults` the sentences read; older and newer results files both fit. */
export interface ConclusionResults {
  models: { role: ModelRole; name: string }[];
  /** `found: false`: a suite's set that was not found (no numbers; left out of the sentences). */
  sets: { name: string; role: SetRole; found?: boolean }[];
  accuracy: { model: string; set: string; top1: number }[];
  /** `student` names the student compared with the teacher (absent in single-student results of format 2). */
  representationFit: { set: string; student?: string; fit: { cka: number } }[];
  gaps?: { student: string; set: string; top1Gap: number; interval: IntervalLike | null }[];
  contamination?: { student: string; estimate: number; interval: IntervalLike | null }[];
}

export interface ConclusionRun {
  results: ConclusionResults;
  /** Path of the run's HTML report; null when none was written. */
  htmlReport: string | null;
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
// A no-break space keeps a number with its unit (and an interval whole) when the sentence is wrapped.
const pp = (x: number): string => `${x >= 0 ? '+' : '-'}${Math.abs(100 * x).toFixed(1)}\u00a0pp`;
const ppInterval = (i: IntervalLike): string =>
  `[${(100 * i.low).toFixed(1)},\u00a0${(100 * i.high).toFixed(1)}]\u00a0pp`;

interface RunFacts {
  student: string;
  teacher: string;
  idSet: string;
  idCka: number;
  idTeacher: number;
  idStudent: number;
  ood: { set: string; cka: number; teacher: number; student: number; gap: number; interval: IntervalLike | null }[];
  contamination: { estimate: number; interval: IntervalLike | null } | null;
  htmlReport: string | null;
}

/** The facts of every student of a run. */
function factsOfRun(run: ConclusionRun): RunFacts[] {
  return run.results.models
    .filter((m) => m.role === 'student')
    .map((m) => facts(run, m.name))
    .filter((f): f is RunFacts => f !== null);
}

function facts(run: ConclusionRun, student: string): RunFacts | null {
  const r = run.results;
  const teacher = r.models.find((m) => m.role === 'teacher')?.name;
  const sets = r.sets.filter((s) => s.found !== false);
  const idSet = sets.find((s) => s.role === 'id-test')?.name;
  if (!teacher || !idSet) return null;
  const top1 = (model: string, set: string): number | undefined =>
    r.accuracy.find((a) => a.model === model && a.set === set)?.top1;
  const cka = (set: string): number | undefined =>
    r.representationFit.find((f) => f.set === set && (f.student === undefined || f.student === student))?.fit.cka;
  const idCka = cka(idSet);
  const idTeacher = top1(teacher, idSet);
  const idStudent = top1(student, idSet);
  if (idCka === undefined || idTeacher === undefined || idStudent === undefined) return null;
  const ood: RunFacts['ood'] = [];
  for (const s of sets.filter((x) => x.role === 'ood')) {
    const t = top1(teacher, s.name);
    const st = top1(student, s.name);
    const c = cka(s.name);
    if (t === undefined || st === undefined || c === undefined) continue;
    const g = r.gaps?.find((x) => x.student === student && x.set === s.name);
    ood.push({
      set: s.name,
      cka: c,
      teacher: t,
      student: st,
      gap: g ? g.top1Gap : t - st,
      interval: g?.interval ?? null,
    });
  }
  const c = r.contamination?.find((x) => x.student === student);
  return {
    student,
    teacher,
    idSet,
    idCka,
    idTeacher,
    idStudent,
    ood,
    contamination: c ? { estimate: c.estimate, interval: c.interval } : null,
    htmlReport: run.htmlReport,
  };
}

/** Whether the change is outside its interval, in one sentence; says so when no interval was computed. */
function intervalSentence(subject: string, estimate: number, interval: IntervalLike | null): string {
  if (!interval)
    return (
      `${subject} is ${pp(estimate)}; no interval computed, so this run does not say whether it ` +
      `exceeds sampling noise.`
    );
  const excludes = interval.low > 0 || interval.high < 0;
  return `${subject} is ${pp(estimate)}, 95% interval ${ppInterval(interval)}, which ${
    excludes
      ? 'excludes zero: the change is larger than sampling noise'
      : 'includes zero: on this sample the change cannot be told apart from noise'
  }.`;
}

/**
 * Three or four sentences for the runs of the demo (every student of every run): which student fits the teacher best in
 * distribution (highest linear CKA on the ID test set), how its fit and top-1 accuracy change on the OOD set
 * where it loses most against the teacher, whether that change lies outside its interval, and where the HTML
 * report is. Returns [] when no run has a teacher, a student and an ID test set.
 */
export function conclusionSentences(runs: ConclusionRun[]): string[] {
  const all = runs.flatMap(factsOfRun);
  if (all.length === 0) return [];
  const best = all.reduce((a, b) => (b.idCka > a.idCka ? b : a));
  const others = all.filter((f) => f !== best);
  const out: string[] = [];
  const idGap = best.idTeacher - best.idStudent;
  out.push(
    `In distribution (${best.idSet}), ${best.student} fits ${best.teacher} most closely: linear CKA ` +
      `${best.idCka.toFixed(3)}` +
      (others.length ? ` (${others.map((o) => `${o.student} ${o.idCka.toFixed(3)}`).join(', ')})` : '') +
      `, top-1 ${pct(best.idStudent)} against the teacher's ${pct(best.idTeacher)} (gap ${pp(idGap)}).`,
  );
  if (best.ood.length === 0) {
    out.push('No OOD set was evaluated, so how the fit changes out of distribution is not measured.');
  } else {
    const worst = best.ood.reduce((a, b) => (b.gap > a.gap ? b : a));
    out.push(
      `Out of distribution (${worst.set}) its CKA goes from ${best.idCka.toFixed(3)} to ${worst.cka.toFixed(3)} and ` +
        `its top-1 to ${pct(worst.student)} against the teacher's ${pct(worst.teacher)}: a gap of ${pp(worst.gap)}, ` +
        `${worst.gap > idGap ? 'wider' : 'not wider'} than the ${pp(idGap)} in distribution.`,
    );
    // The change is the OOD gap beyond the ID gap: feature contamination when the results carry it.
    const c = best.contamination;
    out.push(
      c && (c.interval || !worst.interval)
        ? intervalSentence('Feature contamination (OOD gap minus ID gap, OOD sets averaged)', c.estimate, c.interval)
        : intervalSentence(`The ${worst.set} gap`, worst.gap, worst.interval),
    );
  }
  const reports = [...new Set(all.map((f) => f.htmlReport).filter((p): p is string => p !== null))];
  const main = best.htmlReport ?? reports[0];
  const rest = reports.filter((p) => p !== main);
  if (main) out.push(`HTML report: ${main}${rest.length ? ` (other students: ${rest.join(', ')})` : ''}.`);
  return out;
}
