/**
 * scripts/cifar10-example.ts, the helper of docs/examples/cifar10/run.sh: the CIFAR-10-C corruptions against the
 * reference code's arithmetic written out here (make_cifar_c.py), the shard writer's skip/resume and byte
 * identity, and the stable results file. Generated images only; the real run is test/integration/cifar10-example.
 */
import assert from 'node:assert/strict';
import { createReadStream, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { extract, pack } from 'tar-stream';
import { corruptImage, corruptShards, replaceBlock, stableResults } from '../../scripts/cifar10-example.js';
import { noiseBytes, tempDir } from '../helpers/fixtures.js';

const W = 32;

/** A 32x32 RGB noise image as PNG (lossless, so the decoded pixels are `pixels`). */
async function noisePng(seed: number): Promise<{ png: Buffer; pixels: Uint8Array }> {
  const pixels = noiseBytes(W * W * 3, seed);
  const png = await sharp(Buffer.from(pixels), { raw: { width: W, height: W, channels: 3 } })
    .png()
    .toBuffer();
  return { png, pixels };
}

async function decode(bytes: Buffer): Promise<Uint8Array> {
  return new Uint8Array(await sharp(bytes).removeAlpha().raw().toBuffer());
}

async function tarOf(path: string, members: { name: string; data: Buffer }[]): Promise<void> {
  const p = pack();
  for (const m of members) p.entry({ name: m.name }, m.data);
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  writeFileSync(path, Buffer.concat(chunks));
}

async function tarNames(path: string): Promise<string[]> {
  const names: string[] = [];
  const ex = extract();
  ex.on('entry', (h, s, next) => {
    names.push(h.name);
    s.on('end', next);
    s.resume();
  });
  await pipeline(createReadStream(path), ex);
  return names;
}

describe('scripts/cifar10-example.ts corruptions', () => {
  it('contrast at severity 3 is np.uint8(clip((x - mean) * 0.4 + mean, 0, 1) * 255) per channel', async () => {
    const { png, pixels } = await noisePng(1);
    const out = await corruptImage('cat/1.jpg', png, 'contrast', 3, 0);
    assert.equal(out.name, 'cat/1.png');
    const got = await decode(out.data);
    const mean = [0, 1, 2].map((ch) => {
      let s = 0;
      for (let i = ch; i < pixels.length; i += 3) s += pixels[i]! / 255;
      return s / (pixels.length / 3);
    });
    let diff = 0;
    for (let i = 0; i < pixels.length; i++) {
      const m = mean[i % 3]!;
      const ref = Math.floor(Math.min(1, Math.max(0, (pixels[i]! / 255 - m) * 0.4 + m)) * 255);
      diff = Math.max(diff, Math.abs(got[i]! - ref));
    }
    // sharp computes in float32 where numpy uses float64: at most one level at a truncation boundary.
    assert.ok(diff <= 1, `max difference ${diff} levels`);
  });

  it('gaussian_blur at severity 3 is a sigma 0.7 Gaussian with edges extended (skimage, mode nearest)', async () => {
    const { png, pixels } = await noisePng(2);
    const got = await decode((await corruptImage('cat/2.jpg', png, 'gaussian_blur', 3, 0)).data);
    const r = 3; // skimage/scipy: truncate 4 -> radius int(4 * 0.7 + 0.5)
    const k = Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * 0.7 * 0.7)));
    const ks = k.reduce((a, b) => a + b, 0);
    const at = (y: number, x: number, c: number): number =>
      pixels[(Math.min(W - 1, Math.max(0, y)) * W + Math.min(W - 1, Math.max(0, x))) * 3 + c]! / 255;
    let over1 = 0;
    for (let y = 0; y < W; y++)
      for (let x = 0; x < W; x++)
        for (let c = 0; c < 3; c++) {
          let v = 0;
          for (let i = -r; i <= r; i++)
            for (let j = -r; j <= r; j++) v += (k[i + r]! * k[j + r]! * at(y + i, x + j, c)) / (ks * ks);
          const ref = Math.floor(Math.min(1, Math.max(0, v)) * 255);
          const d = Math.abs(got[(y * W + x) * 3 + c]! - ref);
          assert.ok(d <= 1, `(${y}, ${x}, ${c}): ${got[(y * W + x) * 3 + c]} vs ${ref}`);
          if (d === 1) over1++;
        }
    assert.ok(over1 < 0.01 * W * W * 3, `${over1} values one level off`);
  });

  it('gaussian_noise at severity 3 adds N(0, 0.08^2) in [0, 1] units, seeded by (seed, name)', async () => {
    const grey = Buffer.alloc(W * W * 3, 128);
    const png = await sharp(grey, { raw: { width: W, height: W, channels: 3 } })
      .png()
      .toBuffer();
    const a = await decode((await corruptImage('cat/3.jpg', png, 'gaussian_noise', 3, 0)).data);
    const again = await decode((await corruptImage('cat/3.jpg', png, 'gaussian_noise', 3, 0)).data);
    const other = await decode((await corruptImage('cat/4.jpg', png, 'gaussian_noise', 3, 0)).data);
    assert.deepEqual(a, again);
    assert.notDeepEqual(a, other);
    // floor((128/255 + e) * 255) = 128 + floor(255 e): mean 128 - 0.5, std 255 * 0.08 = 20.4 (sd of the
    // estimate over 3072 values: 0.37; of the sample std: ~0.26).
    let s = 0;
    let s2 = 0;
    for (const v of a) {
      s += v;
      s2 += v * v;
    }
    const mean = s / a.length;
    const sd = Math.sqrt(s2 / a.length - mean * mean);
    assert.ok(Math.abs(mean - 127.5) < 1.5, `mean ${mean}`);
    assert.ok(Math.abs(sd - 20.4) < 1.2, `std ${sd}`);
  });

  it('jpeg_compression at severity 3 stores a quality-58 JPEG with the IJG-scaled standard tables', async () => {
    const { png } = await noisePng(5);
    const out = await corruptImage('cat/5.jpg', png, 'jpeg_compression', 3, 0);
    assert.equal(out.name, 'cat/5.jpg');
    assert.equal(out.data[0], 0xff);
    assert.equal(out.data[1], 0xd8);
    const dqt = out.data.indexOf(Buffer.from([0xff, 0xdb]));
    // Annex K luminance table starts 16, 11, 12, 14 (zig-zag order: 16, 11, 12, 14, 12, 10, 16, 14); at quality 58
    // IJG scales by (200 - 2 * 58)% and rounds: floor((q * 84 + 50) / 100).
    const annexK = [16, 11, 12, 14, 12, 10, 16, 14];
    const scaled = annexK.map((q) => Math.floor((q * 84 + 50) / 100));
    assert.deepEqual([...out.data.subarray(dqt + 5, dqt + 13)], scaled);
    const meta = await sharp(out.data).metadata();
    assert.equal(meta.chromaSubsampling, '4:2:0');
  });

  it('clean returns the bytes and the name unchanged', async () => {
    const { png } = await noisePng(6);
    const out = await corruptImage('dog/6.png', png, 'clean', 3, 0);
    assert.equal(out.name, 'dog/6.png');
    assert.ok(out.data.equals(png));
  });
});

describe('scripts/cifar10-example.ts shards', () => {
  it('writes every member in order, skips finished shards, redoes changed settings, same bytes each time', async () => {
    const dir = tempDir();
    const src = join(dir, 'test-000000.tar');
    const members = await Promise.all(
      [0, 1, 2, 3, 4].map(async (i) => ({ name: `${i % 2 ? 'cat' : 'dog'}/${i}.png`, data: (await noisePng(i)).png })),
    );
    await tarOf(src, [...members, { name: 'notes.txt', data: Buffer.from('not an image') }]);
    const out = join(dir, 'out');
    mkdirSync(out);
    const o = { shards: [src], out, corruptions: ['gaussian_noise', 'contrast'] as const, severity: 3, seed: 0 };
    assert.equal(await corruptShards({ ...o, corruptions: [...o.corruptions] }), 2);
    const noise = join(out, 'gaussian_noise', 'test-000000.tar');
    assert.deepEqual(await tarNames(noise), ['dog/0.png', 'cat/1.png', 'dog/2.png', 'cat/3.png', 'dog/4.png']);
    const first = readFileSync(noise);
    const mtime = statSync(noise).mtimeMs;
    // Shards carry the source's mtime (feature cache keys cover it), to the millisecond utimes keeps.
    assert.ok(Math.abs(mtime - statSync(src).mtimeMs) < 1, `${mtime} vs ${statSync(src).mtimeMs}`);
    assert.equal(await corruptShards({ ...o, corruptions: [...o.corruptions] }), 0, 'finished shards are skipped');
    assert.equal(statSync(noise).mtimeMs, mtime);
    // A missing stamp (an interruption between the rename and the stamp) redoes the shard, to the same bytes.
    const { rmSync } = await import('node:fs');
    rmSync(`${noise}.json`);
    assert.equal(await corruptShards({ ...o, corruptions: ['gaussian_noise'] }), 1);
    assert.ok(readFileSync(noise).equals(first));
    // Other settings (a slice) are another shard.
    assert.equal(await corruptShards({ ...o, corruptions: ['gaussian_noise'], perShard: 2 }), 1);
    assert.deepEqual(await tarNames(noise), ['dog/0.png', 'cat/1.png']);
    assert.ok(!existsSync(`${noise}.tmp-${process.pid}`));
  });
});

describe('scripts/cifar10-example.ts results', () => {
  it('stableResults drops createdAt, timings, machine and distill.reused, and nothing else', () => {
    const r = {
      format: 'fcprobe-results',
      createdAt: '2026-01-01T00:00:00Z',
      timings: [{ stage: 'x', seconds: 1 }],
      machine: { cpus: 2 },
      models: [{ name: 't' }, { name: 's', distill: { key: 'k', reused: true } }],
      accuracy: [{ model: 't', top1: 0.5 }],
    };
    assert.deepEqual(stableResults(r), {
      format: 'fcprobe-results',
      models: [{ name: 't' }, { name: 's', distill: { key: 'k' } }],
      accuracy: [{ model: 't', top1: 0.5 }],
    });
  });

  it('replaceBlock replaces the marked block only', () => {
    const readme = 'a\n<!-- cifar10-table:begin -->\nold\n<!-- cifar10-table:end -->\nb\n';
    assert.equal(replaceBlock(readme, 'new'), 'a\n<!-- cifar10-table:begin -->\nnew\n<!-- cifar10-table:end -->\nb\n');
    assert.throws(() => replaceBlock('no markers', 'x'));
    const two = `${readme}<!-- s:begin -->\nold\n<!-- s:end -->\n`;
    assert.equal(replaceBlock(two, 'said', 's'), `${readme}<!-- s:begin -->\nsaid\n<!-- s:end -->\n`);
  });
});
