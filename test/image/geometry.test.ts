/**
 * torchvision's Resize/CenterCrop geometry. Expected values were computed by hand and checked against
 * torchvision 0.14 (T.Resize(s)(Image.new('RGB', (w, h))).size; CenterCrop's int(round((dim - crop) / 2.0))).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { centerCropOffset, resizedSize, resolvePreprocess, roundHalfEven } from '../../src/image/preprocessSpec.js';

describe('roundHalfEven (Python round)', () => {
  it('rounds halves to the even neighbour', () => {
    const cases: [number, number][] = [
      [0.5, 0],
      [1.5, 2],
      [2.5, 2],
      [3.5, 4],
      [16.5, 16],
      [58.5, 58],
      [59.5, 60],
      [80.5, 80],
      [-0.5, 0],
      [-1.5, -2],
    ];
    for (const [x, want] of cases) assert.equal(roundHalfEven(x), want, `round(${x})`);
  });
  it('rounds everything else to the nearest integer', () => {
    const cases: [number, number][] = [
      [2.4999, 2],
      [2.5001, 3],
      [7, 7],
      [0, 0],
      [-2.6, -3],
      [116.9, 117],
    ];
    for (const [x, want] of cases) assert.equal(roundHalfEven(x), want, `round(${x})`);
  });
});

describe('resizedSize (torchvision Resize with an int)', () => {
  const cases: [number, number, number, number, number][] = [
    // w, h, size -> w', h': the longer side is int(size * long / short), truncated, not rounded.
    [500, 375, 256, 341, 256],
    [375, 500, 256, 256, 341],
    [227, 227, 256, 256, 256],
    [1200, 900, 256, 341, 256],
    [333, 501, 256, 256, 385],
    [640, 480, 224, 298, 224],
    [401, 299, 146, 195, 146],
    [120, 90, 256, 341, 256],
    [333, 500, 224, 224, 336],
  ];
  for (const [w, h, s, ew, eh] of cases) {
    it(`${w}x${h} -> Resize(${s}) -> ${ew}x${eh}`, () => {
      assert.deepEqual(resizedSize(w, h, s), { width: ew, height: eh });
    });
  }
});

describe('centerCropOffset (torchvision CenterCrop)', () => {
  it('uses half-to-even rounding of (dim - crop) / 2', () => {
    // 341-224 = 117 -> 58.5 -> 58 (not 59); 343-224 = 119 -> 59.5 -> 60; 385-224 = 161 -> 80.5 -> 80.
    const cases: [number, number][] = [
      [341, 58],
      [343, 60],
      [385, 80],
      [298, 37],
      [256, 16],
      [225, 0],
      [227, 2],
      [224, 0],
    ];
    for (const [dim, want] of cases) assert.equal(centerCropOffset(dim, 224), want, `dim ${dim}`);
  });
  it('gives the offsets for the 128 crop of the inception preset', () => {
    assert.equal(centerCropOffset(195, 128), 34); // 67 / 2 = 33.5 -> 34 (even)
    assert.equal(centerCropOffset(146, 128), 9);
  });
});

describe('resolvePreprocess geometry', () => {
  it('derives the resize side from the crop with the preset ratio', () => {
    assert.equal(resolvePreprocess({ preset: 'inception', crop: 128 }, null).resize, 146); // round(128 / 0.875)
    assert.equal(resolvePreprocess({ preset: 'torchvision' }, null).resize, 256);
    assert.equal(resolvePreprocess({ preset: 'clip', crop: 288 }, null).resize, 288);
  });
});
