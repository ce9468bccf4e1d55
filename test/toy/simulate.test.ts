import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { jsGemm } from '../../src/compute/gemm.js';
import {
  resolveSimulateOptions,
  runSimulation,
  simulationCsv,
  writeSimulationOutputs,
} from '../../src/toy/simulate.js';
import { FcprobeError } from '../../src/errors.js';
import { tempDir } from '../helpers/fixtures.js';

const small = {
  n: 60,
  coreDim: 4,
  bgDim: 4,
  inputDim: 12,
  hidden: 8,
  iterations: 40,
  every: 20,
  lr: 0.01,
  gemm: jsGemm,
};

test("defaults are toy.py's", () => {
  const o = resolveSimulateOptions({});
  assert.deepEqual(o.data, { n: 1000, coreDim: 32, bgDim: 32, inputDim: 256, coreMode: 'nonlinear' });
  assert.equal(o.hidden, 256);
  assert.equal(o.layers, 2);
  assert.equal(o.activation, 'relu');
  assert.equal(o.loss, 'logistic');
  assert.equal(o.optimizer, 'adamw');
  assert.equal(o.lr, 1e-3);
  assert.equal(o.weightDecay, 1e-3);
  assert.equal(o.iterations, 20000);
  assert.equal(o.every, 1000);
});

test('bad options name the flag, the expectation and what arrived', () => {
  const err = (f: () => unknown, re: RegExp): void =>
    assert.throws(f, (e: unknown) => e instanceof FcprobeError && e.code === 'BAD_OPTION' && re.test(e.message));
  err(
    () => resolveSimulateOptions({ activation: 'swish' as never }),
    /--activation to be one of relu, gelu.*got "swish"/,
  );
  err(
    () => resolveSimulateOptions({ coreDim: 200, bgDim: 100 }),
    /--input-dim to be at least --core-dim \+ --bg-dim = 300/,
  );
  err(() => resolveSimulateOptions({ lr: 0 }), /--lr to be a positive number/);
  err(() => resolveSimulateOptions({ layers: 1 }), /--layers to be an integer >= 2/);
  err(() => resolveSimulateOptions({ momentum: 1 }), /--momentum/);
});

test('runSimulation with --compare-linear: two runs, a summary with numbers, CSV/JSON/SVG on disk', async () => {
  const events: number[] = [];
  const r = await runSimulation({ ...small, compareLinear: true }, (e) => events.push(e.run));
  assert.deepEqual(
    r.runs.map((x) => x.activation),
    ['relu', 'none'],
  );
  assert.ok(events.includes(1) && events.includes(2));
  for (const run of r.runs)
    assert.deepEqual(
      run.records.map((x) => x.iteration),
      [0, 20, 40],
    );
  assert.equal(r.runs[0]!.finalAsymmetry.length, 8);
  const text = r.summary.join('\n');
  const first = r.runs[0]!.records[0]!.backgroundWeightNorm.toFixed(3);
  assert.ok(text.includes(`background weight norm ${first} ->`), text);
  assert.match(text, /linear network \(no activation\)/);
  assert.match(text, /OOD [\d.e-]+ vs ID [\d.e-]+/);

  const dir = tempDir('fcprobe-simulate-');
  const files = writeSimulationOutputs(r, dir);
  const csv = readFileSync(files.csv, 'utf8').trim().split('\n');
  assert.equal(csv.length, 1 + 6);
  assert.equal(
    csv[0],
    'activation,iteration,id_loss,ood_loss,id_accuracy,ood_accuracy,' +
      'core_weight_norm,background_weight_norm,activation_asymmetry',
  );
  assert.ok(csv[4]!.startsWith('none,0,'));
  assert.equal(simulationCsv(r), readFileSync(files.csv, 'utf8'));
  const json = JSON.parse(readFileSync(files.json, 'utf8')) as {
    runs: { records: { backgroundWeightNorm: number }[] }[];
  };
  assert.equal(json.runs[1]!.records[2]!.backgroundWeightNorm, r.runs[1]!.records[2]!.backgroundWeightNorm);
  const svg = readFileSync(files.svg, 'utf8');
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.equal((svg.match(/<path /g) ?? []).length, 8, 'four curves per run');
  assert.doesNotMatch(svg, /NaN|href|<script/);
});

test('runSimulation --compare-linear in worker threads gives the records of the same runs in sequence', async () => {
  const { createOrtGemm } = await import('../../src/compute/gemm.js');
  const { gemm: _js, ...opts } = small;
  const gemm = await createOrtGemm({ threads: 1 });
  let sequential: Awaited<ReturnType<typeof runSimulation>>;
  try {
    sequential = await runSimulation({ ...opts, compareLinear: true, gemm });
  } finally {
    await gemm.dispose();
  }
  const done = new Map<number, number>();
  const parallel = await runSimulation({ ...opts, compareLinear: true }, (e) => done.set(e.run, e.done));
  assert.deepEqual(
    parallel.runs.map((r) => r.activation),
    ['relu', 'none'],
  );
  assert.deepEqual(
    parallel.runs.map((r) => r.records),
    sequential.runs.map((r) => r.records),
  );
  assert.deepEqual(
    parallel.runs.map((r) => r.finalAsymmetry),
    sequential.runs.map((r) => r.finalAsymmetry),
  );
  assert.deepEqual(
    [...done.entries()].sort(),
    [
      [1, 40],
      [2, 40],
    ],
    'both runs report to the end',
  );
});
