import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ConclusionResults, type ConclusionRun, conclusionSentences as raw } from '../../src/report/conclusion.js';

/** The sentences with no-break spaces (which keep "6.0 pp" and an interval whole when wrapped) as spaces. */
const conclusionSentences = (runs: ConclusionRun[]): string[] => raw(runs).map((s) => s.replace(/\u00a0/g, ' '));

/** Teacher vs one student on train / test / two OOD sets; accuracies given as [teacher, student] per set. */
function run(
  student: string,
  acc: Record<'test' | 'ood-a' | 'ood-b', [number, number]>,
  cka: Record<'test' | 'ood-a' | 'ood-b', number>,
  extra: Pick<ConclusionResults, 'gaps' | 'contamination'> = {},
): ConclusionResults {
  const sets = ['test', 'ood-a', 'ood-b'] as const;
  return {
    models: [
      { role: 'teacher', name: 'teacher' },
      { role: 'student', name: student },
    ],
    sets: [
      { name: 'train', role: 'id-train' },
      { name: 'test', role: 'id-test' },
      { name: 'ood-a', role: 'ood' },
      { name: 'ood-b', role: 'ood' },
    ],
    accuracy: sets.flatMap((s) => [
      { model: 'teacher', set: s, top1: acc[s][0] },
      { model: student, set: s, top1: acc[s][1] },
    ]),
    representationFit: sets.map((s) => ({ set: s, fit: { cka: cka[s] } })),
    ...extra,
  };
}

const relu = run(
  'student-relu',
  { test: [0.855, 0.855], 'ood-a': [0.85, 0.8417], 'ood-b': [0.8667, 0.8067] },
  { test: 0.9999, 'ood-a': 0.9945, 'ood-b': 0.9837 },
);
const linear = run(
  'student-linear',
  { test: [0.855, 0.902], 'ood-a': [0.85, 0.908], 'ood-b': [0.8667, 0.903] },
  { test: 0.906, 'ood-a': 0.901, 'ood-b': 0.903 },
);

describe('conclusionSentences', () => {
  it('names the closest student, its worst OOD set, and says when no interval was computed', () => {
    const s = conclusionSentences([
      { results: linear, htmlReport: '/w/student-linear/report.html' },
      { results: relu, htmlReport: '/w/student-relu/report.html' },
    ]);
    assert.deepEqual(s, [
      'In distribution (test), student-relu fits teacher most closely: linear CKA 1.000 (student-linear 0.906), ' +
        "top-1 85.5% against the teacher's 85.5% (gap +0.0 pp).",
      "Out of distribution (ood-b) its CKA goes from 1.000 to 0.984 and its top-1 to 80.7% against the teacher's " +
        '86.7%: a gap of +6.0 pp, wider than the +0.0 pp in distribution.',
      'The ood-b gap is +6.0 pp; no interval computed, so this run does not say whether it exceeds sampling noise.',
      'HTML report: /w/student-relu/report.html (other students: /w/student-linear/report.html).',
    ]);
  });

  it('reads every student of one run with several students (representation fit keyed by student)', () => {
    const both: ConclusionResults = {
      models: [...relu.models, { role: 'student', name: 'student-linear' }],
      sets: relu.sets,
      accuracy: [...relu.accuracy, ...linear.accuracy.filter((a) => a.model === 'student-linear')],
      representationFit: [
        ...linear.representationFit.map((f) => ({ ...f, student: 'student-linear' })),
        ...relu.representationFit.map((f) => ({ ...f, student: 'student-relu' })),
      ],
    };
    const separate = conclusionSentences([
      { results: linear, htmlReport: '/w/report.html' },
      { results: relu, htmlReport: '/w/report.html' },
    ]);
    assert.deepEqual(conclusionSentences([{ results: both, htmlReport: '/w/report.html' }]), separate);
    assert.equal(separate[3], 'HTML report: /w/report.html.');
  });

  it('uses the gap interval when there is one: excludes zero, includes zero', () => {
    const withGap = (low: number, high: number): ConclusionResults => ({
      ...relu,
      gaps: [
        { student: 'student-relu', set: 'ood-a', top1Gap: 0.0083, interval: { low: -0.01, high: 0.03 } },
        { student: 'student-relu', set: 'ood-b', top1Gap: 0.06, interval: { low, high } },
      ],
    });
    const out = conclusionSentences([{ results: withGap(0.031, 0.089), htmlReport: null }]);
    assert.equal(out.length, 3, 'no report sentence without a report');
    assert.equal(
      out[2],
      'The ood-b gap is +6.0 pp, 95% interval [3.1, 8.9] pp, which excludes zero: the change is larger than sampling ' +
        'noise.',
    );
    assert.match(
      conclusionSentences([{ results: withGap(-0.004, 0.12), htmlReport: null }])[2]!,
      /interval \[-0\.4, 12\.0\] pp, which includes zero: on this sample the change cannot be told apart from noise\.$/,
    );
  });

  it('keeps numbers with their unit and intervals whole for wrapping (no-break spaces)', () => {
    const r: ConclusionResults = {
      ...relu,
      gaps: [{ student: 'student-relu', set: 'ood-b', top1Gap: 0.06, interval: { low: 0.031, high: 0.089 } }],
    };
    assert.match(
      raw([{ results: r, htmlReport: null }])[2]!,
      /\+6\.0\u00a0pp, 95% interval \[3\.1,\u00a08\.9\]\u00a0pp/,
    );
  });

  it('prefers feature contamination (the change beyond the ID gap) when it carries an interval', () => {
    const r: ConclusionResults = {
      ...relu,
      gaps: [{ student: 'student-relu', set: 'ood-b', top1Gap: 0.06, interval: { low: 0.03, high: 0.09 } }],
      contamination: [{ student: 'student-relu', estimate: 0.0342, interval: { low: -0.002, high: 0.071 } }],
    };
    assert.equal(
      conclusionSentences([{ results: r, htmlReport: 'r.html' }])[2],
      'Feature contamination (OOD gap minus ID gap, OOD sets averaged) is +3.4 pp, 95% interval [-0.2, 7.1] pp, ' +
        'which includes zero: on this sample the change cannot be told apart from noise.',
    );
  });

  it('says a narrower OOD gap plainly, and handles results without OOD sets or without an ID test set', () => {
    const robust = run(
      'student-x',
      { test: [0.8, 0.7], 'ood-a': [0.8, 0.75], 'ood-b': [0.8, 0.78] },
      { test: 0.9, 'ood-a': 0.9, 'ood-b': 0.9 },
    );
    assert.match(
      conclusionSentences([{ results: robust, htmlReport: null }])[1]!,
      /\(ood-a\).*gap of \+5\.0 pp, not wider than the \+10\.0 pp/,
    );
    const noOod = { ...robust, sets: robust.sets.filter((s) => s.role !== 'ood') };
    assert.equal(
      conclusionSentences([{ results: noOod, htmlReport: null }])[1],
      'No OOD set was evaluated, so how the fit changes out of distribution is not measured.',
    );
    const noTest = { ...robust, sets: robust.sets.filter((s) => s.role !== 'id-test') };
    assert.deepEqual(conclusionSentences([{ results: noTest, htmlReport: null }]), []);
  });
});
