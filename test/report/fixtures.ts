/**
 * Hand-made results shaped like a real run (ImageNet ID, five OOD sets). The numbers are ILLUSTRATIVE, not
 * measurements: tests check the report's arithmetic on them and scripts/render-html.sh renders them.
 */
import type { AsymmetryDistribution } from '../../src/experiment/activationAsymmetry.js';
import type { RunResults, SetRole } from '../../src/report/types.js';
import { accuracyInterval, computeStatistics, type StatisticsOutput } from '../../src/experiment/statistics.js';

function dist(mean: number, spread: number): AsymmetryDistribution {
  return {
    mean,
    min: 0,
    p10: mean - 1.3 * spread,
    p25: mean - 0.7 * spread,
    median: mean - 0.1 * spread,
    p75: mean + 0.6 * spread,
    p90: mean + 1.4 * spread,
    max: Math.min(1, mean + 8 * spread),
  };
}

interface SetSpec {
  name: string;
  role: SetRole;
  n: number;
  t: [number, number];
  s: [number, number];
  cka: number;
  cos: number;
  scored?: number;
  scoring?: string;
  classes?: number;
}

const SETS: SetSpec[] = [
  {
    name: 'ImageNet train (subset)',
    role: 'id-train',
    n: 64000,
    t: [0.792, 0.941],
    s: [0.781, 0.935],
    cka: 0.934,
    cos: 0.951,
  },
  { name: 'ImageNet', role: 'id-test', n: 50000, t: [0.733, 0.915], s: [0.71, 0.901], cka: 0.912, cos: 0.936 },
  { name: 'ImageNet-V2', role: 'ood', n: 10000, t: [0.62, 0.851], s: [0.591, 0.83], cka: 0.893, cos: 0.921 },
  {
    name: 'ImageNet-R',
    role: 'ood',
    n: 30000,
    t: [0.601, 0.792],
    s: [0.385, 0.601],
    cka: 0.712,
    cos: 0.764,
    scoring: 'masked to the 200 ImageNet-R classes',
    classes: 200,
  },
  { name: 'ImageNet-Sketch', role: 'ood', n: 50889, t: [0.352, 0.598], s: [0.24, 0.452], cka: 0.681, cos: 0.722 },
  {
    name: 'ImageNet-A',
    role: 'ood',
    n: 7500,
    t: [0.226, 0.512],
    s: [0.061, 0.215],
    cka: 0.623,
    cos: 0.701,
    scoring: 'masked to the 200 ImageNet-A classes',
    classes: 200,
  },
  {
    name: 'ObjectNet',
    role: 'ood',
    n: 50000,
    scored: 18574,
    t: [0.415, 0.652],
    s: [0.287, 0.512],
    cka: 0.741,
    cos: 0.789,
    scoring: 'max over mapped ImageNet classes; 113 of 313 classes scored',
    classes: 113,
  },
];

/**
 * Per-image correctness with the sets' accuracies: the teacher right on its first k_t images, the student on
 * k_s images starting 10% in, so the two disagree on some images both ways. The statistics are computed by the
 * real code (a small bootstrap), once per process.
 */
let statsMemo: StatisticsOutput | null = null;
function sampleStatistics(): StatisticsOutput {
  statsMemo ??= computeStatistics({
    teacher: 'clip-rn50',
    student: 'distilled-rn50',
    sets: SETS.filter((s) => s.role !== 'id-train').map((s) => {
      const n = s.scored ?? s.n;
      const teacher = new Uint8Array(n),
        student = new Uint8Array(n);
      teacher.fill(1, 0, Math.round(s.t[0] * n));
      const d = Math.round(0.1 * n);
      student.fill(1, d, d + Math.round(s.s[0] * n));
      return { set: s.name, role: s.role as 'id-test' | 'ood', teacher, student };
    }),
    bootstrap: 100,
    seed: 0,
  });
  return statsMemo;
}

export function sampleResults(): RunResults {
  const models = [
    {
      role: 'teacher' as const,
      name: 'clip-rn50',
      path: 'models/clip_rn50_visual.onnx',
      sha256: 'a3f1c9e2'.repeat(8),
      featureDim: 1024,
      preset: 'clip',
      output: 'embedding',
      pool: 'none',
    },
    {
      role: 'student' as const,
      name: 'distilled-rn50',
      path: 'models/student_rn50.onnx',
      sha256: '5b7d02c4'.repeat(8),
      featureDim: 1024,
      preset: 'clip',
      output: 'embedding',
      pool: 'none',
    },
  ];
  return {
    format: 'fcprobe-results',
    formatVersion: 2,
    fcprobeVersion: '0.1.0',
    createdAt: '2024-06-01T12:00:00.000Z',
    config: {
      teacher: { path: 'models/clip_rn50_visual.onnx', preset: 'clip' },
      student: { path: 'models/student_rn50.onnx', preset: 'clip' },
      train: 'data/imagenet/train-subset',
      probe: { C: 'sweep', solver: 'lbfgs' },
      workDir: 'work/rn50',
    },
    machine: {
      platform: 'linux',
      arch: 'x64',
      cpuModel: 'Example CPU @ 2.0GHz',
      cpus: 2,
      memoryGiB: 7.8,
      node: '20.20.2',
      executionProviders: ['cpu'],
    },
    models,
    sets: SETS.map((s) => ({
      found: true as const,
      name: s.name,
      role: s.role,
      path: `data/${s.name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`,
      n: s.n,
    })),
    accuracy: SETS.flatMap((s) => [
      {
        model: 'clip-rn50',
        set: s.name,
        n: s.scored ?? s.n,
        top1: s.t[0],
        top1Interval: accuracyInterval(s.t[0], s.scored ?? s.n),
        classes: s.classes ?? 1000,
        top5: s.t[1],
        ...(s.scoring ? { scoring: s.scoring } : {}),
      },
      {
        model: 'distilled-rn50',
        set: s.name,
        n: s.scored ?? s.n,
        top1: s.s[0],
        top1Interval: accuracyInterval(s.s[0], s.scored ?? s.n),
        classes: s.classes ?? 1000,
        top5: s.s[1],
        ...(s.scoring ? { scoring: s.scoring } : {}),
      },
    ]),
    probes: [
      { model: 'clip-rn50', C: 0.316, solver: 'lbfgs', details: { iterations: 412, sweep: '1e-3..1e3' } },
      { model: 'distilled-rn50', C: 1, solver: 'lbfgs', details: { iterations: 388, sweep: '1e-3..1e3' } },
    ],
    gaps: sampleStatistics().gaps,
    contamination: sampleStatistics().contamination,
    statistics: sampleStatistics().info,
    representationFit: SETS.map((s) => ({
      student: 'distilled-rn50',
      set: s.name,
      linearCka: s.cka,
      linearCkaDebiased: s.cka - 0.01,
      fit: {
        n: s.n,
        teacherDim: 1024,
        studentDim: 1024,
        cka: s.cka,
        ckaDebiased: s.cka - 0.01,
        cosine: {
          n: s.n,
          zeroRows: 0,
          mean: s.cos,
          std: 0.06,
          p10: s.cos - 0.08,
          median: s.cos + 0.01,
          // At most max: a cosine is at most 1, and results.json with one above is refused as damaged.
          p90: Math.min(s.cos + 0.05, 0.99),
          min: s.cos - 0.4,
          max: 0.995,
        },
        notes: [],
      },
    })),
    asymmetry: [
      {
        model: 'clip-rn50',
        set: 'ImageNet train (subset)',
        result: {
          applicable: true,
          classes: 1000,
          examples: 64000,
          neurons: 1024,
          deadNeurons: 3,
          normalized: dist(0.031, 0.012),
          raw: dist(0.032, 0.012),
          thresholds: [0.1, 0.25, 0.5],
          shareAbove: [0.021, 0.004, 0.001],
        },
      },
      {
        model: 'distilled-rn50',
        set: 'ImageNet train (subset)',
        result: {
          applicable: true,
          classes: 1000,
          examples: 64000,
          neurons: 1024,
          deadNeurons: 11,
          normalized: dist(0.047, 0.019),
          raw: dist(0.048, 0.019),
          thresholds: [0.1, 0.25, 0.5],
          shareAbove: [0.058, 0.012, 0.002],
        },
      },
    ],
    baselines: [
      {
        against: 'ood-average',
        label: 'Illustrative baseline (made-up points)',
        points: [
          { name: 'A', id: 0.6, ood: 0.262 },
          { name: 'B', id: 0.65, ood: 0.301 },
          { name: 'C', id: 0.7, ood: 0.338 },
          { name: 'D', id: 0.72, ood: 0.352 },
          { name: 'E', id: 0.76, ood: 0.389 },
          { name: 'F', id: 0.8, ood: 0.431 },
        ],
      },
    ],
    timings: [
      { stage: 'extract', seconds: 1834.2 },
      { stage: 'probe', seconds: 212.7 },
      { stage: 'diagnostics', seconds: 41.3 },
      { stage: 'report', seconds: 0.2 },
    ],
  };
}

/**
 * Extra students of manyStudentResults: each set's top-1 moved by `id` on the ID sets and by `ood` on the OOD
 * sets from distilled-rn50's, so the three students differ in contamination (b most, c least).
 */
const MORE_STUDENTS = [
  { name: 'student-b', id: -0.01, ood: -0.04, cka: -0.05 },
  { name: 'student-c', id: 0.01, ood: 0.015, cka: 0.02 },
];

/**
 * sampleResults with three students (distilled-rn50, student-b, student-c): each extra student's accuracies,
 * gaps, contamination and intervals computed by the real statistics code from per-image correctness built as in
 * sampleStatistics, so every number of the report has its interval.
 */
export function manyStudentResults(): RunResults {
  const r = sampleResults();
  const first = r.models.find((m) => m.name === 'distilled-rn50')!;
  for (const [k, x] of MORE_STUDENTS.entries()) {
    r.models.push({ ...first, name: x.name, path: `models/${x.name}.onnx`, sha256: String(k + 1).repeat(64) });
    const top1 = (s: SetSpec): number => Math.round((s.s[0] + (s.role === 'ood' ? x.ood : x.id)) * 1000) / 1000;
    for (const s of SETS)
      r.accuracy.push({
        model: x.name,
        set: s.name,
        n: s.scored ?? s.n,
        top1: top1(s),
        top1Interval: accuracyInterval(top1(s), s.scored ?? s.n),
        classes: s.classes ?? 1000,
        top5: s.s[1],
        ...(s.scoring ? { scoring: s.scoring } : {}),
      });
    const stats = computeStatistics({
      teacher: 'clip-rn50',
      student: x.name,
      sets: SETS.filter((s) => s.role !== 'id-train').map((s) => {
        const n = s.scored ?? s.n;
        const teacher = new Uint8Array(n),
          student = new Uint8Array(n);
        teacher.fill(1, 0, Math.round(s.t[0] * n));
        const d = Math.round(0.1 * n);
        student.fill(1, d, d + Math.round(top1(s) * n));
        return { set: s.name, role: s.role as 'id-test' | 'ood', teacher, student };
      }),
      bootstrap: 100,
      seed: k + 1,
    });
    r.gaps.push(...stats.gaps);
    r.contamination.push(...stats.contamination);
    for (const f of r.representationFit.filter((y) => y.student === first.name))
      r.representationFit.push({
        ...f,
        student: x.name,
        linearCka: f.linearCka + x.cka,
        fit: { ...f.fit, cka: f.fit.cka + x.cka },
      });
    r.probes.push({ ...r.probes[1]!, model: x.name });
  }
  return r;
}
