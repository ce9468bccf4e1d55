/**
 * decodeAndCrop / normalizeToChw on generated images whose outcome can be worked out by hand.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import {
  cmykToRgb,
  decodeAndCrop,
  decodeToChw,
  decodeToChwInto,
  decodeToRgb,
  jpegComponents,
  mayBeCmyk,
  normalizeToChw,
} from '../../src/image/decode.js';
import { resolvePreprocess } from '../../src/image/preprocessSpec.js';
import { tempDir } from '../helpers/fixtures.js';

const dir = tempDir('fcprobe-decode-');
const torchvision = resolvePreprocess({ preset: 'torchvision' }, null); // Resize(256, bilinear) -> 224
const clip = resolvePreprocess({ preset: 'clip' }, null); // Resize(224, bicubic) -> 224

async function writeRaw(
  name: string,
  data: Uint8Array,
  width: number,
  height: number,
  channels: 1 | 2 | 3 | 4,
  fmt: 'png' | 'jpeg' = 'png',
): Promise<string> {
  const path = join(dir, name);
  let img = sharp(Buffer.from(data), { raw: { width, height, channels } });
  if (channels === 1) img = img.toColourspace('b-w');
  await (fmt === 'png' ? img.png() : img.jpeg({ quality: 95 })).toFile(path);
  return path;
}

function fill(width: number, height: number, channels: number, px: (x: number, y: number) => number[]): Uint8Array {
  const out = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out.set(px(x, y), (y * width + x) * channels);
  return out;
}

function pixel(rgb: Uint8Array, size: number, x: number, y: number): number[] {
  const i = (y * size + x) * 3;
  return [rgb[i]!, rgb[i + 1]!, rgb[i + 2]!];
}

describe('decodeAndCrop', () => {
  it('keeps a constant colour constant through up- and downscaling, with both kernels', async () => {
    const colour = [10, 200, 77];
    for (const [w, h] of [
      [300, 200],
      [120, 90],
    ] as const) {
      const path = await writeRaw(
        `const_${w}.png`,
        fill(w, h, 3, () => colour),
        w,
        h,
        3,
      );
      for (const spec of [torchvision, clip]) {
        const { rgb, size } = await decodeAndCrop(path, spec);
        assert.equal(size, 224);
        assert.equal(rgb.length, 224 * 224 * 3);
        for (let i = 0; i < rgb.length; i += 3)
          assert.deepEqual(
            [rgb[i], rgb[i + 1], rgb[i + 2]],
            colour,
            `pixel ${i / 3} of ${w}x${h} (${spec.interpolation})`,
          );
      }
    }
  });

  it('keeps a left/right boundary at the column the geometry predicts (bilinear)', async () => {
    // 400x300 -> 341x256, crop offset 58. Output column xx samples around (xx + 0.5) * 400/341 with a
    // triangle of half-width 400/341: resized column 170 is centred exactly on the edge (x = 200) and
    // columns 169 / 171 reach only one side. In crop coordinates: 111 black, 112 half, 113 white.
    const path = await writeRaw(
      'split.png',
      fill(400, 300, 3, (x) => (x < 200 ? [0, 0, 0] : [255, 255, 255])),
      400,
      300,
      3,
    );
    const { rgb } = await decodeAndCrop(path, torchvision);
    for (const y of [0, 100, 223]) {
      for (let x = 0; x <= 111; x++) assert.deepEqual(pixel(rgb, 224, x, y), [0, 0, 0], `column ${x}`);
      const mid = pixel(rgb, 224, 112, y)[0]!;
      assert.ok(mid === 127 || mid === 128, `column 112 is ${mid}`);
      for (let x = 113; x < 224; x++) assert.deepEqual(pixel(rgb, 224, x, y), [255, 255, 255], `column ${x}`);
    }
  });

  it('keeps the boundary between the predicted columns with the bicubic kernel', async () => {
    // 400x300 -> 298x224 (crop offset 37): the edge x = 200 falls at resized 149.0, between crop columns
    // 111 and 112; the kernel reaches 2 * 400/298 = 2.7 source pixels, so columns <= 108 and >= 115 are pure.
    const path = await writeRaw(
      'split2.png',
      fill(400, 300, 3, (x) => (x < 200 ? [0, 0, 0] : [255, 255, 255])),
      400,
      300,
      3,
    );
    const { rgb } = await decodeAndCrop(path, clip);
    const row = Array.from({ length: 224 }, (_, x) => pixel(rgb, 224, x, 50)[0]!);
    for (let x = 0; x <= 108; x++) assert.equal(row[x], 0, `column ${x}`);
    for (let x = 115; x < 224; x++) assert.equal(row[x], 255, `column ${x}`);
    assert.ok(row[111]! < 128 && row[112]! > 128, `columns 111/112 are ${row[111]}/${row[112]}`);
    // The kernel is symmetric: mirrored columns add up to white (up to fixed-point rounding).
    assert.ok(
      Math.abs(row[111]! + row[112]! - 255) <= 1 && Math.abs(row[110]! + row[113]! - 255) <= 1,
      row.slice(108, 116).join(','),
    );
  });

  it('turns grey, grey+alpha, RGBA and palette inputs into 3-channel RGB', async () => {
    const greyJpeg = await writeRaw(
      'grey.jpg',
      fill(64, 48, 1, (x, y) => [(x * 4 + y) & 255]),
      64,
      48,
      1,
      'jpeg',
    );
    const greyMeta = await sharp(greyJpeg).metadata();
    assert.equal(greyMeta.channels, 1);
    const g = await decodeAndCrop(greyJpeg, torchvision);
    for (let i = 0; i < g.rgb.length; i += 3)
      assert.ok(g.rgb[i] === g.rgb[i + 1] && g.rgb[i] === g.rgb[i + 2], `grey pixel ${i / 3}`);
    assert.ok(new Set(g.rgb).size > 50, 'the grey ramp survives');

    // Alpha is dropped, not composited (PIL's convert('RGB')): a constant colour under an alpha ramp stays put.
    const rgba = await writeRaw(
      'rgba.png',
      fill(80, 60, 4, (x) => [200, 100, 50, Math.round((x * 255) / 79)]),
      80,
      60,
      4,
    );
    const la = await writeRaw(
      'la.png',
      fill(80, 60, 2, (x) => [90, Math.round((x * 255) / 79)]),
      80,
      60,
      2,
    );
    for (const [path, want] of [
      [rgba, [200, 100, 50]],
      [la, [90, 90, 90]],
    ] as const) {
      const r = await decodeAndCrop(path, torchvision);
      assert.equal(r.rgb.length, 224 * 224 * 3);
      for (let i = 0; i < r.rgb.length; i += 3)
        assert.deepEqual([r.rgb[i], r.rgb[i + 1], r.rgb[i + 2]], want, `${path} pixel ${i / 3}`);
    }

    const palPath = join(dir, 'palette.png');
    await sharp(Buffer.from(fill(80, 60, 3, (x) => (x < 40 ? [255, 0, 0] : [0, 0, 255]))), {
      raw: { width: 80, height: 60, channels: 3 },
    })
      .png({ palette: true, colours: 2, dither: 0 })
      .toFile(palPath);
    assert.equal((await sharp(palPath).metadata()).isPalette, true);
    const full = await decodeToRgb(palPath, false);
    assert.equal(full.data.length, 80 * 60 * 3);
    assert.deepEqual(Array.from(full.data.subarray(0, 3)), [255, 0, 0]);
    assert.deepEqual(Array.from(full.data.subarray(79 * 3, 80 * 3)), [0, 0, 255]);
  });

  it('removes a 2-pixel border of another colour with borderCrop 2', async () => {
    // Square input and Resize(224) -> CenterCrop(224) (clip preset): the crop keeps the whole image, so only
    // the border crop can take the red frame away.
    const img = fill(100, 100, 3, (x, y) => (x < 2 || y < 2 || x >= 98 || y >= 98 ? [255, 0, 0] : [0, 0, 255]));
    const path = await writeRaw('border.png', img, 100, 100, 3);
    const { rgb } = await decodeAndCrop(path, resolvePreprocess({ preset: 'clip', borderCrop: 2 }, null));
    for (let i = 0; i < rgb.length; i += 3)
      assert.deepEqual([rgb[i], rgb[i + 1], rgb[i + 2]], [0, 0, 255], `pixel ${i / 3}`);
    const plain = await decodeAndCrop(path, clip);
    assert.deepEqual(pixel(plain.rgb, 224, 0, 0), [255, 0, 0], 'the frame is there without borderCrop');
    assert.deepEqual(pixel(plain.rgb, 224, 112, 112), [0, 0, 255]);
  });

  it('rejects a border crop that leaves nothing', async () => {
    const path = await writeRaw(
      'tiny.png',
      fill(4, 4, 3, () => [1, 2, 3]),
      4,
      4,
      3,
    );
    await assert.rejects(
      decodeAndCrop(path, resolvePreprocess({ preset: 'torchvision', borderCrop: 2 }, null)),
      /too small for a 2-pixel border crop/,
    );
  });

  it('throws on corrupt, truncated and empty files', async () => {
    const good = await writeRaw(
      'good.jpg',
      fill(200, 150, 3, (x, y) => [x & 255, y & 255, (x ^ y) & 255]),
      200,
      150,
      3,
      'jpeg',
    );
    const bytes = readFileSync(good);
    const garbage = join(dir, 'garbage.jpg');
    writeFileSync(garbage, Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 37) & 255)));
    const truncated = join(dir, 'truncated.jpg');
    writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const empty = join(dir, 'empty.png');
    writeFileSync(empty, Buffer.alloc(0));
    for (const p of [garbage, truncated, empty]) await assert.rejects(decodeAndCrop(p, torchvision), Error, p);
    await assert.rejects(decodeAndCrop(join(dir, 'missing.png'), torchvision), /ENOENT/);
  });

  it('ignores embedded ICC profiles, as PIL does', async () => {
    const path = join(dir, 'p3.png');
    await sharp(Buffer.from(fill(60, 40, 3, (x, y) => [x * 4, y * 6, 200])), {
      raw: { width: 60, height: 40, channels: 3 },
    })
      .withIccProfile('p3')
      .png()
      .toFile(path);
    assert.equal((await sharp(path).metadata()).hasProfile, true);
    const stored = await sharp(path, { ignoreIcc: true }).raw().toBuffer();
    const managed = await sharp(path).toColourspace('srgb').raw().toBuffer();
    assert.notDeepEqual(managed, stored, 'the profile would change the pixels if it were applied');
    const got = await decodeToRgb(path, false);
    assert.deepEqual(Buffer.from(got.data), stored);
  });

  it('applies EXIF orientation only when autoOrient is set (PIL does not)', async () => {
    const path = join(dir, 'oriented.jpg');
    await sharp(Buffer.from(fill(40, 20, 3, () => [50, 60, 70])), { raw: { width: 40, height: 20, channels: 3 } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toFile(path);
    const plain = await decodeToRgb(path, false);
    const turned = await decodeToRgb(path, true);
    assert.deepEqual([plain.width, plain.height, turned.width, turned.height], [40, 20, 20, 40]);
  });

  it('reads a Buffer the same as the file', async () => {
    const path = await writeRaw(
      'buf.png',
      fill(90, 70, 3, (x, y) => [x * 2, y * 3, 7]),
      90,
      70,
      3,
    );
    const a = await decodeAndCrop(path, clip);
    const b = await decodeAndCrop(readFileSync(path), clip);
    assert.deepEqual(b.rgb, a.rgb);
  });
});

describe('decodeToChw', () => {
  it('equals decodeAndCrop + normalizeToChw, float for float', async () => {
    const path = await writeRaw(
      'chw.jpg',
      fill(173, 131, 3, (x, y) => [(x * 7) & 255, (y * 5) & 255, (x * y) & 255]),
      173,
      131,
      3,
      'jpeg',
    );
    for (const spec of [torchvision, clip, resolvePreprocess({ preset: 'inception', borderCrop: 2 }, null)]) {
      const want = new Float32Array(3 * spec.crop * spec.crop);
      normalizeToChw(await decodeAndCrop(path, spec), spec, want, 0);
      const got = await decodeToChw(path, spec);
      assert.deepEqual(new Uint32Array(got.buffer), new Uint32Array(want.buffer), spec.preset);
    }
  });

  it('writes into its slot of a shared batch buffer and nowhere else', async () => {
    const path = await writeRaw(
      'slot.png',
      fill(64, 48, 3, (x, y) => [x * 4, y * 5, 128]),
      64,
      48,
      3,
    );
    const spec = resolvePreprocess({ preset: 'inception', resize: 32, crop: 32 }, null);
    const per = 3 * 32 * 32;
    const batch = new Float32Array(new SharedArrayBuffer(3 * per * 4)).fill(-7);
    await decodeToChwInto(path, spec, batch, per);
    assert.deepEqual(Array.from(batch.subarray(per, 2 * per)), Array.from(await decodeToChw(path, spec)));
    assert.ok(
      batch.subarray(0, per).every((v) => v === -7) && batch.subarray(2 * per).every((v) => v === -7),
      'neighbouring slots untouched',
    );
  });
});

describe('CMYK detection without a header parse by sharp', () => {
  it('reads the component count from the JPEG frame header', async () => {
    const rgb = fill(30, 20, 3, (x, y) => [x * 8, y * 12, 90]);
    const colour = await sharp(Buffer.from(rgb), { raw: { width: 30, height: 20, channels: 3 } })
      .jpeg()
      .toBuffer();
    const grey = await sharp(Buffer.from(rgb), { raw: { width: 30, height: 20, channels: 3 } })
      .toColourspace('b-w')
      .jpeg()
      .toBuffer();
    const cmyk = await sharp(Buffer.from(rgb), { raw: { width: 30, height: 20, channels: 3 } })
      .toColourspace('cmyk')
      .jpeg()
      .toBuffer();
    const progressive = await sharp(Buffer.from(rgb), { raw: { width: 30, height: 20, channels: 3 } })
      .jpeg({ progressive: true })
      .toBuffer();
    // sharp's own reading is the independent answer.
    assert.deepEqual(
      (await Promise.all([colour, grey, cmyk, progressive].map((b) => sharp(b).metadata()))).map((m) => m.channels),
      [3, 1, 4, 3],
    );
    assert.deepEqual(
      [colour, grey, cmyk, progressive].map((b) => jpegComponents(b)),
      [3, 1, 4, 3],
    );
    assert.deepEqual(
      [colour, grey, cmyk, progressive].map((b) => mayBeCmyk(b)),
      [false, false, true, false],
    );
  });

  it('falls back to sharp (says "maybe") when the header cannot be read, and never for PNG', () => {
    assert.equal(jpegComponents(Uint8Array.from([0xff, 0xd8, 0xff, 0xda, 0, 2])), null);
    assert.equal(mayBeCmyk(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 200])), true, 'segment runs past the end');
    assert.equal(mayBeCmyk(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a])), false);
    assert.equal(mayBeCmyk(Uint8Array.from([0x49, 0x49, 0x2a, 0x00])), true, 'TIFF');
  });

  it("still converts a CMYK JPEG with Pillow's arithmetic", async () => {
    const path = join(dir, 'cmyk.jpg');
    await sharp(Buffer.from(fill(40, 30, 4, (x, y) => [x * 6, y * 8, 40, 30])), {
      raw: { width: 40, height: 30, channels: 4 },
    })
      .pipelineColourspace('cmyk')
      .toColourspace('cmyk')
      .jpeg({ quality: 100 })
      .toFile(path);
    const raw = await sharp(path)
      .pipelineColourspace('cmyk')
      .toColourspace('cmyk')
      .raw()
      .toBuffer({ resolveWithObject: true });
    assert.equal(raw.info.channels, 4);
    const got = await decodeToRgb(path, false);
    assert.deepEqual(got.data, cmykToRgb(raw.data, 40 * 30, 4));
  });
});

describe('cmykToRgb (Pillow arithmetic)', () => {
  it('matches hand-computed values', () => {
    // nk = 255 - K; R = nk - MULDIV255(C, nk). C=100, K=50: nk = 205, t = 20628, (80 + 20628) >> 8 = 80 -> 125.
    const cmyk = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 255, 255, 0, 128, 0, 100, 0, 255, 50]);
    assert.deepEqual(Array.from(cmykToRgb(cmyk, 4, 4)), [255, 255, 255, 0, 0, 0, 0, 255, 127, 125, 205, 0]);
  });
});

describe('normalizeToChw', () => {
  it('writes planar channels as (x / 255 - mean) / std at the offset', () => {
    const spec = resolvePreprocess({ preset: 'inception', crop: 2, resize: 2 }, null); // mean = std = 0.5
    const rgb = Uint8Array.from([0, 255, 51, 255, 0, 102, 0, 0, 0, 255, 255, 255]);
    const out = new Float32Array(1 + 12).fill(9);
    normalizeToChw({ rgb, size: 2 }, spec, out, 1);
    assert.equal(out[0], 9);
    const want = [0, 255, 0, 255, 255, 0, 0, 255, 51, 102, 0, 255].map((v) => Math.fround(v / 255) * 2 - 1);
    for (let i = 0; i < 12; i++)
      assert.ok(Math.abs(out[1 + i]! - want[i]!) < 1e-6, `element ${i}: ${out[1 + i]} vs ${want[i]}`);
    assert.equal(out[1], -1);
    assert.equal(out[2], 1);
  });
});
