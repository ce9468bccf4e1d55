import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { extractFeatures } from '../../src/extract/extract.js';
import { mergeShards } from '../../src/extract/merge.js';
import { FcprobeError } from '../../src/errors.js';
import { scanImageFolder } from '../../src/dataset/listing.js';
import { readOutputState } from '../../src/features/writer.js';
import { buildOnnxModel } from '../../src/compute/onnxBuilder.js';
import {
  linearEncoder,
  makeNoiseFolder,
  makeSolidFolder,
  tempDir,
  writeModel,
  writeNoiseImage,
  type Rgb,
} from '../helpers/fixtures.js';

/** An NPY reader written independently of src/io/npy.ts: parses the header text and the raw little-endian data. */
function parseNpyIndependently(path: string): { descr: string; shape: number[]; values: number[] } {
  const buf = readFileSync(path);
  assert.equal(buf.subarray(0, 6).toString('latin1'), '\x93NUMPY');
  assert.equal(buf[6], 1);
  const hlen = buf[8]! + 256 * buf[9]!;
  const header = buf.subarray(10, 10 + hlen).toString('latin1');
  assert.equal((10 + hlen) % 64, 0, 'data starts 64-byte aligned as numpy expects');
  assert.ok(header.endsWith('\n'));
  const descr = /'descr': '([^']+)'/.exec(header)![1]!;
  assert.match(header, /'fortran_order': False/);
  const shape = /'shape': \(([^)]*)\)/
    .exec(header)![1]!
    .split(',')
    .filter((s) => s.trim())
    .map(Number);
  const dv = new DataView(buf.buffer, buf.byteOffset + 10 + hlen);
  const count = shape.reduce((a, b) => a * b, 1);
  const values: number[] = [];
  for (let i = 0; i < count; i++)
    values.push(descr === '<f4' ? dv.getFloat32(i * 4, true) : Number(dv.getBigInt64(i * 8, true)));
  assert.equal(buf.length, 10 + hlen + count * (descr === '<f4' ? 4 : 8));
  return { descr, shape, values };
}

const W = [
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
  [1, -2, 0.5],
];
const NORM = {
  preset: 'torchvision',
  mean: [0, 0, 0] as [number, number, number],
  std: [1, 1, 1] as [number, number, number],
  resize: 16,
  crop: 16,
};

async function expectError(p: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof FcprobeError, `expected FcprobeError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

describe('extract', () => {
  it('computes known features for constant-colour images and writes valid npy files', async () => {
    const dir = tempDir();
    const colours: Record<string, Rgb[]> = {
      cat: [
        [255, 0, 0],
        [0, 255, 0],
      ],
      dog: [[51, 102, 204]],
    };
    await makeSolidFolder(join(dir, 'data'), colours);
    const model = writeModel(join(dir, 'm.onnx'), linearEncoder(W, null));
    const r = await extractFeatures({
      modelPath: model,
      listing: scanImageFolder(join(dir, 'data')),
      outDir: join(dir, 'out'),
      preprocess: NORM,
    });
    assert.equal(r.status, 'extracted');
    const f = parseNpyIndependently(join(dir, 'out', 'features.npy'));
    const l = parseNpyIndependently(join(dir, 'out', 'labels.npy'));
    assert.equal(f.descr, '<f4');
    assert.deepEqual(f.shape, [3, 4]);
    assert.equal(l.descr, '<i8');
    assert.deepEqual(l.values, [0, 0, 1]);
    const rows: Rgb[] = [
      [255, 0, 0],
      [0, 255, 0],
      [51, 102, 204],
    ];
    rows.forEach((rgb, i) => {
      const c = rgb.map((v) => v / 255);
      W.forEach((w, k) => {
        const expected = w[0]! * c[0]! + w[1]! * c[1]! + w[2]! * c[2]!;
        assert.ok(
          Math.abs(f.values[i * 4 + k]! - expected) < 1e-5,
          `row ${i} feature ${k}: ${f.values[i * 4 + k]} vs ${expected}`,
        );
      });
    });
    const m = JSON.parse(readFileSync(join(dir, 'out', 'manifest.json'), 'utf8'));
    assert.deepEqual(m.classes, ['cat', 'dog']);
    assert.deepEqual(m.files, ['cat/img_000.png', 'cat/img_001.png', 'dog/img_000.png']);
    assert.equal(m.executionProvider, 'cpu');
    assert.equal(m.preprocess.resize, 16);
    assert.equal(m.model.sha256.length, 64);
    assert.equal(existsSync(join(dir, 'out', '.partial')), false);
  });

  it('normalizes with the preset mean/std, flattens [N,D,1,1] and picks the features output', async () => {
    const dir = tempDir();
    await makeSolidFolder(join(dir, 'data'), { a: [[128, 64, 32]] });
    const model = writeModel(join(dir, 'm.onnx'), linearEncoder(W, 16, { outputRank: 4, extraOutput: true }));
    const listing = scanImageFolder(join(dir, 'data'));
    await extractFeatures({ modelPath: model, listing, outDir: join(dir, 'o1'), preprocess: { preset: 'clip' } });
    const f = parseNpyIndependently(join(dir, 'o1', 'features.npy'));
    const mean = [0.48145466, 0.4578275, 0.40821073];
    const std = [0.26862954, 0.26130258, 0.27577711];
    const c = [128, 64, 32].map((v, j) => (v / 255 - mean[j]!) / std[j]!);
    assert.deepEqual(f.shape, [1, 4]);
    W.forEach((w, k) => {
      assert.ok(Math.abs(f.values[k]! - (w[0]! * c[0]! + w[1]! * c[1]! + w[2]! * c[2]!)) < 1e-4);
    });
    await extractFeatures({
      modelPath: model,
      listing,
      outDir: join(dir, 'o2'),
      preprocess: { preset: 'clip' },
      outputName: 'logits',
    });
    const g = parseNpyIndependently(join(dir, 'o2', 'features.npy'));
    g.values.forEach((v, k) => {
      assert.ok(Math.abs(v + f.values[k]!) < 1e-6);
    });
    await expectError(
      extractFeatures({ modelPath: model, listing, outDir: join(dir, 'o3'), outputName: 'nope' }),
      'BAD_OPTION',
      /--output/,
    );
  });

  it('pools token outputs with --pool and feeds float16 models float16 inputs', async () => {
    const dir = tempDir();
    await makeSolidFolder(join(dir, 'data'), { a: [[200, 100, 50]] });
    // [N,3,H,W] -> Conv1x1 -> [N,K,H*W] -> [N,H*W,K]: tokens; with a constant image every token equals W c.
    const tokens = buildOnnxModel({
      inputs: [{ name: 'input', type: 'float16', shape: ['N', 3, 8, 8] }],
      outputs: [{ name: 'tokens', type: 'float32', shape: ['N', 64, 4] }],
      initializers: [
        { name: 'W', dims: [4, 3, 1, 1], data: Float32Array.from(W.flat()) },
        { name: 'shape', dims: [3], data: BigInt64Array.from([0n, 4n, -1n]) },
      ],
      nodes: [
        { op: 'Cast', inputs: ['input'], outputs: ['x'], attrs: { to: 1 } },
        { op: 'Conv', inputs: ['x', 'W'], outputs: ['c'] },
        { op: 'Reshape', inputs: ['c', 'shape'], outputs: ['r'] },
        { op: 'Transpose', inputs: ['r'], outputs: ['tokens'], attrs: { perm: [0, 2, 1] } },
      ],
    });
    const model = writeModel(join(dir, 't.onnx'), tokens);
    const listing = scanImageFolder(join(dir, 'data'));
    await expectError(
      extractFeatures({ modelPath: model, listing, outDir: join(dir, 'o0'), preprocess: NORM }),
      'BAD_OPTION',
      /--pool/,
    );
    const c = [200, 100, 50].map((v) => v / 255);
    for (const pool of ['cls', 'mean'] as const) {
      await extractFeatures({
        modelPath: model,
        listing,
        outDir: join(dir, pool),
        preprocess: { ...NORM, resize: 8, crop: 8 },
        pool,
      });
      const f = parseNpyIndependently(join(dir, pool, 'features.npy'));
      assert.deepEqual(f.shape, [1, 4]);
      // float16 inputs carry ~3 decimal digits.
      W.forEach((w, k) => {
        assert.ok(Math.abs(f.values[k]! - (w[0]! * c[0]! + w[1]! * c[1]! + w[2]! * c[2]!)) < 5e-3, `${pool} ${k}`);
      });
    }
  });

  it('uses --classes to place a class subset in a larger index space', async () => {
    const dir = tempDir();
    await makeSolidFolder(join(dir, 'data'), { b: [[1, 2, 3]], d: [[4, 5, 6]] });
    const model = writeModel(join(dir, 'm.onnx'), linearEncoder(W, null));
    const listing = scanImageFolder(join(dir, 'data'), { classes: ['a', 'b', 'c', 'd'] });
    await extractFeatures({ modelPath: model, listing, outDir: join(dir, 'out'), preprocess: NORM });
    assert.deepEqual(parseNpyIndependently(join(dir, 'out', 'labels.npy')).values, [1, 3]);
    assert.throws(() => scanImageFolder(join(dir, 'data'), { classes: ['a', 'b'] }), /"d".*not in the class list/);
  });

  it('rejects a crop that disagrees with the model before decoding anything', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'data', 'a'), { recursive: true });
    // Not an image: if anything were decoded first, the error would be about this file instead.
    writeFileSync(join(dir, 'data', 'a', 'x.jpg'), 'garbage');
    const model = writeModel(join(dir, 'm.onnx'), linearEncoder(W, 16));
    await expectError(
      extractFeatures({
        modelPath: model,
        listing: scanImageFolder(join(dir, 'data')),
        outDir: join(dir, 'out'),
        preprocess: { crop: 24 },
        strict: true,
      }),
      'BAD_OPTION',
      /--crop.*16.*24/,
    );
  });

  it('gives clear errors for bad models, folders and output directories', async () => {
    const dir = tempDir();
    await makeSolidFolder(join(dir, 'data'), { a: [[1, 2, 3]] });
    const listing = scanImageFolder(join(dir, 'data'));
    await expectError(
      extractFeatures({ modelPath: join(dir, 'missing.onnx'), listing, outDir: join(dir, 'o') }),
      'BAD_MODEL',
      /does not exist/,
    );
    writeFileSync(join(dir, 'junk.onnx'), 'this is not a protobuf');
    await expectError(
      extractFeatures({ modelPath: join(dir, 'junk.onnx'), listing, outDir: join(dir, 'o') }),
      'BAD_MODEL',
      /Cannot load model/,
    );
    const notImage = buildOnnxModel({
      inputs: [{ name: 'x', type: 'float32', shape: ['N', 10] }],
      outputs: [{ name: 'y', type: 'float32', shape: ['N', 10] }],
      nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
      initializers: [],
    });
    await expectError(
      extractFeatures({ modelPath: writeModel(join(dir, 'vec.onnx'), notImage), listing, outDir: join(dir, 'o') }),
      'BAD_MODEL',
      /expected an image tensor \[N, 3, H, W\]/,
    );
    const model = writeModel(join(dir, 'm.onnx'), linearEncoder(W, null));
    writeFileSync(join(dir, 'afile'), 'x');
    await expectError(
      extractFeatures({ modelPath: model, listing, outDir: join(dir, 'afile', 'sub'), preprocess: NORM }),
      'IO',
      /Cannot write to output directory/,
    );
    await expectError(
      extractFeatures({ modelPath: model, listing, outDir: join(dir, 'o'), providers: 'cuda' }),
      'PROVIDER_UNAVAILABLE',
      /cuda/,
    );
    mkdirSync(join(dir, 'empty'));
    assert.throws(() => scanImageFolder(join(dir, 'empty')), /no class sub-folders/);
    mkdirSync(join(dir, 'noimg', 'a'), { recursive: true });
    writeFileSync(join(dir, 'noimg', 'a', 'readme.txt'), 'x');
    assert.throws(() => scanImageFolder(join(dir, 'noimg')), /contains no images/);
    assert.throws(() => scanImageFolder(join(dir, 'nowhere')), /does not exist/);
  });

  it('skips corrupt and truncated images, lists them, and fails on them with strict', async () => {
    const dir = tempDir();
    await makeSolidFolder(join(dir, 'data'), {
      a: [
        [10, 20, 30],
        [40, 50, 60],
      ],
    });
    writeFileSync(join(dir, 'data', 'a', 'bad.jpg'), 'not a jpeg at all');
    const good = readFileSync(join(dir, 'data', 'a', 'img_000.png'));
    writeFileSync(join(dir, 'data', 'a', 'cut.png'), good.subarray(0, Math.floor(good.length / 2)));
    writeFileSync(join(dir, 'data', 'a', 'notes.txt'), 'ignored: not an image extension');
    writeFileSync(join(dir, 'data', 'a', '.hidden.png'), 'ignored: hidden');
    const listing = scanImageFolder(join(dir, 'data'));
    assert.deepEqual(
      listing.items.map((i) => i.file),
      ['a/bad.jpg', 'a/cut.png', 'a/img_000.png', 'a/img_001.png'],
    );
    const model = writeModel(join(dir, 'm.onnx'), linearEncoder(W, null));
    const r = await extractFeatures({
      modelPath: model,
      listing,
      outDir: join(dir, 'out'),
      preprocess: NORM,
      batchSize: 3,
    });
    assert.equal(r.rows, 2);
    assert.deepEqual(r.skipped.map((s) => s.file).sort(), ['a/bad.jpg', 'a/cut.png']);
    assert.ok(r.skipped.every((s) => s.reason.length > 0));
    assert.deepEqual(r.manifest.files, ['a/img_000.png', 'a/img_001.png']);
    assert.deepEqual(parseNpyIndependently(join(dir, 'out', 'features.npy')).shape, [2, 4]);
    await expectError(
      extractFeatures({ modelPath: model, listing, outDir: join(dir, 'strict'), preprocess: NORM, strict: true }),
      'BAD_DATA',
      /bad\.jpg/,
    );
  });

  it('skips a finished run, refuses features from another model, and redoes with force', async () => {
    const dir = tempDir();
    await makeSolidFolder(join(dir, 'data'), { a: [[1, 2, 3]] });
    const listing = scanImageFolder(join(dir, 'data'));
    const m1 = writeModel(join(dir, 'm1.onnx'), linearEncoder(W, null));
    const m2 = writeModel(join(dir, 'm2.onnx'), linearEncoder([[2, 0, 0]], null));
    const out = join(dir, 'out');
    assert.equal(
      (await extractFeatures({ modelPath: m1, listing, outDir: out, preprocess: NORM })).status,
      'extracted',
    );
    assert.equal(
      (await extractFeatures({ modelPath: m1, listing, outDir: out, preprocess: NORM })).status,
      'already-done',
    );
    await expectError(
      extractFeatures({ modelPath: m2, listing, outDir: out, preprocess: NORM }),
      'MISMATCH',
      /different model/,
    );
    await expectError(
      extractFeatures({ modelPath: m1, listing, outDir: out, preprocess: { ...NORM, resize: 20 } }),
      'MISMATCH',
      /preprocessing/,
    );
    const r = await extractFeatures({ modelPath: m2, listing, outDir: out, preprocess: NORM, force: true });
    assert.equal(r.status, 'extracted');
    assert.deepEqual(parseNpyIndependently(join(out, 'features.npy')).shape, [1, 1]);
  });

  it('shards and merges into the same bytes as one unsharded run', async () => {
    const dir = tempDir();
    await makeNoiseFolder(join(dir, 'data'), ['x', 'y', 'z'], 4);
    writeFileSync(join(dir, 'data', 'y', 'broken.png'), 'broken');
    const listing = scanImageFolder(join(dir, 'data'));
    const model = writeModel(join(dir, 'm.onnx'), linearEncoder(W, null));
    await extractFeatures({ modelPath: model, listing, outDir: join(dir, 'full'), preprocess: NORM, batchSize: 2 });
    const shards = [2, 0, 1].map((i) => join(dir, `s${i}`));
    for (const i of [0, 1, 2]) {
      await extractFeatures({
        modelPath: model,
        listing,
        outDir: join(dir, `s${i}`),
        preprocess: NORM,
        batchSize: 2,
        shard: { index: i, count: 3 },
      });
    }
    assert.throws(() => mergeShards(shards.slice(0, 2), join(dir, 'bad')), /missing/);
    mergeShards(shards, join(dir, 'merged'));
    for (const f of ['features.npy', 'labels.npy']) {
      assert.ok(readFileSync(join(dir, 'full', f)).equals(readFileSync(join(dir, 'merged', f))), f);
    }
    const a = JSON.parse(readFileSync(join(dir, 'full', 'manifest.json'), 'utf8'));
    const b = JSON.parse(readFileSync(join(dir, 'merged', 'manifest.json'), 'utf8'));
    assert.deepEqual(b.files, a.files);
    assert.deepEqual(b.skipped, a.skipped);
    assert.equal(b.key, a.key);
    // A shard of another model cannot be mixed in.
    const other = writeModel(join(dir, 'o.onnx'), linearEncoder([[1, 1, 1]], null));
    await extractFeatures({
      modelPath: other,
      listing,
      outDir: join(dir, 'o1'),
      preprocess: NORM,
      shard: { index: 1, count: 3 },
    });
    assert.throws(() => mergeShards([shards[1]!, join(dir, 'o1'), shards[0]!], join(dir, 'bad2')), /another model/);
  });

  it('keeps every row right over many batches through reused batch buffers, skipped files between', async () => {
    // 15+ batches of 2 with up to 8 images decoding at once: each batch buffer is reused many times while
    // the next ones decode; every row must still be W * colour of its own file (hand-computed).
    const dir = tempDir();
    const colour = (i: number): Rgb => [(i * 37) % 256, (i * 91 + 40) % 256, (i * 53 + 7) % 256];
    const colours: Record<string, Rgb[]> = {
      a: Array.from({ length: 17 }, (_, i) => colour(i)),
      b: Array.from({ length: 14 }, (_, i) => colour(i + 17)),
    };
    await makeSolidFolder(join(dir, 'data'), colours);
    writeFileSync(join(dir, 'data', 'a', 'img_004b.png'), 'corrupt');
    writeFileSync(join(dir, 'data', 'b', 'img_009b.png'), 'corrupt');
    const model = writeModel(join(dir, 'm.onnx'), linearEncoder(W, null));
    const r = await extractFeatures({
      modelPath: model,
      listing: scanImageFolder(join(dir, 'data')),
      outDir: join(dir, 'out'),
      preprocess: NORM,
      batchSize: 2,
      decodeConcurrency: 8,
    });
    assert.equal(r.rows, 31);
    assert.deepEqual(
      r.skipped.map((x) => x.file),
      ['a/img_004b.png', 'b/img_009b.png'],
    );
    const f = parseNpyIndependently(join(dir, 'out', 'features.npy'));
    r.manifest.files.forEach((file, row) => {
      const m = /^(a|b)\/img_(\d+)\.png$/.exec(file)!;
      const c = colour(Number(m[2]) + (m[1] === 'b' ? 17 : 0)).map((v) => v / 255);
      W.forEach((w, k) => {
        const want = w[0]! * c[0]! + w[1]! * c[1]! + w[2]! * c[2]!;
        assert.ok(
          Math.abs(f.values[row * 4 + k]! - want) < 1e-5,
          `${file} (row ${row}) feature ${k}: ${f.values[row * 4 + k]} vs ${want}`,
        );
      });
    });
  });

  it('a stop request commits what it has (even between timed commits); a rerun resumes to the same bytes', async () => {
    const dir = tempDir();
    await makeNoiseFolder(join(dir, 'data'), ['a', 'b'], 6, 24);
    const model = writeModel(join(dir, 'm.onnx'), linearEncoder(W, null));
    const listing = scanImageFolder(join(dir, 'data'));
    const base = { modelPath: model, listing, preprocess: NORM, batchSize: 4, commitEverySeconds: 3600 };
    await extractFeatures({ ...base, outDir: join(dir, 'ref') });
    let batches = 0;
    await expectError(
      extractFeatures({ ...base, outDir: join(dir, 'out'), shouldStop: () => ++batches >= 2 }),
      'INTERRUPTED',
      /Interrupted after 8 of 12 images/,
    );
    const state = readOutputState(
      join(dir, 'out'),
      JSON.parse(readFileSync(join(dir, 'ref', 'manifest.json'), 'utf8')).key,
    );
    assert.equal(state.kind, 'resume');
    assert.equal(
      state.kind === 'resume' ? state.progress.itemsDone : -1,
      8,
      'both batches committed although the 3600 s interval had not passed',
    );
    const r = await extractFeatures({ ...base, outDir: join(dir, 'out') });
    assert.equal(r.status, 'extracted');
    for (const f of ['features.npy', 'labels.npy'])
      assert.ok(readFileSync(join(dir, 'ref', f)).equals(readFileSync(join(dir, 'out', f))), f);
  });

  it('a folder of noise images produces distinct rows in file order', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'data', 'k'), { recursive: true });
    for (let i = 0; i < 5; i++) await writeNoiseImage(join(dir, 'data', 'k', `${i}.png`), i + 10);
    const model = writeModel(join(dir, 'm.onnx'), linearEncoder(W, null));
    const r = await extractFeatures({
      modelPath: model,
      listing: scanImageFolder(join(dir, 'data')),
      outDir: join(dir, 'out'),
      preprocess: NORM,
      batchSize: 2,
    });
    const f = parseNpyIndependently(join(dir, 'out', 'features.npy'));
    const firsts = new Set(Array.from({ length: 5 }, (_, i) => f.values[i * 4]!.toFixed(6)));
    assert.equal(firsts.size, 5);
    assert.deepEqual(r.manifest.files, ['k/0.png', 'k/1.png', 'k/2.png', 'k/3.png', 'k/4.png']);
  });
});
