/**
 * The WebAssembly kernels against the JavaScript reference (itself checked against PIL by hand and by the
 * torchvision known answers): every byte and every float must match, on noise (which makes bicubic overshoot
 * past 0 and 255, so the clamps are exercised), for down- and upscales, windows and source sub-rectangles.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resampleRgbWindow, type ResampleFilter, type ResizeWindow, type RgbSource } from '../../src/image/resample.js';
import { WasmResampler } from '../../src/image/resampleWasm.js';
import { normalizeLut, normalizeToChw } from '../../src/image/decode.js';
import { resolvePreprocess } from '../../src/image/preprocessSpec.js';
import { noiseBytes as noise } from '../helpers/fixtures.js';

const kernels = WasmResampler.load();

interface Case {
  name: string;
  src: RgbSource;
  win: ResizeWindow;
}

function cases(): Case[] {
  const out: Case[] = [];
  let seed = 1;
  const add = (
    name: string,
    w: number,
    h: number,
    border: number,
    outW: number,
    outH: number,
    crop: [number, number],
  ): void => {
    const data = noise(w * h * 3, seed++);
    const src = { data, stride: w * 3, left: border, top: border, width: w - 2 * border, height: h - 2 * border };
    const win = {
      outWidth: outW,
      outHeight: outH,
      left: (outW - crop[0]) >> 1,
      top: (outH - crop[1]) >> 1,
      width: crop[0],
      height: crop[1],
    };
    out.push({ name, src, win });
  };
  add('ImageNet-sized 500x375 -> 341x256, crop 224', 500, 375, 0, 341, 256, [224, 224]);
  add('portrait 375x500 -> 256x341, crop 224', 375, 500, 0, 256, 341, [224, 224]);
  add('upscale 227x200 -> 290x256, crop 256', 227, 200, 0, 290, 256, [256, 256]);
  add('large downscale 1200x900 -> 149x112, crop 112', 1200, 900, 0, 149, 112, [112, 112]);
  add('ObjectNet border 2, 304x228 -> 298x224, crop 224', 304, 228, 2, 298, 224, [224, 224]);
  add('width kept, height scaled 64x100 -> 64x70', 64, 100, 0, 64, 70, [64, 70]);
  add('height kept, width scaled 100x64 -> 70x64', 100, 64, 0, 70, 64, [50, 64]);
  add('same size 37x23', 37, 23, 0, 37, 23, [37, 23]);
  add('odd crop 1x1 -> 5x5 window 3x3', 1, 1, 0, 5, 5, [3, 3]);
  add('row not a multiple of 16 bytes: 90x61 -> 41x33, crop 17x29', 90, 61, 0, 41, 33, [17, 29]);
  return out;
}

describe('WasmResampler', { skip: kernels === null ? 'no WebAssembly SIMD in this runtime' : false }, () => {
  for (const filter of ['bilinear', 'bicubic'] as ResampleFilter[]) {
    for (const c of cases()) {
      it(`${filter}: ${c.name} matches resampleRgbWindow byte for byte`, () => {
        const want = resampleRgbWindow(c.src, c.win, filter);
        const got = kernels!.resampleWindow(c.src, c.win, filter);
        assert.equal(got.length, want.length);
        let diff = -1;
        for (let i = 0; i < want.length && diff < 0; i++) if (got[i] !== want[i]) diff = i;
        assert.equal(diff, -1, diff < 0 ? '' : `first difference at byte ${diff}: ${got[diff]} vs ${want[diff]}`);
      });
    }
  }

  it('normalizes to the same float bits as normalizeToChw (CLIP and ImageNet statistics)', () => {
    const c = cases()[0]!;
    for (const preset of ['torchvision', 'clip'] as const) {
      const spec = resolvePreprocess({ preset }, 224);
      const want = new Float32Array(3 * 224 * 224);
      normalizeToChw({ rgb: resampleRgbWindow(c.src, c.win, spec.interpolation), size: 224 }, spec, want, 0);
      const got = kernels!.resampleToChw(c.src, c.win, spec.interpolation, normalizeLut(spec));
      assert.deepEqual(new Uint32Array(got.buffer), new Uint32Array(want.buffer), preset);
    }
  });

  it('gives the same result when reused for images of different sizes (memory grows, no stale bytes)', () => {
    const all = cases();
    const first = all.map((c) => kernels!.resampleWindow(c.src, c.win, 'bicubic'));
    const again = [...all]
      .reverse()
      .map((c) => kernels!.resampleWindow(c.src, c.win, 'bicubic'))
      .reverse();
    assert.deepEqual(again, first);
  });
});
