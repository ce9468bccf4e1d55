/**
 * Known answers from PIL + torchvision (test/fixtures/preprocess-parity/make_fixture.py, which also made the
 * images): fcprobe's tensors must be bit-identical to torchvision's for each image and preset.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { decodeAndCrop, decodeToChw, normalizeToChw } from '../../src/image/decode.js';
import { resolvePreprocess } from '../../src/image/preprocessSpec.js';

// Compiled to dist/test/image/: the fixtures stay in the source tree.
const FIXTURES = new URL('../../../test/fixtures/preprocess-parity/', import.meta.url);

interface Expected {
  configs: Record<
    string,
    {
      preset: string;
      resize: number;
      crop: number;
      interpolation: string;
      mean: [number, number, number];
      std: [number, number, number];
      borderCrop: number;
    }
  >;
  images: Record<
    string,
    Record<string, { tensorSha256: string; rgbSha256: string; channelSums: number[]; samples: number[][] }>
  >;
}

const expected = JSON.parse(readFileSync(new URL('expected.json', FIXTURES), 'utf8')) as Expected;

describe('parity with torchvision on generated images', () => {
  for (const [image, perConfig] of Object.entries(expected.images)) {
    for (const [name, want] of Object.entries(perConfig)) {
      it(`${image} / ${name}`, async () => {
        const c = expected.configs[name]!;
        const spec = resolvePreprocess(
          {
            preset: c.preset,
            resize: c.resize,
            crop: c.crop,
            interpolation: c.interpolation,
            mean: c.mean,
            std: c.std,
            borderCrop: c.borderCrop,
          },
          null,
        );
        const img = await decodeAndCrop(new URL(image, FIXTURES).pathname, spec);
        // Pixels first: they say where a mismatch is; the hashes then pin every byte and every float.
        const got = want.samples.map(([x, y]) => {
          const i = (y! * c.crop + x!) * 3;
          return [x!, y!, img.rgb[i]!, img.rgb[i + 1]!, img.rgb[i + 2]!];
        });
        assert.deepEqual(got, want.samples);
        const sums = [0, 0, 0];
        for (let i = 0; i < img.rgb.length; i++) sums[i % 3]! += img.rgb[i]!;
        assert.deepEqual(sums, want.channelSums);
        assert.equal(createHash('sha256').update(img.rgb).digest('hex'), want.rgbSha256);
        const t = new Float32Array(3 * c.crop * c.crop);
        normalizeToChw(img, spec, t, 0);
        assert.equal(createHash('sha256').update(new Uint8Array(t.buffer)).digest('hex'), want.tensorSha256);
        // The path extraction runs (WebAssembly kernels where available) gives the same tensor.
        const fast = await decodeToChw(new URL(image, FIXTURES).pathname, spec);
        assert.equal(createHash('sha256').update(new Uint8Array(fast.buffer)).digest('hex'), want.tensorSha256);
      });
    }
  }
});
