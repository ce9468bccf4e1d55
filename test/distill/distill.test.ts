import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import ort from 'onnxruntime-node';
import { jsGemm } from '../../src/compute/gemm.js';
import { scanImageFolder } from '../../src/dataset/listing.js';
import { readPreprocessMetadata } from '../../src/distill/compose.js';
import { DISTILL_DEFAULTS, runDistill, type DistillSettings } from '../../src/distill/distill.js';
import { FcprobeError } from '../../src/errors.js';
import { extractFeatures } from '../../src/extract/extract.js';
import { loadFeatureSet } from '../../src/features/manifest.js';
import { Rng } from '../../src/math/rng.js';
import { writeFeatureDir } from '../helpers/featureDir.js';
import { CLI, linearEncoder, makeNoiseFolder, slowEncoder, tempDir, writeModel } from '../helpers/fixtures.js';

/**
 * Teacher = x A + c + noise (so least squares leaves a real residual), written as two feature dirs of the same files.
 */
function makePair(dir: string, n: number, ds: number, dt: number, seed: number, noise = 0.5) {
  const rng = new Rng(seed);
  const x = new Float32Array(n * ds).map(() => rng.normal() * 2 + 1);
  const A = Array.from({ length: ds * dt }, () => rng.normal());
  const t = new Float32Array(n * dt);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < dt; k++) {
      let s = 3 * k - 1;
      for (let j = 0; j < ds; j++) s += x[i * ds + j]! * A[j * dt + k]!;
      t[i * dt + k] = s + noise * rng.normal() * (k + 1);
    }
  const labels = Array.from({ length: n }, (_, i) => i % 2);
  const classes = ['a', 'b'];
  const sd = writeFeatureDir(join(dir, 'student'), { x, d: ds, labels, classes, model: { sha256: 'b'.repeat(64) } });
  const td = writeFeatureDir(join(dir, 'teacher'), { x: t, d: dt, labels, classes });
  return { x, t, sd, td };
}

/** Closed-form least squares with intercept in float64 (normal equations, Gauss-Jordan), MSE over all elements. */
function leastSquaresMse(x: Float32Array, y: Float64Array, n: number, ds: number, dt: number): number {
  const p = ds + 1;
  const G = Array.from({ length: p }, () => new Float64Array(p + dt));
  for (let i = 0; i < n; i++) {
    const row = [...Array.from(x.subarray(i * ds, i * ds + ds)), 1];
    for (let a = 0; a < p; a++) {
      for (let b = 0; b < p; b++) G[a]![b]! += row[a]! * row[b]!;
      for (let k = 0; k < dt; k++) G[a]![p + k]! += row[a]! * y[i * dt + k]!;
    }
  }
  for (let c = 0; c < p; c++) {
    let piv = c;
    for (let r = c + 1; r < p; r++) if (Math.abs(G[r]![c]!) > Math.abs(G[piv]![c]!)) piv = r;
    [G[c], G[piv]] = [G[piv]!, G[c]!];
    const d = G[c]![c]!;
    for (let j = 0; j < p + dt; j++) G[c]![j]! /= d;
    for (let r = 0; r < p; r++) {
      if (r === c) continue;
      const f = G[r]![c]!;
      for (let j = 0; j < p + dt; j++) G[r]![j]! -= f * G[c]![j]!;
    }
  }
  let se = 0;
  for (let i = 0; i < n; i++)
    for (let k = 0; k < dt; k++) {
      let s = G[ds]![p + k]!;
      for (let j = 0; j < ds; j++) s += x[i * ds + j]! * G[j]![p + k]!;
      se += (s - y[i * dt + k]!) ** 2;
    }
  return se / (n * dt);
}

function settings(over: Partial<DistillSettings>): DistillSettings {
  return { ...DISTILL_DEFAULTS, ...over };
}

describe('fcprobe distill', () => {
  it('a linear head, mse, no weight decay: reaches the least-squares fit on the standardized targets', async () => {
    const dir = tempDir();
    const n = 600,
      ds = 6,
      dt = 3;
    const { x, t, sd, td } = makePair(dir, n, ds, dt, 3);
    // Standardize the targets independently (float64, population std, as the training does).
    const y = new Float64Array(n * dt);
    for (let k = 0; k < dt; k++) {
      let m = 0;
      for (let i = 0; i < n; i++) m += t[i * dt + k]!;
      m /= n;
      let v = 0;
      for (let i = 0; i < n; i++) v += (t[i * dt + k]! - m) ** 2;
      const s = Math.sqrt(v / n);
      for (let i = 0; i < n; i++) y[i * dt + k] = (t[i * dt + k]! - m) / s;
    }
    const ls = leastSquaresMse(x, y, n, ds, dt);
    assert.ok(ls > 0.01, `the problem leaves a residual (LS MSE ${ls})`);
    const r = await runDistill({
      teacherFeatures: td,
      studentFeatures: sd,
      out: join(dir, 'out'),
      settings: settings({ epochs: 60, batchSize: 32, lr: 0.01, weightDecay: 0, standardizeTarget: true }),
      gemm: jsGemm,
    });
    const fit = r.fit[0]!;
    assert.ok(
      fit.mseStandardized <= ls * 1.01 && fit.mseStandardized >= ls * (1 - 1e-4),
      `trained ${fit.mseStandardized} vs least squares ${ls}`,
    );
    // The export folds the standardization back: the raw-space MSE is the standardized one scaled by each var.
    assert.ok(fit.mse > fit.mseStandardized, 'targets have std > 1, so the raw MSE is larger');
    assert.ok(fit.cka > 0.9 && fit.cka <= 1);
    assert.equal(r.epochLosses.length, 60);
    assert.ok(r.epochLosses[59]! < r.epochLosses[0]!);
    assert.ok(!existsSync(join(dir, 'out', 'checkpoint.fcpd')), 'the checkpoint is removed at the end');
  });

  it('refuses feature sets of different images or order, and eval pairs of another model', async () => {
    const dir = tempDir();
    const rng = new Rng(1);
    const x = new Float32Array(8 * 2).map(() => rng.normal());
    const labels = [0, 1, 0, 1, 0, 1, 0, 1];
    const files = labels.map((l, i) => `${'ab'[l]}/img_${i}.png`);
    const td = writeFeatureDir(join(dir, 't'), { x, d: 2, labels, classes: ['a', 'b'], files });
    const swapped = [files[1]!, files[0]!, ...files.slice(2)];
    const sd1 = writeFeatureDir(join(dir, 's1'), { x, d: 2, labels, classes: ['a', 'b'], files: swapped });
    const sd2 = writeFeatureDir(join(dir, 's2'), {
      x: x.subarray(0, 12),
      d: 2,
      labels: labels.slice(0, 6),
      classes: ['a', 'b'],
    });
    const base = { out: join(dir, 'o'), settings: settings({ epochs: 1 }), gemm: jsGemm };
    await assert.rejects(
      runDistill({ ...base, teacherFeatures: td, studentFeatures: sd1 }),
      (e: unknown) => e instanceof FcprobeError && e.code === 'MISMATCH' && /different order/.test(e.message),
    );
    await assert.rejects(
      runDistill({ ...base, teacherFeatures: td, studentFeatures: sd2 }),
      (e: unknown) =>
        e instanceof FcprobeError && e.code === 'MISMATCH' && /different numbers of images/.test(e.message),
    );
    const other = writeFeatureDir(join(dir, 't2'), {
      x,
      d: 2,
      labels,
      classes: ['a', 'b'],
      files,
      model: { sha256: 'c'.repeat(64) },
    });
    const sOk = writeFeatureDir(join(dir, 's3'), { x, d: 2, labels, classes: ['a', 'b'], files });
    await assert.rejects(
      runDistill({ ...base, teacherFeatures: td, studentFeatures: sOk, eval: [{ teacher: other, student: sOk }] }),
      (e: unknown) => e instanceof FcprobeError && e.code === 'MISMATCH' && /another model/.test(e.message),
    );
    // Through the CLI: one clear line, exit code 5, no stack trace.
    const cli = spawnSync(process.execPath, [
      CLI,
      'distill',
      '--teacher-features',
      td,
      '--student-features',
      sd1,
      '--out',
      join(dir, 'o2'),
      '-q',
    ]);
    assert.equal(cli.status, 5);
    assert.match(cli.stderr.toString(), /fcprobe: error: .*different order/);
    assert.doesNotMatch(cli.stderr.toString(), /at .*\.js:\d+/);
  });

  it('student.onnx (backbone + head) gives, through extract, the head applied to the backbone features', async () => {
    const dir = tempDir();
    await makeNoiseFolder(join(dir, 'img'), ['a', 'b'], 12, 16);
    const listing = scanImageFolder(join(dir, 'img'));
    const pre = { preset: 'torchvision', resize: 16, crop: 16 };
    // Backbone with a second output (logits) that the composition must drop; teacher: ReLU convolutions.
    const W = Array.from({ length: 8 }, (_, k) => [Math.sin(k + 1), Math.cos(2 * k), 0.3 * k - 1]);
    const backbone = writeModel(join(dir, 'backbone.onnx'), linearEncoder(W, null, { extraOutput: true }));
    const teacher = writeModel(join(dir, 'teacher.onnx'), slowEncoder(16, 1, 5));
    const bf = join(dir, 'b-feat'),
      tf = join(dir, 't-feat');
    await extractFeatures({ modelPath: backbone, listing, outDir: bf, preprocess: pre, outputName: 'features' });
    await extractFeatures({ modelPath: teacher, listing, outDir: tf, preprocess: pre });
    const out = join(dir, 'out');
    const r = await runDistill({
      teacherFeatures: tf,
      studentFeatures: bf,
      backbone,
      out,
      settings: settings({
        head: { kind: 'mlp', hidden: 16, layers: 3, activation: 'gelu' },
        epochs: 3,
        batchSize: 8,
        standardizeTarget: true,
      }),
      gemm: jsGemm,
    });
    // Relative to --out: distill.json holds no path of the machine that made it.
    assert.equal(r.outputs.student, 'student.onnx');
    const studentBytes = readFileSync(join(out, 'student.onnx'));
    assert.deepEqual(readPreprocessMetadata(studentBytes), loadFeatureSet(bf).manifest.preprocess);
    const sf = join(dir, 's-feat');
    await extractFeatures({ modelPath: join(out, 'student.onnx'), listing, outDir: sf, preprocess: pre });
    const sset = loadFeatureSet(sf);
    assert.equal(sset.dim, 5);
    const viaStudent = sset.open().readFloat32Rows(0, sset.rows);
    const b = loadFeatureSet(bf);
    const head = await ort.InferenceSession.create(join(out, 'head.onnx'));
    const input = new ort.Tensor('float32', b.open().readFloat32Rows(0, b.rows), [b.rows, b.dim]);
    const viaHead = (await head.run({ backbone_features: input })).features!.data as Float32Array;
    await head.release();
    let maxAbs = 0;
    for (let i = 0; i < viaHead.length; i++) maxAbs = Math.max(maxAbs, Math.abs(viaHead[i]! - viaStudent[i]!));
    assert.equal(viaHead.length, viaStudent.length);
    assert.ok(maxAbs <= 1e-5, `max abs difference ${maxAbs}`);
    // A backbone other than the one that made the student features is refused.
    await assert.rejects(
      runDistill({
        teacherFeatures: tf,
        studentFeatures: bf,
        backbone: teacher,
        out,
        settings: settings({ epochs: 1 }),
        gemm: jsGemm,
      }),
      (e: unknown) => e instanceof FcprobeError && e.code === 'MISMATCH',
    );
  });

  it('a killed run resumes from its last epoch checkpoint to the same bytes as an uninterrupted run', async () => {
    const dir = tempDir();
    const { sd, td } = makePair(dir, 1200, 24, 12, 5);
    const args = (out: string): string[] => [
      CLI,
      'distill',
      '--teacher-features',
      td,
      '--student-features',
      sd,
      '--head',
      'mlp',
      '--hidden',
      '32',
      '--epochs',
      '8',
      '--batch',
      '16',
      '--warmup',
      '20',
      '--threads',
      '1',
      '--out',
      out,
      '-q',
    ];
    const full = join(dir, 'full'),
      cut = join(dir, 'cut');
    assert.equal(spawnSync(process.execPath, args(full)).status, 0);
    const child = spawn(process.execPath, args(cut), { stdio: 'ignore' });
    const ck = join(cut, 'checkpoint.fcpd');
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    // Kill as soon as the first epoch checkpoint exists (polling; the run has 7 more epochs to go).
    while (!existsSync(ck) && child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGKILL');
    await exited;
    assert.ok(!existsSync(join(cut, 'distill.json')), 'the run was cut before it finished');
    assert.ok(existsSync(ck));
    const second = spawnSync(process.execPath, args(cut));
    assert.equal(second.status, 0, second.stderr.toString());
    const a = JSON.parse(readFileSync(join(full, 'distill.json'), 'utf8'));
    const b = JSON.parse(readFileSync(join(cut, 'distill.json'), 'utf8'));
    assert.ok(b.resumedFromEpoch >= 1, `resumed from epoch ${b.resumedFromEpoch}`);
    assert.deepEqual(b.epochLosses, a.epochLosses);
    assert.ok(readFileSync(join(full, 'head.onnx')).equals(readFileSync(join(cut, 'head.onnx'))));
  });
});
