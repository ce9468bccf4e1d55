import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkExport, compareRows } from '../../src/extract/checkExport.js';
import { encodeNpy } from '../../src/io/npy.js';
import { CLI, linearEncoder, makeSolidFolder, type Rgb, tempDir, writeModel } from '../helpers/fixtures.js';

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];
const W = [
  [1, 0, 0],
  [0.5, -1, 2],
  [0, 0, 3],
];

/** The linear encoder's feature of a solid image, computed here from its definition (not by fcprobe). */
function expected(rgb: Rgb): number[] {
  const c = rgb.map((v, j) => (Math.fround(v / 255) - MEAN[j]!) / STD[j]!);
  return W.map((row) => row.reduce((s, w, j) => s + w * c[j]!, 0));
}

describe('check-export', () => {
  it('compareRows: cosine and max abs difference per row', () => {
    const r = compareRows([1, 0, 0, 2, 2, 0], [1, 0, 0, 0, 2, 0], 2, 3);
    assert.deepEqual(r[0], { cosine: 1, maxAbsDiff: 0, relDiff: 0 });
    assert.ok(Math.abs(r[1]!.cosine - Math.SQRT1_2) < 1e-12);
    assert.equal(r[1]!.maxAbsDiff, 2);
    assert.equal(r[1]!.relDiff, 1);
  });

  it('passes against an independent reference and fails (exit 5, the image named) against a wrong one', async () => {
    const dir = tempDir();
    const colours: Record<string, Rgb[]> = {
      a: [
        [200, 30, 10],
        [12, 240, 99],
      ],
      b: [[77, 77, 200]],
    };
    await makeSolidFolder(join(dir, 'imgs'), colours);
    // Sorted relative paths: a/img_000, a/img_001, b/img_000.
    const order: Rgb[] = [colours.a![0]!, colours.a![1]!, colours.b![0]!];
    const ref = Float32Array.from(order.flatMap(expected));
    writeFileSync(join(dir, 'ref.npy'), encodeNpy('<f4', [3, 3], ref));
    const model = writeModel(join(dir, 'm.onnx'), linearEncoder(W, null));
    const ok = await checkExport({
      modelPath: model,
      dataDir: join(dir, 'imgs'),
      referencePath: join(dir, 'ref.npy'),
      preprocess: { resize: 16, crop: 16 },
      providers: 'cpu',
    });
    assert.equal(ok.pass, true);
    assert.deepEqual(
      ok.images.map((i) => i.file),
      ['a/img_000.png', 'a/img_001.png', 'b/img_000.png'],
    );
    assert.ok(ok.minCosine > 0.99999 && ok.maxRelDiff < 1e-5, JSON.stringify(ok));

    // A "broken export": the second image's reference comes from a different weight matrix.
    const bad = Float32Array.from(ref);
    bad[3] = -bad[3]!;
    writeFileSync(join(dir, 'bad.npy'), encodeNpy('<f4', [3, 3], bad));
    const p = spawnSync(
      process.execPath,
      [
        CLI,
        'check-export',
        '-m',
        model,
        '-d',
        join(dir, 'imgs'),
        '-r',
        join(dir, 'bad.npy'),
        '--resize',
        '16',
        '--crop',
        '16',
        '--ep',
        'cpu',
      ],
      { encoding: 'utf8' },
    );
    assert.equal(p.status, 5, p.stderr);
    assert.match(p.stdout, /a\/img_001\.png .* FAIL/);
    assert.match(p.stdout, /a\/img_000\.png .* ok/);
    assert.match(p.stdout, /FAIL: 2 of 3 images/);

    // A reference with the wrong number of rows is refused before anything runs.
    writeFileSync(join(dir, 'short.npy'), encodeNpy('<f4', [2, 3], ref.subarray(0, 6)));
    await assert.rejects(
      checkExport({ modelPath: model, dataDir: join(dir, 'imgs'), referencePath: join(dir, 'short.npy') }),
      /is \[2, 3\], expected \[3, D\]/,
    );
  });
});
