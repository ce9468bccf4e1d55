/**
 * `fcprobe demo`: builds the demo world on disk (PNG image folders, a teacher ONNX encoder, students distilled
 * from it in TypeScript and exported to ONNX), then runs the real pipeline (`run`) on it.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { createOrtGemm, type Gemm, type Mat } from '../compute/gemm.js';
import type { Activation } from '../math/activations.js';
import {
  createDemoWorld,
  DEMO_SETS,
  DEMO_WORLD_DEFAULTS,
  imageToInput,
  latentToOffsets,
  offsetsToImage,
  pixelScale,
  sampleDemoSet,
  teacherWeights,
  type DemoWorld,
  type DemoWorldSpec,
} from './demoWorld.js';
import { ensureWritableDir, writeFileAtomic } from '../io/atomic.js';
import { hashValue } from '../io/hash.js';
import { buildOnnxModel } from '../compute/onnxBuilder.js';
import { STUDENT_DEFAULTS, trainStudentInWorker, type StudentSpec, type StudentTraining } from './distil.js';
import type { ExtractProgress } from '../extract/extract.js';
import { runExperiment, type RunOutcome } from '../experiment/run.js';
import { writeReport, type RenderedReport } from '../report/write.js';
import { collectGallery } from '../report/gallery.js';
import { parseRunConfig } from '../experiment/config.js';

export interface DemoOptions {
  dataDir: string;
  modelsDir: string;
  workDir: string;
  world?: Partial<DemoWorldSpec>;
  student?: Partial<StudentSpec>;
  /** Also distil and evaluate a linear student (activation none, with bias). */
  compareLinear?: boolean;
  onStage?: (m: string) => void;
  /** Per student, as it trains; `students` of them train at once. */
  onTrainProgress?: (label: string, iteration: number, total: number, loss: number, students: number) => void;
  onExtractProgress?: (label: string, p: ExtractProgress) => void;
  shouldStop?: () => boolean;
}

export interface DemoOutcome {
  dataDir: string;
  modelsDir: string;
  scale: number;
  students: StudentTraining[];
  /** The one run over the teacher and every student. */
  outcome: RunOutcome;
  rendered: RenderedReport;
}

export { STUDENT_DEFAULTS, type StudentSpec, type StudentTraining };

const WORLD_FILE = 'world.json';

/** Writes the image folders unless the same world is already there. */
async function writeDataset(
  world: DemoWorld,
  dataDir: string,
): Promise<{ scale: number; train: { inputs: Float32Array; n: number } }> {
  const samples = DEMO_SETS.map((s, i) => sampleDemoSet(world, s, world.spec.seed * 1000 + i + 1));
  const offsets = samples.map((s) => latentToOffsets(world, s));
  const scale = pixelScale(offsets);
  const side = world.spec.side;
  const d = 3 * side * side;
  const key = hashValue({ spec: world.spec, sets: DEMO_SETS, v: 1 });
  const marker = join(dataDir, WORLD_FILE);
  const fresh = !(existsSync(marker) && (JSON.parse(readFileSync(marker, 'utf8')) as { key: string }).key === key);
  if (fresh) {
    rmSync(dataDir, { recursive: true, force: true });
    for (let s = 0; s < DEMO_SETS.length; s++) {
      const set = DEMO_SETS[s]!;
      const sample = samples[s]!;
      for (let k = 0; k < world.spec.classes; k++) ensureWritableDir(join(dataDir, set.name, world.className(k)));
      const writes: Promise<unknown>[] = [];
      for (let i = 0; i < sample.n; i++) {
        const img = offsetsToImage(offsets[s]!, i, side, scale);
        const file = join(
          dataDir,
          set.name,
          world.className(sample.labels[i]!),
          `${String(i % DEMO_SETS[s]!.perClass).padStart(4, '0')}.png`,
        );
        writes.push(
          sharp(Buffer.from(img), { raw: { width: side, height: side, channels: 3 } })
            .png({ compressionLevel: 6 })
            .toFile(file),
        );
      }
      await Promise.all(writes);
    }
    writeFileAtomic(
      marker,
      `${JSON.stringify(
        {
          key,
          spec: world.spec,
          scale,
          sets: DEMO_SETS.map((s) => ({
            name: s.name,
            role: s.role,
            perClass: s.perClass,
            background: s.background,
            description: s.description,
          })),
          classes: Array.from({ length: world.spec.classes }, (_, k) => world.className(k)),
        },
        null,
        1,
      )}\n`,
    );
  }
  // The training inputs exactly as extract will see them (rounded pixels, mean = std = 0.5).
  const train = samples[0]!;
  const inputs = new Float32Array(train.n * d);
  for (let i = 0; i < train.n; i++) imageToInput(offsetsToImage(offsets[0]!, i, side, scale), side, inputs, i * d);
  return { scale, train: { inputs, n: train.n } };
}

export function teacherOnnx(world: DemoWorld, scale: number): Uint8Array {
  const { weight, bias } = teacherWeights(world, scale);
  const side = world.spec.side;
  return buildOnnxModel({
    name: 'fcprobe_demo_teacher',
    docString: 'fcprobe demo teacher: ReLU(A P_core x + b), reads only the core subspace of the demo world.',
    inputs: [{ name: 'input', type: 'float32', shape: ['N', 3, side, side] }],
    outputs: [{ name: 'features', type: 'float32', shape: ['N', world.spec.teacherDim] }],
    initializers: [
      { name: 'W', dims: [world.spec.teacherDim, 3 * side * side], data: weight },
      { name: 'b', dims: [world.spec.teacherDim], data: bias },
    ],
    nodes: [
      { op: 'Flatten', inputs: ['input'], outputs: ['x'] },
      { op: 'Gemm', inputs: ['x', 'W', 'b'], outputs: ['pre'], attrs: { transB: 1 } },
      { op: 'Relu', inputs: ['pre'], outputs: ['features'] },
    ],
  });
}

/** The teacher's features of the training inputs, in TypeScript (same maths as its ONNX graph). */
async function teacherTargets(gemm: Gemm, world: DemoWorld, scale: number, x: Mat): Promise<Float32Array> {
  const { weight, bias } = teacherWeights(world, scale);
  const out: Mat = {
    data: new Float32Array(x.rows * world.spec.teacherDim),
    rows: x.rows,
    cols: world.spec.teacherDim,
  };
  await gemm.matmul(x, false, { data: weight, rows: world.spec.teacherDim, cols: x.cols }, true, out);
  for (let i = 0; i < x.rows; i++) {
    for (let j = 0; j < out.cols; j++) out.data[i * out.cols + j] = Math.max(0, out.data[i * out.cols + j]! + bias[j]!);
  }
  return out.data;
}

export async function runDemo(o: DemoOptions): Promise<DemoOutcome> {
  const stage = o.onStage ?? (() => {});
  const dataDir = resolve(o.dataDir);
  const modelsDir = resolve(o.modelsDir);
  const world = createDemoWorld({ ...DEMO_WORLD_DEFAULTS, ...o.world });
  stage(
    `demo world: ${world.spec.classes} classes, ${world.spec.coreDim}-d core + ${world.spec.backgroundDim}-d ` +
      `background -> ${world.spec.side}x${world.spec.side} RGB images in ${dataDir}`,
  );
  const { scale, train } = await writeDataset(world, dataDir);
  ensureWritableDir(modelsDir);
  const teacherPath = join(modelsDir, 'teacher.onnx');
  writeFileSync(teacherPath, teacherOnnx(world, scale));
  const base: StudentSpec = { ...STUDENT_DEFAULTS, ...o.student };
  const specs: StudentSpec[] = [base];
  if (o.compareLinear && base.activation !== 'none') specs.push({ ...base, activation: 'none' });
  const x: Mat = { data: train.inputs, rows: train.n, cols: 3 * world.spec.side * world.spec.side };
  const gemm = await createOrtGemm({ threads: 1 });
  let target: Float32Array;
  try {
    target = await teacherTargets(gemm, world, scale, x);
  } finally {
    await gemm.dispose();
  }
  const labelOf = (a: Activation): string => (a === 'none' ? 'linear' : a);
  for (const spec of specs) {
    stage(
      `distil student (${labelOf(spec.activation)}, ${spec.hidden} hidden units): ${spec.iterations} full-batch ` +
        `AdamW steps on ${train.n} ID images`,
    );
  }
  // One worker thread per student: on 2 cores the two students take the time of one.
  const students = await Promise.all(
    specs.map((spec) =>
      trainStudentInWorker(
        { spec, world: world.spec, x, target, modelPath: join(modelsDir, `student-${labelOf(spec.activation)}.onnx`) },
        o.onTrainProgress
          ? (i, n, l) => o.onTrainProgress!(labelOf(spec.activation), i, n, l, specs.length)
          : undefined,
      ),
    ),
  );
  for (const s of students) {
    stage(
      s.cached
        ? `  ${labelOf(s.activation)}: cached ${s.modelPath}`
        : `  ${labelOf(s.activation)}: MSE to teacher ${s.initialLoss.toFixed(4)} -> ${s.finalLoss.toFixed(4)} in ` +
            `${s.seconds.toFixed(1)} s`,
    );
  }
  const model = (path: string): Record<string, unknown> => ({
    path,
    preset: 'inception',
    resize: world.spec.side,
    crop: world.spec.side,
  });
  // One run with every student: the teacher's features are extracted once and every student is probed and
  // compared the same way (the same probes on the same features as one run per student).
  const config = parseRunConfig(
    {
      title: `fcprobe demo: teacher vs ${students.map((s) => `${labelOf(s.activation)} student`).join(' and ')}`,
      workDir: o.workDir,
      teacher: { name: 'teacher', ...model(teacherPath) },
      students: students.map((s) => ({ name: `student-${labelOf(s.activation)}`, ...model(s.modelPath) })),
      train: { name: 'train', path: join(dataDir, 'train') },
      test: [{ name: 'test', path: join(dataDir, 'test') }],
      ood: DEMO_SETS.filter((d) => d.role === 'ood').map((d) => ({ name: d.name, path: join(dataDir, d.name) })),
      probe: { C: 1 },
    },
    process.cwd(),
  );
  stage(`run: teacher vs ${students.length} student(s)`);
  const outcome = await runExperiment({
    config,
    onStage: (m) => stage(`  ${m}`),
    ...(o.onExtractProgress ? { onExtractProgress: o.onExtractProgress } : {}),
    ...(o.shouldStop ? { shouldStop: o.shouldStop } : {}),
  });
  const gallery = await collectGallery(outcome.workDir, outcome.results);
  const rendered = writeReport(outcome.results, ['terminal', 'md', 'json', 'html'], outcome.workDir, { gallery });
  return { dataDir, modelsDir, scale, students, outcome, rendered };
}
