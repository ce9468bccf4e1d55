import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createOrtGemm, jsGemm, type Gemm } from '../../src/compute/gemm.js';
import { FcprobeError } from '../../src/errors.js';
import { loadFeatureSet } from '../../src/features/manifest.js';
import { readNpy } from '../../src/io/npy.js';
import { Rng } from '../../src/math/rng.js';
import { fitSoftmaxRegression } from '../../src/probe/logreg.js';
import { runProbe } from '../../src/probe/probe.js';
import { fitSgdStreamed, type SgdSettings } from '../../src/probe/sgdProbe.js';
import { SoftmaxSgdTrainer } from '../../src/probe/sgdTrainer.js';
import { is, parseArg } from '../../src/validate.js';
import { gaussianClasses, writeFeatureDir } from '../helpers/featureDir.js';
import { tempDir } from '../helpers/fixtures.js';

/** The --memory-budget parser of the probe command. */
const byteSize = (v: string): unknown => parseArg('--memory-budget', is.bytes, v);

let gemm: Gemm;
let root: string;
before(async () => {
  gemm = await createOrtGemm();
  root = tempDir('fcprobe-ooc-');
});
after(async () => {
  await gemm.dispose();
});

const MEANS = [
  [2, 0, 0, 1, 0],
  [0, 2, 0, 1, 0],
  [0, 0, 2, 1, 1],
];

function dir(name: string, n: number, seed: number): { path: string; x: Float32Array; labels: Int32Array; d: number } {
  const g = gaussianClasses(MEANS, n, seed);
  const path = writeFeatureDir(join(root, name), { x: g.x, d: g.d, labels: g.labels, classes: ['a', 'b', 'c'] });
  return { path, x: g.x, labels: g.labels, d: g.d };
}

test('out-of-core sgd: blocks read ahead from disk give exactly the in-memory block-shuffled training', async () => {
  const { path, x, labels, d } = dir('sgd', 61, 3);
  const set = loadFeatureSet(path);
  const k = 3;
  const s: SgdSettings = {
    lr: 0.01,
    epochs: 3,
    batchSize: 8,
    weightDecay: 1e-3,
    warmupSteps: 3,
    clipNorm: 1,
    bufferRows: 7, // 9 blocks, the last partial: read-ahead on every block
    seed: 4,
  };
  const streamed = await fitSgdStreamed(jsGemm, set, set.labels(), k, null, s);
  // Independent in-memory replay of the documented schedule: per epoch a block order, then a row order per
  // block, from one seeded stream (after the trainer's initialization); batches span block boundaries.
  const n = 61;
  const rng = new Rng(s.seed);
  const steps = s.epochs * Math.ceil(n / s.batchSize);
  const t = new SoftmaxSgdTrainer(jsGemm, k, d, s.batchSize, { ...s, totalSteps: steps }, rng);
  const bx = new Float32Array(s.batchSize * d),
    by = new Int32Array(s.batchSize);
  for (let e = 0; e < s.epochs; e++) {
    const order = rng.shuffle(Int32Array.from({ length: 9 }, (_, i) => i));
    let f = 0;
    for (const b of order) {
      const count = Math.min(7, n - 7 * b);
      for (const r of rng.shuffle(Int32Array.from({ length: count }, (_, i) => i))) {
        const row = 7 * b + r;
        bx.set(x.subarray(row * d, row * d + d), f * d);
        by[f++] = labels[row]!;
        if (f === s.batchSize) {
          await t.step(bx, by, f);
          f = 0;
        }
      }
    }
    if (f > 0) await t.step(bx, by, f);
  }
  assert.equal(streamed.steps, steps);
  assert.deepEqual(streamed.theta, t.theta);
});

test('out-of-core lbfgs: streaming the passes from disk is byte-identical to in memory at equal chunks', async () => {
  const { path, x, labels, d } = dir('lb', 50, 5);
  const set = loadFeatureSet(path);
  const reader = set.open();
  let reads = 0;
  try {
    const base = { n: 50, d, labels, k: 3 };
    const o = { C: 1, tol: 1e-6, maxIter: 200, chunkRows: 7 };
    const mem = await fitSoftmaxRegression(gemm, { ...base, x }, o);
    const source = {
      read: async (start: number, rows: number, out: Float32Array): Promise<void> => {
        reads++;
        await reader.readFloat32RowsAsync(start, rows, out);
      },
    };
    const disk = await fitSoftmaxRegression(gemm, { ...base, x: new Float32Array(0), source }, o);
    assert.ok(mem.iterations > 3);
    assert.equal(disk.iterations, mem.iterations);
    assert.deepEqual(disk.theta, mem.theta);
    assert.equal(reads, disk.evaluations * Math.ceil(50 / 7));
  } finally {
    reader.close();
  }
});

test('out-of-core lbfgs: runProbe over --memory-budget streams (standardized), matches the in-memory fit', async () => {
  const { path } = dir('rp', 80, 6);
  const val = dir('rpv', 30, 7).path;
  const mem = await runProbe({ train: path, eval: [val], out: join(root, 'rp-mem'), gemm, tol: 1e-8 });
  // 5 features x 4 bytes x 2 chunks x 6 rows: 240 bytes; the 80 x 5 matrix is 1,600 bytes.
  const disk = await runProbe({
    train: path,
    eval: [val],
    out: join(root, 'rp-disk'),
    gemm,
    tol: 1e-8,
    memoryBudget: 240,
  });
  // Same objective and data; only the float32 GEMM's row summation order follows the chunks, so the optima
  // agree to the solver's tolerance rather than to the bit.
  const a = readNpy(join(root, 'rp-mem', 'weights.npy')).data as Float32Array;
  const b = readNpy(join(root, 'rp-disk', 'weights.npy')).data as Float32Array;
  let scale = 0,
    diff = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(a[i]!));
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
  }
  assert.ok(diff <= 1e-4 * scale, `weights differ by ${diff} (scale ${scale})`);
  assert.deepEqual(disk.probe.standardization, mem.probe.standardization);
  assert.equal(disk.evaluations[0]!.top1, mem.evaluations[0]!.top1);
  await assert.rejects(
    runProbe({ train: path, out: join(root, 'rp-sweep'), gemm, cSweep: true, memoryBudget: 240 }),
    (e: unknown) => e instanceof FcprobeError && e.code === 'BAD_OPTION' && /--C-sweep/.test(e.message),
  );
  assert.ok(readFileSync(join(root, 'rp-disk', 'probe.json'), 'utf8').length > 0);
});

test('--memory-budget sizes: units are binary, junk is refused', () => {
  assert.equal(byteSize('512M'), 512 * 2 ** 20);
  assert.equal(byteSize('1.5GiB'), 1.5 * 2 ** 30);
  assert.equal(byteSize('4096'), 4096);
  assert.throws(() => byteSize('lots'));
  assert.throws(() => byteSize('0'));
});
