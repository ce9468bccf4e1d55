/** The many-student tables of the report (terminal, Markdown and HTML share them): see students.ts. */
import type { ClassGapMeasurement, EstimateWithInterval, SetRole } from '../experiment/types.js';
import { ci, fixed, pct, pp, pValue } from './format.js';
import type { StudentsSection } from './students.js';
import type { Table } from './tables.js';

const withCi = (e: EstimateWithInterval | null): string =>
  e ? `${pp(e.estimate, 1)} ${e.interval ? ci(e.interval, 1, true) : ''}`.trim() : '-';

/** One row per student: the headline of a run (teacher - student, percentage points, 95% intervals). */
export function studentsTable(s: StudentsSection): Table {
  return {
    headers: [
      'student',
      'ID gap [95%]',
      'OOD gap [95%]',
      'contamination [95%]',
      'McNemar p (ID; OOD sets)',
      'CKA ID / OOD',
      'debiased CKA ID / OOD',
    ],
    rows: s.rows.map((x) => {
      const ps = (role: SetRole): string =>
        x.mcnemar
          .filter((m) => (role === 'ood' ? m.role === 'ood' : m.role !== 'ood'))
          .map((m) => pValue(m.p))
          .join(', ') || '-';
      return [
        x.student,
        withCi(x.idGap),
        withCi(x.oodGap),
        withCi(x.contamination),
        `${ps('id-test')}; ${ps('ood')}`,
        `${fixed(x.cka.id, 3)} / ${fixed(x.cka.ood, 3)}`,
        `${fixed(x.cka.idDebiased, 3)} / ${fixed(x.cka.oodDebiased, 3)}`,
      ];
    }),
    align: ['l', 'r', 'r', 'r', 'l', 'r', 'r'],
  };
}

/** Student vs student: differences first minus second (pp), paired intervals, McNemar between the two. */
export function contrastsTable(s: StudentsSection): Table | null {
  if (s.contrasts.length === 0) return null;
  return {
    headers: ['first - second', 'OOD gap diff [95%]', 'contamination diff [95%]', 'per set: gap diff, McNemar p'],
    rows: s.contrasts.map((c) => [
      `${c.first} - ${c.second}`,
      withCi(c.oodGapDifference),
      withCi(c.contaminationDifference),
      c.perSet.map((p) => `${p.set} ${pp(p.gapDifference, 1)} (p ${pValue(p.mcnemarP)})`).join('; '),
    ]),
    align: ['l', 'r', 'r', 'l'],
    notes: [
      'A positive difference: the first student is further from the teacher. Both students are scored on the same ' +
        'resampled images (paired bootstrap); an interval that excludes 0 resolves which student is more contaminated.',
    ],
  };
}

/** Cohen's kappa of teacher and student per-image correctness, per set (Geirhos et al. 2020). */
export function kappaTable(s: StudentsSection): Table | null {
  if (s.kappa.length === 0) return null;
  const sets = [...new Set(s.kappa.map((k) => k.set))];
  const students = [...new Set(s.kappa.map((k) => k.student))];
  return {
    headers: ['student', ...sets.map((x) => `${x} kappa [95%]`)],
    rows: students.map((st) => [
      st,
      ...sets.map((set) => {
        const k = s.kappa.find((x) => x.student === st && x.set === set);
        if (!k) return '-';
        const iv = k.interval ? ` [${fixed(k.interval.low, 2)}, ${fixed(k.interval.high, 2)}]` : '';
        return `${fixed(k.kappa, 2)}${iv}`;
      }),
    ]),
    align: ['l', ...sets.map((): 'r' => 'r')],
    notes: [
      'Error consistency: 1 = a student fails on the images the teacher fails on (and more), 0 = its failures are ' +
        "independent of the teacher's at these accuracies.",
    ],
  };
}

/** Per OOD set and student: the classes with the largest and the smallest gap, with per-model intervals. */
export function classGapsTable(s: StudentsSection): Table | null {
  if (s.classGaps.length === 0) return null;
  const row = (st: string, set: string, end: string, c: ClassGapMeasurement['classes'][number]): string[] => [
    st,
    set,
    end,
    c.class,
    String(c.n),
    `${pct(c.teacherTop1, 1)} ${ci(c.teacherInterval, 1)}`,
    `${pct(c.studentTop1, 1)} ${ci(c.studentInterval, 1)}`,
    pp(c.gap, 1),
  ];
  return {
    headers: ['student', 'set', 'end', 'class', 'n', 'teacher top-1 [95%]', 'student top-1 [95%]', 'gap (pp)'],
    rows: s.classGaps.flatMap((g) => [
      ...g.top.map((c) => row(g.student, g.set, 'largest', c)),
      ...g.bottom.map((c) => row(g.student, g.set, 'smallest', c)),
    ]),
    align: ['l', 'l', 'l', 'l', 'r', 'r', 'r', 'r'],
    notes: ['Every class of every set, with its counts: class-gaps.csv beside the report.'],
  };
}
