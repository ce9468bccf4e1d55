import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createOrtGemm, type Gemm } from '../../src/compute/gemm.js';
import { FcprobeError } from '../../src/errors.js';
import { evaluateProbe, loadProbe, runProbe, type ProbeFile } from '../../src/probe/probe.js';
import { saveProbe } from '../../src/probe/probeFiles.js';
import { applyStandardization, computeStandardization } from '../../src/math/standardize.js';
import { loadFeatureSet } from '../../src/features/manifest.js';
import { encodeNpy, readNpy } from '../../src/io/npy.js';
import { gaussianClasses, writeFeatureDir } from '../helpers/featureDir.js';
import { tempDir } from '../helpers/fixtures.js';
import { handProbeFile } from '../helpers/handProbe.js';

let gemm: Gemm;
let root: string;
before(async () => {
  gemm = await createOrtGemm();
  root = tempDir('fcprobe-probe-');
});
after(async () => {
  await gemm.dispose();
});

const MEANS3 = [
  [3, 0, 0, 1],
  [0, 3, 0, 1],
  [0, 0, 3, 1],
];
const CLASSES3 = ['ant', 'bee', 'cat'];

function isErr(code: string, re: RegExp): (e: unknown) => boolean {
  return (e: unknown) => e instanceof FcprobeError && e.code === code && re.test(e.message);
}

function trainDir(name: string, n = 90, seed = 1): string {
  const g = gaussianClasses(MEANS3, n, seed);
  return writeFeatureDir(join(root, name), { x: g.x, d: g.d, labels: g.labels, classes: CLASSES3 });
}

test('probe api: fit, save, evaluate; metrics agree with an independent float64 scoring of the files', async () => {
  const train = trainDir('t1');
  const val = trainDir('v1', 60, 2);
  // A subset set (cat, ant) whose rows all lie near bee's mean: a full argmax would say "bee" everywhere.
  const sub = gaussianClasses(
    [
      [0, 3, 0.6, 1],
      [0.6, 3, 0, 1],
    ],
    20,
    3,
    0.2,
  );
  const subDir = writeFeatureDir(join(root, 's1'), { x: sub.x, d: 4, labels: sub.labels, classes: ['cat', 'ant'] });
  const out = join(root, 'p1');
  const r = await runProbe({ train, eval: [val, subDir], out, gemm });
  const file = JSON.parse(readFileSync(join(out, 'probe.json'), 'utf8')) as ProbeFile;
  assert.deepEqual(file.classes, CLASSES3);
  assert.equal(file.solver, 'lbfgs');
  assert.equal(file.C, 1);
  assert.ok(file.convergence.converged, file.convergence.reason);
  assert.ok(file.convergence.finalGradNorm! <= (file.convergence.reason === 'gtol' ? 1e-7 : 1e-5));
  const w = readNpy(join(out, 'weights.npy'));
  assert.deepEqual(w.shape, [3, 5]);
  const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as {
    sets: { name: string; top1: number; n: number }[];
  };
  assert.deepEqual(
    metrics.sets.map((s) => s.name),
    ['v1', 's1'],
  );

  const st = file.standardization!;
  const W = w.data as Float32Array;
  const score = (dir: string, allowed: number[]): { top1: number; n: number } => {
    const set = loadFeatureSet(dir);
    const x = readNpy(join(dir, 'features.npy')).data as Float32Array;
    const y = set.labels();
    let hit = 0;
    for (let i = 0; i < set.rows; i++) {
      let best = -1,
        bestV = -Infinity;
      for (const c of allowed) {
        let z = W[c * 5 + 4]!;
        for (let j = 0; j < 4; j++) z += W[c * 5 + j]! * ((x[i * 4 + j]! - st.mean[j]!) / st.std[j]!);
        if (z > bestV) {
          bestV = z;
          best = c;
        }
      }
      if (CLASSES3[best] === set.manifest.classes[y[i]!]) hit++;
    }
    return { top1: hit / set.rows, n: set.rows };
  };
  const v = score(val, [0, 1, 2]);
  assert.equal(r.evaluations[0]!.top1, v.top1);
  assert.ok(v.top1 > 0.9, `val top-1 ${v.top1}`);
  const s = score(subDir, [2, 0]);
  assert.equal(r.evaluations[1]!.top1, s.top1);
  assert.equal(r.evaluations[1]!.labelSpace.kind, 'subset');
  assert.ok(s.top1 > 0.5, 'masking must rescue the subset set');
  assert.equal(score(subDir, [0, 1, 2]).top1, 0, 'without masking every row is "bee"');
  assert.equal(metrics.sets[1]!.top1, s.top1);
});

test('probe api: masked evaluation of a hand-made probe matches a hand-computed example', async () => {
  // Probe on raw 2-d features: logits = [x0, x1, x0 + x1 - 1] for classes a, b, c (no standardization).
  const evalDir = writeFeatureDir(join(root, 'hand-eval'), {
    x: Float32Array.from([2, 3, 5, 1, 1, 1]),
    d: 2,
    labels: [0, 1, 1],
    classes: ['c', 'a'],
  });
  const file = handProbeFile(['a', 'b', 'c'], 2, evalDir);
  const probeDir = join(root, 'hand-probe');
  saveProbe(probeDir, file, Float32Array.from([1, 0, 0, 0, 1, 0, 1, 1, -1]));
  // Row 0 (2,3): logits a=2, b=3, c=4 -> among {c, a}: c (label c: correct).
  // Row 1 (5,1): a=5, b=1, c=5 -> tie between c and a; ties go to the first eval class, c (label a: wrong).
  // Row 2 (1,1): a=1, b=1, c=1 -> tie -> c (label a: wrong). b, outside the eval classes, is never predicted.
  const r = await evaluateProbe(loadProbe(probeDir), evalDir, { gemm });
  assert.equal(r.n, 3);
  assert.equal(r.top1, 1 / 3);
  assert.equal(r.topK, 2);
  assert.equal(r.top5, 1);
  assert.deepEqual(r.perClass, [
    { class: 'c', accuracy: 1, n: 1 },
    { class: 'a', accuracy: 0, n: 2 },
  ]);
  const ce = (zs: number[], y: number): number => Math.log(zs.reduce((a, z) => a + Math.exp(z), 0)) - zs[y]!;
  const loss = (ce([4, 2], 0) + ce([5, 5], 1) + ce([1, 1], 1)) / 3;
  assert.ok(Math.abs(r.meanLoss - loss) < 1e-6);
  assert.match(r.labelSpace.description, /2 of the probe's 3 classes/);
});

test('probe api: the ml solver predicts exactly as ml-logistic-regression called directly', async () => {
  const g = gaussianClasses(
    [
      [1, 0],
      [0, 1],
      [-1, -1],
    ],
    30,
    4,
    0.5,
  );
  const train = writeFeatureDir(join(root, 'ml-t'), { x: g.x, d: 2, labels: g.labels, classes: ['a', 'b', 'c'] });
  const out = join(root, 'ml-p');
  await runProbe({
    train,
    eval: [train],
    out,
    solver: 'ml',
    ml: { numSteps: 300, learningRate: 1e-3 },
    predictions: true,
    gemm,
  });
  const csv = readFileSync(join(out, 'predictions', 'ml-t.predictions.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1);
  const ours = csv.map((line) => ['a', 'b', 'c'].indexOf(line.split(',')[2]!));

  const require = createRequire(import.meta.url);
  const LogisticRegression = require('ml-logistic-regression') as new (
    o: object,
  ) => { train(x: unknown, y: unknown): void; predict(x: unknown): number[] };
  const { Matrix } = require('ml-matrix') as {
    Matrix: { new (rows: number[][]): unknown; columnVector(v: number[]): unknown };
  };
  const x = Float32Array.from(g.x);
  const st = computeStandardization(x, 30, 2);
  applyStandardization(x, 30, st);
  const rows = Array.from({ length: 30 }, (_, i) => [x[2 * i]!, x[2 * i + 1]!, 1]);
  const model = new LogisticRegression({ numSteps: 300, learningRate: 1e-3 });
  model.train(new Matrix(rows), Matrix.columnVector(Array.from(g.labels)));
  const direct = model.predict(new Matrix(rows));
  assert.deepEqual(ours, direct);
  assert.ok(direct.filter((p, i) => p === g.labels[i]).length >= 20, 'the package learned something');
});

test('probe api: --recipe paper (streamed AdamW) learns, is deterministic, and the block shuffle works', async () => {
  const train = trainDir('sgd-t', 120, 5);
  const val = trainDir('sgd-v', 60, 6);
  const base = {
    train,
    eval: [val],
    recipe: 'paper' as const,
    gemm,
    sgd: { weightDecay: 1e-3, epochs: 15, batchSize: 16, warmupSteps: 10, lr: 0.01 },
  };
  await assert.rejects(
    runProbe({ ...base, out: join(root, 'sgd-x'), sgd: { epochs: 1 } }),
    isErr('BAD_OPTION', /--weight-decay/),
  );
  const a = await runProbe({ ...base, out: join(root, 'sgd-a') });
  await runProbe({ ...base, out: join(root, 'sgd-b') });
  const c = await runProbe({ ...base, out: join(root, 'sgd-c'), sgd: { ...base.sgd, bufferRows: 7 } });
  assert.equal(a.probe.solver, 'sgd');
  assert.equal(a.probe.standardization, null);
  assert.equal(a.probe.convergence.iterations, 15 * Math.ceil(120 / 16));
  assert.equal(a.probe.settings.lr, 0.01);
  assert.equal(a.probe.settings.batchSize, 16);
  assert.equal(a.probe.settings.clipNorm, 1);
  assert.deepEqual(readFileSync(join(root, 'sgd-a', 'weights.npy')), readFileSync(join(root, 'sgd-b', 'weights.npy')));
  assert.ok(a.evaluations[0]!.top1 > 0.9, `paper recipe val top-1 ${a.evaluations[0]!.top1}`);
  assert.ok(c.evaluations[0]!.top1 > 0.9, `block-shuffled val top-1 ${c.evaluations[0]!.top1}`);
  assert.notDeepEqual(
    readFileSync(join(root, 'sgd-a', 'weights.npy')),
    readFileSync(join(root, 'sgd-c', 'weights.npy')),
  );
});

test('probe api: lbfgs output is byte-identical across runs; --C-sweep records the grid and refits', async () => {
  const train = trainDir('det-t', 90, 7);
  await runProbe({ train, out: join(root, 'det-a'), gemm });
  await runProbe({ train, out: join(root, 'det-b'), gemm });
  for (const f of ['weights.npy', 'probe.json']) {
    assert.deepEqual(readFileSync(join(root, 'det-a', f)), readFileSync(join(root, 'det-b', f)), f);
  }
  const r = await runProbe({ train, out: join(root, 'sweep'), cSweep: [0.001, 0.1, 10], gemm });
  const sw = r.probe.sweep!;
  assert.deepEqual(sw.grid, [0.001, 0.1, 10]);
  assert.equal(sw.points.length, 3);
  assert.equal(sw.nTrain + sw.nVal, 90);
  assert.equal(r.probe.C, sw.chosenC);
  assert.ok(sw.grid.includes(r.probe.C!));
  assert.equal(sw.atGridEdge, r.probe.C === 0.001 || r.probe.C === 10);
});

test('probe api: class maps, unknown classes and classes without training rows', async () => {
  const g = gaussianClasses(MEANS3, 90, 8);
  // The training manifest lists a fourth class with no rows: it is dropped from the probe and recorded.
  const train = writeFeatureDir(join(root, 'cm-t'), { x: g.x, d: 4, labels: g.labels, classes: [...CLASSES3, 'dog'] });
  const e = gaussianClasses(
    [
      [3, 0, 0, 1],
      [0, 0, 3, 1],
      [1, 1, 1, 1],
    ],
    30,
    9,
  );
  const mapped = writeFeatureDir(join(root, 'cm-e'), {
    x: e.x,
    d: 4,
    labels: e.labels,
    classes: ['insect', 'cat', 'car'],
    classMap: [['ant', 'bee'], ['cat'], []],
  });
  const r = await runProbe({ train, eval: [mapped], out: join(root, 'cm-p'), gemm });
  assert.deepEqual(r.probe.classes, CLASSES3);
  assert.deepEqual(r.probe.train.droppedClasses, ['dog']);
  const ev = r.evaluations[0]!;
  assert.equal(ev.labelSpace.kind, 'mapped');
  assert.equal(ev.n, 20);
  assert.equal(ev.leftOut, 10);
  assert.deepEqual(ev.labelSpace.dropped, [{ name: 'car', reason: 'unmapped', images: 10 }]);
  assert.ok(ev.top1 > 0.9);
  const unknown = writeFeatureDir(join(root, 'unk'), {
    x: e.x,
    d: 4,
    labels: e.labels,
    classes: ['ant', 'gnu', 'cat'],
  });
  await assert.rejects(
    runProbe({ load: join(root, 'cm-p'), eval: [unknown], out: join(root, 'unk-p'), gemm }),
    isErr('MISMATCH', /"gnu"/),
  );
  const ok = await runProbe({
    load: join(root, 'cm-p'),
    eval: [unknown],
    out: join(root, 'unk-p'),
    ignoreUnknown: true,
    gemm,
  });
  assert.equal(ok.evaluations[0]!.leftOut, 10);
  assert.deepEqual(ok.evaluations[0]!.labelSpace.dropped, [{ name: 'gnu', reason: 'unknown', images: 10 }]);
});

test('probe api: bad inputs are clear errors', async () => {
  const g = gaussianClasses(MEANS3, 30, 10);
  const train = writeFeatureDir(join(root, 'bad-t'), { x: g.x, d: 4, labels: g.labels, classes: CLASSES3 });
  const out = join(root, 'bad-p');
  const other = writeFeatureDir(join(root, 'bad-model'), {
    x: g.x,
    d: 4,
    labels: g.labels,
    classes: CLASSES3,
    model: { sha256: 'b'.repeat(64), path: 'student.onnx' },
  });
  await assert.rejects(
    runProbe({ train, eval: [other], out, gemm }),
    isErr('MISMATCH', /model\.sha256 aaaaaaaaaaaa \(encoder\.onnx\) vs bbbbbbbbbbbb \(student\.onnx\)/),
  );
  const crop = writeFeatureDir(join(root, 'bad-crop'), {
    x: g.x,
    d: 4,
    labels: g.labels,
    classes: CLASSES3,
    preprocess: { crop: 288 },
  });
  await assert.rejects(runProbe({ train, eval: [crop], out, gemm }), isErr('MISMATCH', /preprocess\.crop 224 vs 288/));
  const pool = writeFeatureDir(join(root, 'bad-pool'), {
    x: g.x,
    d: 4,
    labels: g.labels,
    classes: CLASSES3,
    model: { pool: 'mean' },
  });
  await assert.rejects(runProbe({ train, eval: [pool], out, gemm }), isErr('MISMATCH', /pooling none vs mean/));
  // ObjectNet's 2-pixel border crop is a data-set protocol, not a different representation.
  const border = writeFeatureDir(join(root, 'ok-border'), {
    x: g.x,
    d: 4,
    labels: g.labels,
    classes: CLASSES3,
    preprocess: { borderCrop: 2 },
  });
  await runProbe({ train, eval: [border], out, gemm });
  const g5 = gaussianClasses(
    [
      [1, 0, 0, 0, 0],
      [0, 1, 0, 0, 0],
      [0, 0, 1, 0, 0],
    ],
    30,
    11,
  );
  const dim5 = writeFeatureDir(join(root, 'bad-dim'), { x: g5.x, d: 5, labels: g5.labels, classes: CLASSES3 });
  await assert.rejects(runProbe({ train, eval: [dim5], out, gemm }), isErr('MISMATCH', /feature dimension 4 vs 5/));
  await assert.rejects(
    runProbe({ load: out, eval: [other], out: join(root, 'bad-q'), gemm }),
    isErr('MISMATCH', /the probe/),
  );

  const nan = Float32Array.from(g.x);
  nan[5 * 4 + 2] = NaN;
  nan[17 * 4] = Infinity;
  const nanDir = writeFeatureDir(join(root, 'bad-nan'), { x: nan, d: 4, labels: g.labels, classes: CLASSES3 });
  await assert.rejects(
    runProbe({ train: nanDir, out, gemm }),
    isErr('BAD_FEATURES', /2 rows: 5 \(cat\/img_5\.png\), 17 \(cat\/img_17\.png\)/),
  );
  await assert.rejects(runProbe({ train, eval: [nanDir], out, gemm }), isErr('BAD_FEATURES', /NaN or infinite/));
  await assert.rejects(
    runProbe({ train: nanDir, out, recipe: 'paper', sgd: { weightDecay: 0.1 }, gemm }),
    isErr('BAD_FEATURES', /NaN or infinite/),
  );

  const one = writeFeatureDir(join(root, 'bad-one'), {
    x: g.x,
    d: 4,
    labels: new Array<number>(30).fill(1),
    classes: CLASSES3,
  });
  await assert.rejects(
    runProbe({ train: one, out, gemm }),
    isErr('BAD_DATA', /1 class \("bee"\); a probe needs at least two/),
  );
  const lab = Array.from(g.labels);
  lab[0] = 0;
  lab[1] = 1;
  lab[2] = 1; // class 'ant' keeps row 0 and rows 3, 6, ...: make it a single row
  for (let i = 3; i < 30; i++) if (lab[i] === 0) lab[i] = 2;
  const single = writeFeatureDir(join(root, 'bad-single'), { x: g.x, d: 4, labels: lab, classes: CLASSES3 });
  await runProbe({ train: single, out, gemm }); // fine with a fixed C
  await assert.rejects(runProbe({ train: single, out, cSweep: true, gemm }), isErr('BAD_DATA', /one: "ant"/));

  // A probe whose weights do not match its probe.json.
  writeFileSync(join(out, 'weights.npy'), encodeNpy('<f4', [3, 4], new Float32Array(12)));
  assert.throws(() => loadProbe(out), /does not match the sha256 recorded/);
  // A probe.json without the checksum (saved by an older fcprobe): the shape check still catches it.
  const { weightsSha256: _sum, ...old } = JSON.parse(readFileSync(join(out, 'probe.json'), 'utf8')) as ProbeFile;
  writeFileSync(join(out, 'probe.json'), JSON.stringify(old));
  assert.throws(() => loadProbe(out), /needs float32 \[3, 5\]/);
  await assert.rejects(runProbe({ out, gemm }), isErr('BAD_OPTION', /--train/));
});
