/**
 * Only regular files (after following symlinks) are images: a FIFO or a link to /dev/zero with an image name
 * is listed as ignored with the reason and never opened (it hung or filled memory); symlinked class folders
 * are followed in the plain layout; a name that is not valid UTF-8 is reported as such.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { scanImageFolder } from '../../src/dataset/listing.js';
import { extractFeatures } from '../../src/extract/extract.js';
import {
  linearEncoder,
  makeNoiseFolder,
  RAW_PIXELS_16,
  tempDir,
  writeModel,
  writeNoiseImage,
} from '../helpers/fixtures.js';

const NORM = RAW_PIXELS_16;
const hasMkfifo = existsSync('/usr/bin/mkfifo') && existsSync('/dev/zero');

describe('special files in a data folder', () => {
  it('FIFO, /dev/zero link, symlinked class folder, non-UTF-8 name', {
    skip: !hasMkfifo && 'needs mkfifo and /dev/zero',
  }, async () => {
    const dir = tempDir('fcprobe-special-');
    const data = join(dir, 'data');
    await makeNoiseFolder(data, ['a'], 2, 16);
    execFileSync('/usr/bin/mkfifo', [join(data, 'a', 'x.jpg')]);
    symlinkSync('/dev/zero', join(data, 'a', 'zero.jpg'));
    writeFileSync(Buffer.from(`${join(data, 'a')}/bad-\xff-name.png`, 'latin1'), 'x');
    // A class folder that is a symbolic link to a folder elsewhere.
    mkdirSync(join(dir, 'elsewhere'));
    await writeNoiseImage(join(dir, 'elsewhere', 'e.png'), 5, 16, 16);
    symlinkSync(join(dir, 'elsewhere'), join(data, 'b'));

    const listing = scanImageFolder(data);
    assert.deepEqual(listing.classes, ['a', 'b'], 'the symlinked class folder is followed');
    assert.deepEqual(
      listing.items.map((i) => i.file),
      ['a/img_000.png', 'a/img_001.png', 'b/e.png'],
    );
    const why = new Map(listing.ignored.map((i) => [i.file.replace(/bad-.*-name/, 'bad-name'), i.reason]));
    assert.match(why.get('a/x.jpg') ?? '', /not a regular file \(a FIFO\)/);
    assert.match(why.get('a/zero.jpg') ?? '', /not a regular file \(a device, through a symbolic link\)/);
    assert.match(why.get('a/bad-name.png') ?? '', /not valid UTF-8/);

    // And extraction over it finishes (the FIFO is never opened).
    const r = await extractFeatures({
      modelPath: writeModel(join(dir, 'm.onnx'), linearEncoder([[1, 0, 0]], null)),
      listing,
      outDir: join(dir, 'out'),
      preprocess: NORM,
    });
    assert.equal(r.rows, listing.items.length);
  });
});
