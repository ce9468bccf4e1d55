import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildReport } from '../../src/report/build.js';
import { FcprobeError } from '../../src/errors.js';
import type { RunResults } from '../../src/report/types.js';
import { sampleResults } from './fixtures.js';
import { accuracyInterval } from '../../src/experiment/statistics.js';

const s = (z: number): number => 1 / (1 + Math.exp(-z));
const close = (a: number | null | undefined, b: number, tol = 1e-12): void =>
  assert.ok(typeof a === 'number' && Math.abs(a - b) < tol, `${a} vs ${b}`);

function small(): RunResults {
  const r = sampleResults();
  r.sets = [
    { name: 'B', role: 'ood', path: 'b', n: 20 },
    { name: 'train', role: 'id-train', path: 't', n: 100 },
    { name: 'val', role: 'id-test', path: 'v', n: 50 },
    { name: 'A', role: 'ood', path: 'a', n: 40 },
  ];
  const acc = (model: string, set: string, top1: number, top5: number | null = null) => ({
    model,
    set,
    n: 10,
    top1,
    top1Interval: accuracyInterval(top1, 10),
    classes: 10,
    top5,
  });
  r.accuracy = [
    acc('clip-rn50', 'train', 0.9),
    acc('distilled-rn50', 'train', 0.95),
    acc('clip-rn50', 'val', 0.8, 0.95),
    acc('distilled-rn50', 'val', 0.7, 0.9),
    acc('clip-rn50', 'A', 0.5),
    acc('distilled-rn50', 'A', 0.4),
    acc('clip-rn50', 'B', 0.3),
    acc('distilled-rn50', 'B', 0.1),
  ];
  r.representationFit = [];
  r.baselines = [
    {
      against: 'ood-average',
      label: 'hand',
      points: [
        { id: s(0), ood: s(-1) },
        { id: s(1), ood: s(-0.3) },
        { id: s(2), ood: s(0) },
      ],
    },
    {
      against: 'B',
      points: [
        { id: s(0), ood: s(-1) },
        { id: s(1), ood: s(-0.3) },
        { id: s(2), ood: s(0) },
      ],
    },
  ];
  return r;
}

test('ID accuracy, OOD average and gaps from hand-made accuracies', () => {
  const r = buildReport(small());
  assert.deepEqual(
    r.perSet.map((x) => x.set),
    ['train', 'val', 'B', 'A'],
    'ID train, ID test, then OOD in config order',
  );
  close(r.summary.id.teacher, 0.8);
  close(r.summary.id.student, 0.7);
  close(r.summary.id.gap, 0.1);
  close(r.summary.oodAverage?.teacher, 0.4);
  close(r.summary.oodAverage?.student, 0.25);
  close(r.summary.oodAverage?.gap, 0.15);
  assert.deepEqual(r.summary.oodSets, ['B', 'A']);
  const byName = new Map(r.perSet.map((x) => [x.set, x]));
  close(byName.get('B')!.gapTop1, 0.2);
  close(byName.get('train')!.gapTop1, -0.05);
  close(byName.get('val')!.gapTop5, 0.05);
  assert.equal(byName.get('A')!.gapTop5, null, 'top-5 gap is null when top-5 was not measured');
  assert.equal(r.teacher, 'clip-rn50');
  assert.deepEqual(
    r.models.map((m) => m.role),
    ['teacher', 'student'],
  );
});

test('effective robustness against the OOD average and against one set', () => {
  const r = buildReport(small());
  assert.equal(r.effectiveRobustness.status, 'computed');
  if (r.effectiveRobustness.status !== 'computed') return;
  const [avg, setB] = r.effectiveRobustness.entries;
  close(avg!.fit.slope, 0.5, 1e-9);
  close(avg!.fit.intercept, -14 / 15, 1e-9);
  // Teacher: ID 0.8 -> beta = 1 / (1 + e^(14/15) / 2) (see the core test); OOD average 0.4.
  const betaT = 1 / (1 + Math.exp(14 / 15) / 2);
  close(avg!.models[0]!.predictedOod, betaT, 1e-9);
  close(avg!.models[0]!.rho, 0.4 - betaT, 1e-9);
  // Student: ID 0.7, logit = ln(7/3); beta = sigmoid(0.5 ln(7/3) - 14/15); OOD average 0.25.
  const betaS = 1 / (1 + Math.exp(14 / 15) / Math.sqrt(7 / 3));
  close(avg!.models[1]!.rho, 0.25 - betaS, 1e-9);
  assert.equal(setB!.against, 'B');
  assert.equal(setB!.label, 'baseline 2');
  close(setB!.models[0]!.oodAccuracy, 0.3);
  close(setB!.models[1]!.rho, 0.1 - betaS, 1e-9);
});

test('no baselines: the section is omitted with a note', () => {
  const input = small();
  input.baselines = null;
  const r = buildReport(input);
  assert.equal(r.effectiveRobustness.status, 'omitted');
  if (r.effectiveRobustness.status === 'omitted') assert.match(r.effectiveRobustness.note, /No baseline/);
});

test('bad baselines are config errors that name the problem', () => {
  const input = small();
  input.baselines = [
    {
      against: 'ImageNet-Z',
      label: 'x',
      points: [
        { id: 0.5, ood: 0.3 },
        { id: 0.6, ood: 0.4 },
      ],
    },
  ];
  assert.throws(
    () => buildReport(input),
    (e: unknown) =>
      e instanceof FcprobeError &&
      e.code === 'BAD_CONFIG' &&
      /"ImageNet-Z"/.test(e.message) &&
      /"B", "A"/.test(e.hint ?? ''),
  );
  input.baselines = [
    {
      against: 'ood-average',
      label: 'pct',
      points: [
        { id: 76, ood: 30 },
        { id: 0.6, ood: 0.4 },
      ],
    },
  ];
  assert.throws(() => buildReport(input), /baseline "pct": point 0: id accuracy .*percentages must be divided by 100/);
});

test('the sample run: OOD average over five sets, notes for masked scoring, representation-fit means', () => {
  const r = buildReport(sampleResults());
  close(r.summary.id.teacher, 0.733);
  close(r.summary.oodAverage?.teacher, (0.62 + 0.601 + 0.352 + 0.226 + 0.415) / 5, 1e-12);
  close(r.summary.oodAverage?.student, (0.591 + 0.385 + 0.24 + 0.061 + 0.287) / 5, 1e-12);
  close(r.summary.oodAverage?.gap, 0.13, 1e-12);
  assert.ok(r.notes.some((n) => n.includes('ImageNet-R') && n.includes('masked')));
  close(r.representationFit.idTest?.cka, 0.912);
  close(r.representationFit.ood?.cka, (0.893 + 0.712 + 0.681 + 0.623 + 0.741) / 5, 1e-12);
  close(r.representationFit.ood?.cosine, (0.921 + 0.764 + 0.722 + 0.701 + 0.789) / 5, 1e-12);
});

test('a run without a teacher, or without an ID test set, is refused', () => {
  const noTeacher = small();
  noTeacher.models = noTeacher.models.filter((m) => m.role !== 'teacher');
  assert.throws(() => buildReport(noTeacher), /exactly one teacher/);
  const noId = small();
  noId.sets = noId.sets.filter((x) => x.role !== 'id-test');
  noId.accuracy = noId.accuracy.filter((a) => a.set !== 'val');
  assert.throws(() => buildReport(noId), /no ID test set/);
});
