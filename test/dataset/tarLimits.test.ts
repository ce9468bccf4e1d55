/**
 * Tar shards that would exhaust memory or mislead, at the command line (`fcprobe extract --data <tars>`): a
 * brace pattern whose product is too large is refused before it is expanded; an integer .cls label past the
 * class cap is refused before the class list is sized from it; a member past the 1 GiB file cap is skipped
 * unread; a member stored twice is refused; a shard that stops right after a member (no end-of-archive
 * blocks) is listed with a warning.
 */
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { closeSync, openSync, readFileSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pack } from 'tar-stream';
import { CLI, linearEncoder, tempDir, writeModel, writeNoiseImage } from '../helpers/fixtures.js';

/** A tar (tar-stream's pack) holding the given members in order. */
async function tarBytes(members: [string, Buffer][]): Promise<Buffer> {
  const p = pack();
  for (const [name, data] of members) p.entry({ name }, data);
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function png(dir: string, seed: number): Promise<Buffer> {
  const path = join(dir, `noise-${seed}.png`);
  await writeNoiseImage(path, seed, 16, 16);
  return readFileSync(path);
}

function extract(dir: string, data: string, extra: string[] = []): SpawnSyncReturns<string> {
  const model = join(dir, 'm.onnx');
  writeModel(model, linearEncoder([[1, 0, 0]], null));
  return spawnSync(
    process.execPath,
    [
      CLI,
      'extract',
      '--model',
      model,
      '--data',
      data,
      '--out',
      join(dir, 'out'),
      '--preset',
      'torchvision',
      '--resize',
      '16',
      '--crop',
      '16',
      '--quiet',
      ...extra,
    ],
    // The refusals below come before anything heavy; without them the process ran out of memory or time.
    { encoding: 'utf8', timeout: 120_000, cwd: dir },
  );
}

/** The 512-byte ustar header of a regular file member (POSIX.1-1988), checksum included. */
function ustarHeader(name: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  const field = (text: string, at: number, len: number): void => void h.write(text.slice(0, len), at, 'latin1');
  field(name, 0, 100);
  field('0000644\0', 100, 8);
  field('0000000\0', 108, 8);
  field('0000000\0', 116, 8);
  field(`${size.toString(8).padStart(11, '0')}\0`, 124, 12);
  field('00000000000\0', 136, 12);
  h.fill(0x20, 148, 156); // the checksum is computed with its own field as spaces
  field('0', 156, 1);
  field('ustar\0', 257, 6);
  field('00', 263, 2);
  let sum = 0;
  for (const b of h) sum += b;
  field(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return h;
}

describe('tar shard limits at the command line', () => {
  it('a brace pattern of 10^9 names: exit 2 before expanding; 10^6 names are expanded (then not found)', () => {
    const dir = tempDir('fcprobe-tarlim-');
    const big = extract(dir, 's{1..1000}{1..1000}{1..1000}.tar');
    assert.equal(big.status, 2, big.stderr);
    assert.match(big.stderr, /brace pattern of at most 1000000 names, got s\{1\.\.1000\}.* \(1000000000 names\)/);
    // The cap itself is allowed: the pattern expands, and its first shard is missing (exit 3).
    const edge = extract(dir, 's{1..1000}{1..1000}.tar');
    assert.equal(edge.status, 3, edge.stderr);
    assert.match(edge.stderr, /Tar shard .*s11\.tar does not exist/);
  });

  it('an integer .cls of 999999999: exit 3 naming the member, not an out-of-memory abort', async () => {
    const dir = tempDir('fcprobe-tarlim-');
    const image = await png(dir, 1);
    writeFileSync(
      join(dir, 'd.tar'),
      await tarBytes([
        ['a.png', image],
        ['a.cls', Buffer.from('3\n')],
        ['b.png', image],
        ['b.cls', Buffer.from('999999999\n')],
      ]),
    );
    const r = extract(dir, 'd.tar');
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, /Image d\.tar#b\.png has the integer label 999999999; .* at most 100000 classes/);
    // Small integer labels are class indices 0..max (exit 0; 4 classes for a label of 3).
    writeFileSync(
      join(dir, 'e.tar'),
      await tarBytes([
        ['a.png', image],
        ['a.cls', Buffer.from('3')],
        ['b.png', image],
        ['b.cls', Buffer.from('0')],
      ]),
    );
    const ok = extract(dir, 'e.tar');
    assert.equal(ok.status, 0, ok.stderr);
    const manifest = JSON.parse(readFileSync(join(dir, 'out', 'manifest.json'), 'utf8')) as { classes: string[] };
    assert.deepEqual(manifest.classes, ['0', '1', '2', '3']);
  });

  it('a member stored twice (tar -r): exit 3 naming it', async () => {
    const dir = tempDir('fcprobe-tarlim-');
    const [x, y] = [await png(dir, 1), await png(dir, 2)];
    writeFileSync(
      join(dir, 'd.tar'),
      await tarBytes([
        ['cat/1.png', x],
        ['dog/1.png', y],
        ['cat/1.png', y],
      ]),
    );
    const r = extract(dir, 'd.tar');
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, /Tar shard d\.tar holds the member cat\/1\.png twice\./);
  });

  it('a shard cut at a member boundary: listed with a warning; the intact shard without one', async () => {
    const dir = tempDir('fcprobe-tarlim-');
    const bytes = await tarBytes([
      ['cat/1.png', await png(dir, 1)],
      ['dog/1.png', await png(dir, 2)],
    ]);
    // tar-stream ends an archive with exactly two zero blocks: without them the file stops after dog/1.png.
    assert.ok(bytes.subarray(-1024).every((b) => b === 0));
    writeFileSync(join(dir, 'whole.tar'), bytes);
    writeFileSync(join(dir, 'cut.tar'), bytes.subarray(0, bytes.length - 1024));
    const whole = extract(dir, 'whole.tar');
    assert.equal(whole.status, 0, whole.stderr);
    assert.doesNotMatch(whole.stderr, /warning/);
    const cut = extract(dir, 'cut.tar', ['--force']);
    assert.equal(cut.status, 0, cut.stderr);
    assert.match(
      cut.stderr,
      /warning: tar shard cut\.tar has no end-of-archive blocks after its last member \(dog\/1\.png\)/,
    );
  });

  it('a sparse member over 1 GiB is skipped unread (the plain-file cap); the others are extracted', async () => {
    const dir = tempDir('fcprobe-tarlim-');
    const small = await tarBytes([['cat/1.png', await png(dir, 1)]]);
    const head = small.subarray(0, small.length - 1024); // without its end blocks: the big member follows
    const size = 2 ** 30 + 1;
    const path = join(dir, 'd.tar');
    const fd = openSync(path, 'w');
    try {
      writeSync(fd, head, 0, head.length, 0);
      writeSync(fd, ustarHeader('dog/big.png', size), 0, 512, head.length);
      // The member starts like a valid 16 x 16 PNG; the rest is a hole (the file is sparse).
      const pngStart = (await png(dir, 2)).subarray(0, 33);
      writeSync(fd, pngStart, 0, pngStart.length, head.length + 512);
    } finally {
      closeSync(fd);
    }
    truncateSync(path, head.length + 512 + Math.ceil(size / 512) * 512 + 1024);
    const r = extract(dir, 'd.tar');
    assert.equal(r.status, 0, r.stderr);
    const manifest = JSON.parse(readFileSync(join(dir, 'out', 'manifest.json'), 'utf8')) as {
      files: string[];
      skipped: { file: string; reason: string }[];
    };
    assert.deepEqual(manifest.files, ['d.tar#cat/1.png']);
    assert.equal(manifest.skipped.length, 1);
    assert.equal(manifest.skipped[0]!.file, 'd.tar#dog/big.png');
    assert.match(manifest.skipped[0]!.reason, /tar member of 1073741825 bytes is larger than 1073741824/);
  });
});
