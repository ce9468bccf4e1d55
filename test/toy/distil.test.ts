/**
 * Demo students train in worker threads: the weights must be exactly those of the same training on this
 * thread (the demo's published numbers depend on it), a finished student is reused, and failures surface.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createOrtGemm } from '../../src/compute/gemm.js';
import { DEMO_WORLD_DEFAULTS } from '../../src/toy/demoWorld.js';
import { Rng } from '../../src/math/rng.js';
import { trainStudent, trainStudentInWorker, type DistilJob } from '../../src/toy/distil.js';
import { tempDir } from '../helpers/fixtures.js';

function job(dir: string, name: string): DistilJob {
  const world = DEMO_WORLD_DEFAULTS;
  const rows = 40,
    cols = 3 * world.side * world.side;
  const rng = new Rng(5);
  const x = Float32Array.from({ length: rows * cols }, () => rng.normal());
  const target = Float32Array.from({ length: rows * world.teacherDim }, () => Math.max(0, rng.normal()));
  return {
    spec: { activation: 'relu', hidden: 16, iterations: 30, lr: 1e-2, weightDecay: 1e-3, seed: 3 },
    world,
    x: { data: x, rows, cols },
    target,
    modelPath: join(dir, name),
  };
}

describe('trainStudentInWorker', () => {
  it('writes the same ONNX bytes as training on the calling thread, and reports progress', async () => {
    const dir = tempDir('fcprobe-distil-');
    const gemm = await createOrtGemm({ threads: 1 });
    let here: Awaited<ReturnType<typeof trainStudent>>;
    try {
      here = await trainStudent(gemm, job(dir, 'here.onnx'));
    } finally {
      await gemm.dispose();
    }
    const steps: number[] = [];
    const there = await trainStudentInWorker(job(dir, 'there.onnx'), (i) => steps.push(i));
    assert.equal(there.cached, false);
    assert.equal(there.finalLoss, here.finalLoss);
    assert.ok(there.finalLoss < there.initialLoss, `the loss falls: ${there.initialLoss} -> ${there.finalLoss}`);
    assert.ok(
      readFileSync(join(dir, 'there.onnx')).equals(readFileSync(join(dir, 'here.onnx'))),
      'identical ONNX files',
    );
    assert.deepEqual(steps, [1, 30]);
    const again = await trainStudentInWorker(job(dir, 'there.onnx'));
    assert.equal(again.cached, true);
  });

  it('rejects with the reason when the student cannot be written', async () => {
    const j = job(tempDir('fcprobe-distil-'), 'x.onnx');
    await assert.rejects(
      trainStudentInWorker({ ...j, modelPath: join(j.modelPath, 'no', 'such', 'dir.onnx') }),
      /ENOENT|ENOTDIR/,
    );
  });
});
