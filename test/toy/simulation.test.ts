import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsGemm } from '../../src/compute/gemm.js';
import { recordIterations, runStructuredSimulation, type SimulationConfig } from '../../src/toy/simulation.js';

/** Small dims so the JS reference Gemm runs it in well under a second per network. */
const base: SimulationConfig = {
  data: { n: 200, coreDim: 8, bgDim: 8, inputDim: 32, coreMode: 'linear' },
  hidden: 32,
  layers: 2,
  activation: 'relu',
  bias: true,
  freezeOutput: true,
  loss: 'hinge',
  optimizer: 'sgd',
  lr: 0.1,
  weightDecay: 0,
  momentum: 0.9,
  iterations: 300,
  every: 100,
  seed: 1,
  lowRank: true,
};

test('record iterations: 0, every, ..., and the last one', () => {
  assert.deepEqual(recordIterations(300, 100), [0, 100, 200, 300]);
  assert.deepEqual(recordIterations(250, 100), [0, 100, 200, 250]);
  assert.deepEqual(recordIterations(0, 100), [0]);
});

for (const seed of [1, 2]) {
  test(`theory (hinge, SGD, frozen output, linear core), seed ${seed}: only ReLU learns the background`, async () => {
    const relu = await runStructuredSimulation(jsGemm, { ...base, seed });
    const lin = await runStructuredSimulation(jsGemm, { ...base, seed, activation: 'none' });
    assert.deepEqual(
      relu.records.map((r) => r.iteration),
      [0, 100, 200, 300],
    );
    const [r0, r1] = [relu.records[0]!, relu.records.at(-1)!];
    const [l0, l1] = [lin.records[0]!, lin.records.at(-1)!];
    // Same seed: same initialization and data, so both start from the same weight norms.
    assert.equal(r0.backgroundWeightNorm, l0.backgroundWeightNorm);
    assert.equal(r0.coreWeightNorm, l0.coreWeightNorm);
    // Both fit the training data through the core features.
    assert.ok(r1.idAccuracy === 1 && l1.idAccuracy === 1, `ID accuracy ${r1.idAccuracy}, ${l1.idAccuracy}`);
    assert.ok(r1.coreWeightNorm > 2 * r0.coreWeightNorm && l1.coreWeightNorm > 2 * l0.coreWeightNorm);
    // Contamination: ReLU's background weight norm grows by a large factor, the linear network's stays put.
    assert.ok(
      r1.backgroundWeightNorm > 1.8 * r0.backgroundWeightNorm,
      `ReLU background ${r0.backgroundWeightNorm} -> ${r1.backgroundWeightNorm}`,
    );
    assert.ok(
      Math.abs(l1.backgroundWeightNorm - l0.backgroundWeightNorm) < 0.1 * l0.backgroundWeightNorm,
      `linear background ${l0.backgroundWeightNorm} -> ${l1.backgroundWeightNorm}`,
    );
    // ...and it costs ReLU out of distribution, not the linear network.
    assert.ok(r1.oodLoss > r1.idLoss + 0.1, `ReLU OOD loss ${r1.oodLoss} vs ID ${r1.idLoss}`);
    assert.ok(l1.oodLoss < l1.idLoss + 0.05, `linear OOD loss ${l1.oodLoss} vs ID ${l1.idLoss}`);
    // A linear neuron's |activation| is not class-specific the way a ReLU's is.
    assert.ok(r1.asymmetry > l1.asymmetry, `asymmetry relu ${r1.asymmetry} vs linear ${l1.asymmetry}`);
  });
}

test("paper setting (logistic, AdamW, nonlinear core): ReLU background growth is several times linear's", async () => {
  const cfg: SimulationConfig = {
    ...base,
    data: { ...base.data, coreMode: 'nonlinear' },
    loss: 'logistic',
    optimizer: 'adamw',
    lr: 1e-2,
    weightDecay: 1e-3,
    freezeOutput: false,
  };
  const relu = await runStructuredSimulation(jsGemm, cfg);
  const lin = await runStructuredSimulation(jsGemm, { ...cfg, activation: 'none' });
  const grow = (o: typeof relu): number => o.records.at(-1)!.backgroundWeightNorm - o.records[0]!.backgroundWeightNorm;
  assert.ok(grow(relu) > 2.5 * grow(lin), `background growth relu ${grow(relu)} vs linear ${grow(lin)}`);
  assert.ok(relu.records.at(-1)!.oodLoss > relu.records.at(-1)!.idLoss + 0.3);
});

test('the dense input and its x = z T factorization train the same network', async () => {
  const a = await runStructuredSimulation(jsGemm, { ...base, iterations: 50, every: 50 });
  const b = await runStructuredSimulation(jsGemm, { ...base, iterations: 50, every: 50, lowRank: false });
  for (const k of ['idLoss', 'oodLoss', 'coreWeightNorm', 'backgroundWeightNorm'] as const) {
    const x = a.records.at(-1)![k],
      y = b.records.at(-1)![k];
    assert.ok(Math.abs(x - y) < 1e-3 * (1 + Math.abs(x)), `${k}: ${x} vs ${y}`);
  }
});

test('same seed, same run: byte-identical records', async () => {
  const a = await runStructuredSimulation(jsGemm, { ...base, iterations: 30, every: 10 });
  const b = await runStructuredSimulation(jsGemm, { ...base, iterations: 30, every: 10 });
  assert.deepEqual(a.records, b.records);
});
