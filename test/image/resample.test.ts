/** PIL-equivalent resampling: hand-computed results, the crop window, and identity cases. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { precomputeAxis, resampleRgbWindow, type ResampleFilter } from '../../src/image/resample.js';
import { noiseBytes as noise } from '../helpers/fixtures.js';

function grey(values: number[]): Uint8Array {
  return Uint8Array.from(values.flatMap((v) => [v, v, v]));
}

describe('precomputeAxis', () => {
  it('gives the triangle weights of a 2x bilinear downscale', () => {
    // Output 0 is centred at 1.0 with support 2: inputs 0, 1, 2 weigh 0.75, 0.75, 0.25 -> 3/7, 3/7, 1/7.
    const a = precomputeAxis(4, 2, 'bilinear');
    assert.equal(a.ksize, 5);
    assert.deepEqual([a.start[0], a.count[0], a.start[1], a.count[1]], [0, 3, 1, 3]);
    const q = (x: number): number => Math.trunc(0.5 + x * 2 ** 22);
    assert.deepEqual(Array.from(a.weights.subarray(0, 3)), [q(3 / 7), q(3 / 7), q(1 / 7)]);
    assert.deepEqual(Array.from(a.weights.subarray(5, 8)), [q(1 / 7), q(3 / 7), q(3 / 7)]);
  });
  it('sums the fixed-point weights of every output to 2^22 within rounding', () => {
    for (const filter of ['bilinear', 'bicubic'] as ResampleFilter[]) {
      for (const [inSize, outSize] of [
        [500, 341],
        [227, 256],
        [1200, 146],
        [375, 256],
      ] as const) {
        const a = precomputeAxis(inSize, outSize, filter);
        for (let i = 0; i < outSize; i++) {
          let s = 0;
          for (let k = 0; k < a.count[i]!; k++) s += a.weights[i * a.ksize + k]!;
          assert.ok(Math.abs(s - 2 ** 22) <= a.ksize, `${filter} ${inSize}->${outSize} output ${i}: ${s}`);
        }
      }
    }
  });
});

describe('resampleRgbWindow', () => {
  it('reproduces PIL on a 4 -> 2 bilinear row (0,70,140,210 -> 50,160)', () => {
    // (70*3 + 140) / 7 = 50 and (70 + 140*3 + 210*3) / 7 = 160; PIL 9.4 gives the same.
    const src = { data: grey([0, 70, 140, 210]), stride: 12, left: 0, top: 0, width: 4, height: 1 };
    const out = resampleRgbWindow(src, { outWidth: 2, outHeight: 1, left: 0, top: 0, width: 2, height: 1 }, 'bilinear');
    assert.deepEqual(Array.from(out), [50, 50, 50, 160, 160, 160]);
  });

  it('returns the same-size image unchanged', () => {
    const data = noise(37 * 23 * 3, 5);
    const src = { data, stride: 37 * 3, left: 0, top: 0, width: 37, height: 23 };
    for (const f of ['bilinear', 'bicubic'] as ResampleFilter[]) {
      assert.deepEqual(
        resampleRgbWindow(src, { outWidth: 37, outHeight: 23, left: 0, top: 0, width: 37, height: 23 }, f),
        data,
      );
    }
  });

  it('computes a window equal to the same region of the full output', () => {
    const w = 131,
      h = 97;
    const data = noise(w * h * 3, 11);
    const src = { data, stride: w * 3, left: 0, top: 0, width: w, height: h };
    for (const f of ['bilinear', 'bicubic'] as ResampleFilter[]) {
      for (const [ow, oh] of [
        [88, 65],
        [200, 148],
        [131, 40],
        [60, 97],
      ] as const) {
        const full = resampleRgbWindow(src, { outWidth: ow, outHeight: oh, left: 0, top: 0, width: ow, height: oh }, f);
        const win = { outWidth: ow, outHeight: oh, left: 7, top: 5, width: ow - 20, height: oh - 9 };
        const part = resampleRgbWindow(src, win, f);
        for (let y = 0; y < win.height; y++) {
          const a = part.subarray(y * win.width * 3, (y + 1) * win.width * 3);
          const b = full.subarray(((y + win.top) * ow + win.left) * 3, ((y + win.top) * ow + win.left + win.width) * 3);
          assert.deepEqual(a, b, `${f} ${ow}x${oh} row ${y}`);
        }
      }
    }
  });

  it('reads a sub-rectangle of the source like a copied crop', () => {
    const w = 50,
      h = 40;
    const data = noise(w * h * 3, 3);
    const inner = new Uint8Array(46 * 36 * 3);
    for (let y = 0; y < 36; y++) inner.set(data.subarray(((y + 2) * w + 2) * 3, ((y + 2) * w + 48) * 3), y * 46 * 3);
    const win = { outWidth: 30, outHeight: 23, left: 0, top: 0, width: 30, height: 23 };
    const a = resampleRgbWindow({ data, stride: w * 3, left: 2, top: 2, width: 46, height: 36 }, win, 'bicubic');
    const b = resampleRgbWindow(
      { data: inner, stride: 46 * 3, left: 0, top: 0, width: 46, height: 36 },
      win,
      'bicubic',
    );
    assert.deepEqual(a, b);
  });
});
