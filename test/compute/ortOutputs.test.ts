import { test } from 'node:test';
import assert from 'node:assert/strict';
import ort from 'onnxruntime-node';
import { buildOnnxModel } from '../../src/compute/onnxBuilder.js';
import { discardCopies, fillsOutputsInPlace, takeOutputs } from '../../src/compute/ortOutputs.js';

const f32 = (data: Float32Array, dims: number[]) => new ort.Tensor('float32', data, dims);

test('ortOutputs: the installed binding fills pre-allocated outputs in place (and returns a copy too)', async () => {
  const session = await ort.InferenceSession.create(
    buildOnnxModel({
      name: 'add',
      inputs: [{ name: 'A', type: 'float32', shape: [3] }],
      outputs: [{ name: 'Y', type: 'float32', shape: [3] }],
      nodes: [{ op: 'Add', inputs: ['A', 'A'], outputs: ['Y'] }],
      initializers: [],
    }),
  );
  try {
    const y = new Float32Array(3);
    let returned: unknown;
    const ok = await fillsOutputsInPlace({ Y: y }, async () => {
      const r = await session.run({ A: f32(Float32Array.from([1, 2, 3]), [3]) }, { Y: f32(y, [3]) });
      returned = r.Y?.data;
      return r;
    });
    assert.equal(ok, true);
    assert.deepEqual(Array.from(y), [2, 4, 6]);
    // What ortOutputs.ts documents: the result also comes back in a buffer of its own. Should a binding ever
    // return the caller's buffer itself, the check above still holds and this line says the note is stale.
    assert.notEqual(returned, y);
  } finally {
    await session.release();
  }
});

test('ortOutputs: a binding that leaves the buffers alone is detected, and takeOutputs copies', async () => {
  const fake = (values: number[]) => async () =>
    ({ Y: f32(Float32Array.from(values), [values.length]) }) as ort.InferenceSession.ReturnType;
  const y = new Float32Array(2);
  assert.equal(await fillsOutputsInPlace({ Y: y }, fake([5, 6])), false);
  assert.ok(Number.isNaN(y[0]!), 'the probe pre-fills the buffers with NaN');
  // Same values but a NaN result is never taken for "in place".
  assert.equal(await fillsOutputsInPlace({ Y: y }, fake([Number.NaN, 6])), false);
  assert.equal(await fillsOutputsInPlace({ Y: y }, fake([5])), false);
  const r = await fake([5, 6])();
  takeOutputs(r, { Y: y });
  assert.deepEqual(Array.from(y), [5, 6]);
  assert.throws(() => takeOutputs(r, { Z: y }), /no float32 output 'Z'/);
});

test('ortOutputs: discardCopies frees the binding copies at once, never the caller buffers', async () => {
  const n = 1 << 20; // 4 MB per output
  const session = await ort.InferenceSession.create(
    buildOnnxModel({
      name: 'neg',
      inputs: [{ name: 'A', type: 'float32', shape: [n] }],
      outputs: [{ name: 'Y', type: 'float32', shape: [n] }],
      nodes: [{ op: 'Neg', inputs: ['A'], outputs: ['Y'] }],
      initializers: [],
    }),
  );
  try {
    const a = f32(
      Float32Array.from({ length: n }, (_, i) => i % 7),
      [n],
    );
    const y = new Float32Array(n);
    const runOnce = async (discard: boolean): Promise<Float32Array> => {
      const r = await session.run({ A: a }, { Y: f32(y, [n]) });
      const copy = r.Y!.data as Float32Array;
      if (discard) discardCopies(r, { Y: y });
      return copy;
    };
    const copy = await runOnce(true);
    assert.equal(copy.buffer.byteLength, 0, 'the copy is detached');
    assert.equal(y[3], -3, 'the caller buffer keeps the result');
    // Ten runs: 40 MB of copies, under V8's external-memory trigger (64 MB), so without a collection they stay
    // allocated unless discarded.
    const held = async (discard: boolean): Promise<number> => {
      const before = process.memoryUsage().arrayBuffers;
      const keep: Float32Array[] = [];
      for (let i = 0; i < 10; i++) keep.push(await runOnce(discard));
      return process.memoryUsage().arrayBuffers - before;
    };
    assert.ok((await held(true)) < 4 * n, 'discarded copies should not accumulate');
    assert.ok((await held(false)) >= 8 * n, 'kept copies accumulate (else this test shows nothing)');
    // The caller's own buffer is never detached, even when it is what the runtime returned.
    const r = { Y: f32(y, [n]) } as ort.InferenceSession.ReturnType;
    discardCopies(r, { Y: y });
    assert.equal(y.length, n);
  } finally {
    await session.release();
  }
});
