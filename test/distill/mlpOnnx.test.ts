import { test } from 'node:test';
import assert from 'node:assert/strict';
import ort from 'onnxruntime-node';
import { jsGemm } from '../../src/compute/gemm.js';
import { ACTIVATIONS, type Activation } from '../../src/math/activations.js';
import { Mlp, MlpWorkspace } from '../../src/math/mlp.js';
import { Rng } from '../../src/math/rng.js';
import { mlpToOnnx } from '../../src/distill/mlpOnnx.js';

async function runOnnx(bytes: Uint8Array, input: string, data: Float32Array, dims: number[]): Promise<ort.Tensor> {
  const s = await ort.InferenceSession.create(bytes);
  try {
    const r = await s.run({ [input]: new ort.Tensor('float32', data, dims) });
    return r[s.outputNames[0]!]!;
  } finally {
    await s.release();
  }
}

async function tsForward(net: Mlp, x: Float32Array, rows: number): Promise<Float32Array> {
  const ws = new MlpWorkspace(net, rows);
  const out = await ws.forward(jsGemm, { data: x, rows, cols: net.spec.inDim });
  return out.data.slice(0, rows * net.spec.outDim);
}

function assertClose(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  assert.equal(a.length, b.length, `${what}: lengths`);
  for (let i = 0; i < a.length; i++)
    assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-5, `${what}[${i}]: onnxruntime ${a[i]} vs TypeScript ${b[i]}`);
}

for (const activation of ACTIVATIONS) {
  test(`exported MLP (${activation}) computes the TypeScript forward pass in onnxruntime`, async () => {
    const rng = new Rng(3);
    const net = Mlp.create(
      {
        inDim: 12,
        hidden: 16,
        outDim: 5,
        layers: 3,
        activation: activation as Activation,
        bias: true,
        freezeOutput: false,
      },
      rng,
    );
    const rows = 7;
    const x = new Float32Array(rows * 12).map(() => rng.normal());
    const y = await runOnnx(mlpToOnnx(net, { inputName: 'features_in', outputName: 'emb' }), 'features_in', x, [
      rows,
      12,
    ]);
    assert.deepEqual(y.dims, [rows, 5]);
    assertClose(y.data as Float32Array, await tsForward(net, x, rows), activation);
  });
}

test('no bias, frozen output, single output', async () => {
  const rng = new Rng(4);
  const net = Mlp.create(
    { inDim: 6, hidden: 8, outDim: 1, layers: 2, activation: 'relu', bias: false, freezeOutput: true },
    rng,
  );
  const x = new Float32Array(4 * 6).map(() => rng.normal());
  const y = await runOnnx(mlpToOnnx(net), 'input', x, [4, 6]);
  assert.deepEqual(y.dims, [4, 1]);
  assertClose(y.data as Float32Array, await tsForward(net, x, 4), 'frozen');
});

test('NCHW input flattened in the graph equals the forward pass on the row-major flattening', async () => {
  const rng = new Rng(5);
  const [c, h, w] = [3, 4, 5];
  const net = Mlp.create(
    { inDim: c * h * w, hidden: 10, outDim: 4, layers: 2, activation: 'none', bias: true, freezeOutput: false },
    rng,
  );
  const rows = 2;
  const x = new Float32Array(rows * c * h * w).map(() => rng.normal());
  const bytes = mlpToOnnx(net, { inputName: 'image', flattenFrom: { channels: c, height: h, width: w } });
  const y = await runOnnx(bytes, 'image', x, [rows, c, h, w]);
  assertClose(y.data as Float32Array, await tsForward(net, x, rows), 'flatten');
  assert.throws(
    () => mlpToOnnx(net, { flattenFrom: { channels: 3, height: 4, width: 4 } }),
    /48 values, the MLP takes 60/,
  );
});

test('caller-supplied prefix nodes feed the MLP', async () => {
  const rng = new Rng(6);
  const net = Mlp.create(
    { inDim: 3, hidden: 5, outDim: 2, layers: 2, activation: 'tanh', bias: true, freezeOutput: false },
    rng,
  );
  // prefix: x * 2 (a stand-in for a preprocessing front)
  const bytes = mlpToOnnx(net, {
    prefix: {
      input: { name: 'raw', type: 'float32', shape: ['N', 3] },
      nodes: [{ op: 'Mul', inputs: ['raw', 'two'], outputs: ['scaled'] }],
      initializers: [{ name: 'two', dims: [], data: Float32Array.of(2) }],
      output: 'scaled',
    },
  });
  const x = Float32Array.from([0.1, -0.2, 0.3, 1, 2, -3]);
  const y = await runOnnx(bytes, 'raw', x, [2, 3]);
  assertClose(
    y.data as Float32Array,
    await tsForward(
      net,
      x.map((v) => 2 * v),
      2,
    ),
    'prefix',
  );
});

test('the export is a snapshot: later training does not change it', async () => {
  const rng = new Rng(7);
  const net = Mlp.create(
    { inDim: 2, hidden: 3, outDim: 1, layers: 2, activation: 'relu', bias: true, freezeOutput: false },
    rng,
  );
  const x = Float32Array.from([1, 2]);
  const before = await tsForward(net, x, 1);
  const bytes = mlpToOnnx(net);
  net.layers[1]!.weight.fill(0);
  const y = await runOnnx(bytes, 'input', x, [1, 2]);
  assertClose(y.data as Float32Array, before, 'snapshot');
});
