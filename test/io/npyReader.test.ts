import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { encodeNpy, NpyReader } from '../../src/io/npy.js';
import { tempDir } from '../helpers/fixtures.js';

describe('NpyReader: rows read into a caller array', () => {
  const rows = 7,
    d = 3;
  const data = Float32Array.from({ length: rows * d }, (_, i) => i * 0.5 - 3);
  const path = join(tempDir(), 'x.npy');
  writeFileSync(path, encodeNpy('<f4', [rows, d], data));

  it('fills exactly the view it is given, sync and async, and leaves the rest of its buffer alone', async () => {
    const r = new NpyReader(path);
    try {
      for (const mode of ['sync', 'async'] as const) {
        // A view in the middle of a larger buffer, as the solvers pass (block buffers, WebAssembly memory).
        const backing = new Float32Array(20).fill(99);
        const view = backing.subarray(4, 4 + 3 * d);
        if (mode === 'sync') assert.equal(r.readFloat32Rows(2, 3, view), view);
        else await r.readFloat32RowsAsync(2, 3, view);
        assert.deepEqual(Array.from(view), Array.from(data.subarray(2 * d, 5 * d)), mode);
        assert.deepEqual(Array.from(backing.subarray(0, 4)), [99, 99, 99, 99], mode);
        assert.deepEqual(Array.from(backing.subarray(4 + 3 * d)), new Array(20 - 4 - 3 * d).fill(99), mode);
      }
      assert.deepEqual(Array.from(r.readFloat32Rows(5, 2)), Array.from(data.subarray(5 * d)));
    } finally {
      r.close();
    }
  });

  it('refuses a view too small for the rows instead of writing past it', async () => {
    const r = new NpyReader(path);
    try {
      const backing = new Float32Array(20).fill(99);
      assert.throws(() => r.readFloat32Rows(0, 3, backing.subarray(0, 2 * d)), RangeError);
      await assert.rejects(r.readFloat32RowsAsync(0, 3, backing.subarray(0, 2 * d)), RangeError);
      assert.deepEqual(Array.from(backing), new Array(20).fill(99));
    } finally {
      r.close();
    }
  });
});
