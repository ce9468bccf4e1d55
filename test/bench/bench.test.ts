import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { makeBenchImages, measureCeiling, runExtractCommand, spread, summarize } from '../../src/bench/bench.js';
import { linearEncoder, tempDir } from '../helpers/fixtures.js';

test('summarize: median of odd and even run counts, min and max, spread', () => {
  assert.deepEqual(summarize([3, 1, 2]), { min: 1, median: 2, max: 3, runs: [3, 1, 2] });
  const s = summarize([4, 1, 3, 2]);
  assert.equal(s.median, 2.5);
  assert.equal(spread(s), 3 / 2.5);
  assert.throws(() => summarize([]), RangeError);
});

test('makeBenchImages: 500x375 JPEGs in class folders, repeats hard-linked to the distinct ones', async () => {
  const root = tempDir();
  const dir = await makeBenchImages(join(root, 'imgs'), 7, { unique: 3, classes: 2, sourceDir: join(root, 'src') });
  assert.deepEqual(readdirSync(dir).sort(), ['c0', 'c1']);
  const files = ['c0', 'c1'].flatMap((c) => readdirSync(join(dir, c)).map((f) => join(dir, c, f)));
  assert.equal(files.length, 7);
  const meta = await sharp(files[0]!).metadata();
  assert.equal(meta.format, 'jpeg');
  assert.equal(meta.width, 500);
  assert.equal(meta.height, 375);
  // 3 distinct sources: every file shares its inode with another name (7 names over 3 inodes).
  assert.equal(new Set(files.map((f) => statSync(f).ino)).size, 3);
});

test('measureCeiling: one row per batch size with positive rates', async () => {
  const model = join(tempDir(), 'm.onnx');
  writeFileSync(
    model,
    linearEncoder(
      [
        [1, 0, 0],
        [0, 1, 0],
      ],
      16,
    ),
  );
  const r = await measureCeiling({ modelPath: model, provider: 'cpu', threads: 1, batchSizes: [1, 4], repeats: 3 });
  assert.equal(r.size, 16);
  assert.deepEqual(
    r.rows.map((x) => x.batch),
    [1, 4],
  );
  for (const row of r.rows) {
    assert.equal(row.imagesPerSecond.runs.length, 3);
    assert.ok(row.imagesPerSecond.min > 0);
  }
});

test('runExtractCommand: runs fcprobe extract in a child, reports its rows and peak RSS', async () => {
  const root = tempDir();
  const data = await makeBenchImages(join(root, 'imgs'), 5, { unique: 2, classes: 2, width: 40, height: 30 });
  const model = join(root, 'm.onnx');
  writeFileSync(
    model,
    linearEncoder(
      [
        [1, 0, 0],
        [0, 1, 0],
      ],
      24,
    ),
  );
  const r = await runExtractCommand({
    modelPath: model,
    dataDir: data,
    outDir: join(root, 'out'),
    args: ['--batch', '2', '--resize', '24'],
  });
  // A Node process with onnxruntime and sharp loaded needs tens of MiB at least, and far less than 4 GiB here.
  assert.ok(r.peakRssMiB > 30 && r.peakRssMiB < 4096, `peak RSS ${r.peakRssMiB}`);
  assert.ok(r.imagesPerSecond > 0 && r.wallImagesPerSecond > 0);
  assert.match(r.command, /^fcprobe extract --model .* --batch 2 --resize 24$/);
  const rows = JSON.parse((await import('node:fs')).readFileSync(join(root, 'out', 'manifest.json'), 'utf8')).rows;
  assert.equal(rows, 5);
});

test("runExtractCommand: the peak RSS is the child's own, not its parent's", {
  skip: process.platform !== 'linux',
}, async () => {
  // Linux carries getrusage's maxRSS over fork + exec: a child of a large parent would report the parent's size.
  const root = tempDir();
  const data = await makeBenchImages(join(root, 'imgs'), 3, { unique: 1, classes: 1, width: 40, height: 30 });
  const model = join(root, 'm.onnx');
  writeFileSync(model, linearEncoder([[1, 0, 0]], 24));
  let ballast: Buffer | null = Buffer.alloc(768 << 20, 1);
  const parentMiB = process.memoryUsage().rss / 2 ** 20;
  try {
    const r = await runExtractCommand({
      modelPath: model,
      dataDir: data,
      outDir: join(root, 'out'),
      args: ['--batch', '2', '--resize', '24'],
    });
    assert.ok(parentMiB > 768, `parent RSS ${parentMiB} MiB`);
    assert.ok(
      r.peakRssMiB < parentMiB - 256,
      `child peak ${r.peakRssMiB.toFixed(0)} MiB vs parent ${parentMiB.toFixed(0)} MiB`,
    );
  } finally {
    ballast = null;
  }
  assert.equal(ballast, null);
});
