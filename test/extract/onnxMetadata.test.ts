import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { FcprobeError } from '../../src/errors.js';
import { PREPROCESS_METADATA_KEY, readOnnxMetadata, readPreprocessMetadata } from '../../src/extract/onnxMetadata.js';
import { inspectModel } from '../../src/extract/modelCheck.js';
import { linearEncoder, tempDir } from '../helpers/fixtures.js';

const { onnx } = onnxProto;

/** A fixture encoder with metadata_props added (and a large initializer before them, to be skipped). */
function withMetadata(props: { key: string; value: string }[]): Uint8Array {
  const m = onnx.ModelProto.decode(
    linearEncoder(
      [
        [1, 0, 0],
        [0, 1, 0],
      ],
      null,
    ),
  );
  m.graph!.initializer!.push(
    onnx.TensorProto.create({ name: 'unused', dims: [300000], dataType: 1, rawData: new Uint8Array(1_200_000) }),
  );
  m.metadataProps = props.map((p) => onnx.StringStringEntryProto.create(p));
  return onnx.ModelProto.encode(m).finish();
}

test('onnx metadata: read without decoding the graph, equal to a full onnx-proto decode', () => {
  const dir = tempDir('fcprobe-meta-');
  const spec = {
    preset: 'inception',
    resize: 256,
    crop: 224,
    interpolation: 'bilinear',
    mean: [0.5, 0.5, 0.5],
    std: [0.5, 0.5, 0.5],
  };
  const bytes = withMetadata([
    { key: 'author', value: 'someone' },
    { key: PREPROCESS_METADATA_KEY, value: JSON.stringify(spec) },
  ]);
  const path = join(dir, 'm.onnx');
  writeFileSync(path, bytes);
  const full = onnx.ModelProto.decode(bytes).metadataProps.map((p) => [p.key, p.value]);
  assert.deepEqual([...readOnnxMetadata(path)], full);
  assert.deepEqual(readPreprocessMetadata(path), spec);

  const plain = join(dir, 'plain.onnx');
  writeFileSync(plain, linearEncoder([[1, 0, 0]], null));
  assert.equal(readOnnxMetadata(plain).size, 0);
  assert.equal(readPreprocessMetadata(plain), null);
});

test('onnx metadata: malformed preprocessing metadata and truncated files are BAD_MODEL', () => {
  const dir = tempDir('fcprobe-meta-');
  const isBadModel = (e: unknown): boolean => e instanceof FcprobeError && e.code === 'BAD_MODEL';
  const cases: [string, string][] = [
    ['notjson.onnx', '{preset:'],
    ['array.onnx', '[1,2]'],
    ['crop.onnx', '{"crop": 0}'],
    ['mean.onnx', '{"mean": [0.5, 0.5]}'],
  ];
  for (const [name, value] of cases) {
    const p = join(dir, name);
    writeFileSync(p, withMetadata([{ key: PREPROCESS_METADATA_KEY, value }]));
    assert.throws(() => readPreprocessMetadata(p), isBadModel, name);
  }
  const bytes = withMetadata([{ key: PREPROCESS_METADATA_KEY, value: '{}' }]);
  const cut = join(dir, 'cut.onnx');
  writeFileSync(cut, bytes.subarray(0, bytes.length - 3));
  assert.throws(() => readOnnxMetadata(cut), isBadModel);
});

test('model check: the metadata is the default preprocessing; a conflicting option warns and wins', async () => {
  const dir = tempDir('fcprobe-meta-');
  const meta = {
    preset: 'inception',
    resize: 20,
    crop: 16,
    interpolation: 'bicubic',
    mean: [0.5, 0.5, 0.5],
    std: [0.5, 0.5, 0.5],
  };
  const path = join(dir, 'student.onnx');
  writeFileSync(path, withMetadata([{ key: PREPROCESS_METADATA_KEY, value: JSON.stringify(meta) }]));
  const notices: string[] = [];
  const plain = await inspectModel({ modelPath: path, onNotice: (m) => notices.push(m) });
  const { borderCrop: _b, autoOrient: _a, ...spec } = plain.preprocess;
  assert.deepEqual(spec, meta);
  assert.ok(
    notices.some((n) => n.includes(`(from the model metadata ${PREPROCESS_METADATA_KEY})`)),
    notices.join('\n'),
  );
  assert.ok(!notices.some((n) => n.startsWith('warning')));

  notices.length = 0;
  const crop = await inspectModel({ modelPath: path, preprocess: { crop: 12 }, onNotice: (m) => notices.push(m) });
  assert.equal(crop.preprocess.crop, 12);
  assert.equal(crop.preprocess.resize, 20, 'the fields not given still come from the metadata');
  assert.equal(crop.preprocess.interpolation, 'bicubic');
  assert.ok(
    notices.some((n) => n.startsWith('warning') && n.includes('crop 16 (metadata) -> 12 (flag)')),
    notices.join('\n'),
  );

  notices.length = 0;
  const clip = await inspectModel({
    modelPath: path,
    preprocess: { preset: 'clip' },
    onNotice: (m) => notices.push(m),
  });
  assert.equal(clip.preprocess.preset, 'clip');
  assert.deepEqual(clip.preprocess.mean, [0.48145466, 0.4578275, 0.40821073]);
  assert.ok(
    notices.some((n) => n.startsWith('warning') && n.includes('metadata preset inception (preset clip from flag)')),
    notices.join('\n'),
  );

  notices.length = 0;
  const agree = await inspectModel({ modelPath: path, preprocess: { resize: 20 }, onNotice: (m) => notices.push(m) });
  assert.equal(agree.preprocess.crop, 16);
  assert.ok(!notices.some((n) => n.startsWith('warning')), 'an option equal to the metadata is no conflict');
});
