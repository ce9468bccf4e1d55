/**
 * The cache key covers what determines the features beyond the .onnx file and the file names: the model's
 * external-data files, and each image's size and modification time (or bytes, with verifyContent).
 */
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import onnxProto from 'onnx-proto';
import { extractFeatures } from '../../src/extract/extract.js';
import { scanImageFolder } from '../../src/dataset/listing.js';
import { externalDataLocations } from '../../src/io/onnxExternal.js';
import { linearEncoder, makeNoiseFolder, RAW_PIXELS_16, tempDir, writeNoiseImage } from '../helpers/fixtures.js';

const { onnx } = onnxProto;
const NORM = RAW_PIXELS_16;

/** linearEncoder(W) with its weight tensor stored in <model>.data (ONNX external data). */
function externalModel(dir: string, W: number[][]): string {
  const m = onnx.ModelProto.decode(linearEncoder(W, null));
  const t = m.graph!.initializer![0]!;
  const data = Float32Array.from(W.flat());
  const raw = Buffer.from(data.buffer);
  t.rawData = new Uint8Array(0);
  t.floatData = [];
  t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
  t.externalData = [
    { key: 'location', value: 'm.onnx.data' },
    { key: 'offset', value: '0' },
    { key: 'length', value: String(raw.length) },
  ];
  writeFileSync(join(dir, 'm.onnx.data'), raw);
  const path = join(dir, 'm.onnx');
  writeFileSync(path, onnx.ModelProto.encode(m).finish());
  return path;
}

describe('feature cache key', () => {
  it('changing only model.onnx.data re-extracts, with a message naming it', async () => {
    const dir = tempDir('fcprobe-key-');
    await makeNoiseFolder(join(dir, 'data'), ['a', 'b'], 2, 16);
    const model = externalModel(dir, [
      [1, 0, 0],
      [0, 1, 0],
    ]);
    assert.deepEqual(externalDataLocations(readFileSync(model)), ['m.onnx.data']);
    const base = {
      modelPath: model,
      listing: scanImageFolder(join(dir, 'data')),
      preprocess: NORM,
      outDir: join(dir, 'out'),
    };
    const first = await extractFeatures(base);
    const f1 = readFileSync(join(dir, 'out', 'features.npy'));
    // Same .onnx bytes, other weights.
    writeFileSync(join(dir, 'm.onnx.data'), Buffer.from(Float32Array.from([2, 0, 0, 0, 2, 0]).buffer));
    const notices: string[] = [];
    const second = await extractFeatures({ ...base, onStale: 'replace', onNotice: (m) => notices.push(m) });
    assert.equal(first.manifest.model.sha256, second.manifest.model.sha256, 'the .onnx file itself is unchanged');
    assert.equal(second.status, 'extracted');
    assert.ok(
      notices.some((n) => /external data/.test(n)),
      notices.join(' | '),
    );
    const f2 = readFileSync(join(dir, 'out', 'features.npy'));
    assert.ok(!f1.equals(f2), 'new features');
  });

  it('an image replaced under the same name re-extracts; an untouched folder is reused', async () => {
    const dir = tempDir('fcprobe-key-');
    await makeNoiseFolder(join(dir, 'data'), ['a', 'b'], 2, 16);
    const model = externalModel(dir, [[1, 0, 0]]);
    const listing = scanImageFolder(join(dir, 'data'));
    const base = { modelPath: model, listing, preprocess: NORM, outDir: join(dir, 'out') };
    await extractFeatures(base);
    assert.equal((await extractFeatures(base)).status, 'already-done');
    const victim = join(dir, 'data', listing.items[0]!.file);
    copyFileSync(victim, join(dir, 'orig.png'));
    await writeNoiseImage(victim, 999, 16, 16);
    utimesSync(victim, new Date(2001, 1, 1), new Date(2001, 1, 1));
    const notices: string[] = [];
    const r = await extractFeatures({ ...base, onStale: 'replace', onNotice: (m) => notices.push(m) });
    assert.equal(r.status, 'extracted');
    assert.ok(
      notices.some((n) => /image sizes or modification times/.test(n)),
      notices.join(' | '),
    );
    // verifyContent keys on the bytes: the same bytes with another time are the same images.
    await extractFeatures({ ...base, verifyContent: true, onStale: 'replace' });
    utimesSync(victim, new Date(2003, 1, 1), new Date(2003, 1, 1));
    assert.equal((await extractFeatures({ ...base, verifyContent: true })).status, 'already-done');
  });
});
