/**
 * Row selections of a feature directory: the view's rows, labels and files are exactly those selected, read
 * synchronously or asynchronously in any block size, over gaps and runs longer than one bounded read; a probe
 * fitted on a selection equals one fitted on a folder holding only those rows.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadFeatureSet } from '../../src/features/manifest.js';
import { selectionSha256, selectRows } from '../../src/features/rowSelection.js';
import { fitProbe } from '../../src/probe/probe.js';
import { writeFeatureDir } from '../helpers/featureDir.js';
import { tempDir } from '../helpers/fixtures.js';

const N = 1200;
const D = 5;

function fixture(): { dir: string; x: Float32Array; labels: number[]; files: string[] } {
  const x = Float32Array.from({ length: N * D }, (_, i) => Math.sin(i * 0.37) * 3 + (i % D));
  const labels = Array.from({ length: N }, (_, i) => (i * 7) % 3);
  const files = Array.from({ length: N }, (_, i) => `c${labels[i]}/img${i}.png`);
  const dir = writeFeatureDir(join(tempDir(), 'f'), { x, d: D, labels, classes: ['a', 'b', 'c'], files });
  return { dir, x, labels, files };
}

/** Rows with single rows, short gaps (<= 8), long gaps and a dense run longer than 256 rows. */
function selection(): Int32Array {
  const rows: number[] = [0, 1, 2, 5, 13, 14, 30, 31, 40, 300];
  for (let r = 301; r < 700; r++) rows.push(r);
  for (let r = 700; r < N; r += r % 3 === 0 ? 9 : 2) rows.push(r);
  if (rows.at(-1) !== N - 1) rows.push(N - 1);
  return Int32Array.from(rows);
}

describe('selectRows', () => {
  it('reads exactly the selected rows, labels and files, in any block size, sync and async', async () => {
    const { dir, x, labels, files } = fixture();
    const rows = selection();
    const view = selectRows(loadFeatureSet(dir), rows);
    assert.equal(view.rows, rows.length);
    assert.deepEqual(
      view.manifest.files,
      Array.from(rows, (r) => files[r]),
    );
    assert.equal(view.manifest.rows, rows.length);
    assert.deepEqual(
      Array.from(view.labels()),
      Array.from(rows, (r) => labels[r]),
    );
    const expected = new Float32Array(rows.length * D);
    rows.forEach((r, i) => {
      expected.set(x.subarray(r * D, (r + 1) * D), i * D);
    });
    for (const block of [1, 7, 256, 1000, rows.length]) {
      const got = new Float32Array(rows.length * D);
      const gotAsync = new Float32Array(rows.length * D);
      const reader = view.open();
      try {
        for (let s = 0; s < rows.length; s += block) {
          const count = Math.min(block, rows.length - s);
          got.set(reader.readFloat32Rows(s, count), s * D);
          await reader.readFloat32RowsAsync(s, count, gotAsync.subarray(s * D, (s + count) * D));
        }
      } finally {
        reader.close();
      }
      assert.deepEqual(got, expected, `block ${block}`);
      assert.deepEqual(gotAsync, expected, `block ${block} (async)`);
    }
  });

  it('refuses unordered or out-of-range rows, and hashes the indices as little-endian int32', () => {
    const { dir } = fixture();
    const set = loadFeatureSet(dir);
    assert.throws(() => selectRows(set, Int32Array.from([3, 3])), RangeError);
    assert.throws(() => selectRows(set, Int32Array.from([4, 2])), RangeError);
    assert.throws(() => selectRows(set, Int32Array.from([N])), RangeError);
    const rows = Int32Array.from([1, 256, 70000]);
    const le = Buffer.alloc(12);
    rows.forEach((r, i) => {
      le.writeInt32LE(r, i * 4);
    });
    assert.equal(selectionSha256(rows), createHash('sha256').update(le).digest('hex'));
  });

  it('fits the same probe on a selection as on a folder of only those rows', async () => {
    const { dir, x, labels, files } = fixture();
    const rows = selection();
    const sub = new Float32Array(rows.length * D);
    rows.forEach((r, i) => {
      sub.set(x.subarray(r * D, (r + 1) * D), i * D);
    });
    const copy = writeFeatureDir(join(tempDir(), 'copy'), {
      x: sub,
      d: D,
      labels: Array.from(rows, (r) => labels[r]!),
      classes: ['a', 'b', 'c'],
      files: Array.from(rows, (r) => files[r]!),
    });
    const a = await fitProbe({ train: dir, trainRows: rows, C: 0.5, threads: 1 });
    const b = await fitProbe({ train: copy, C: 0.5, threads: 1 });
    assert.deepEqual(a.weights, b.weights);
    assert.deepEqual(a.file.train.selection, { of: N, sha256: selectionSha256(rows) });
    assert.equal(a.file.train.rows, rows.length);
  });
});
