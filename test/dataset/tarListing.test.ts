import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { pack } from 'tar-stream';
import { scanImageFolder } from '../../src/dataset/listing.js';
import { expandBraces, isTarData, listTarShards, resolveTarFiles } from '../../src/dataset/tarListing.js';
import { extractFeatures, listingHash } from '../../src/extract/extract.js';
import { FcprobeError } from '../../src/errors.js';
import { linearEncoder, makeNoiseFolder, tempDir, writeModel } from '../helpers/fixtures.js';

/** A tar (tar-stream's pack) holding the given members in order. */
async function writeTar(path: string, members: [string, Buffer][]): Promise<void> {
  const p = pack();
  for (const [name, data] of members) p.entry({ name }, data);
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  writeFileSync(path, Buffer.concat(chunks));
}

/** The files of an image folder as tar members `<class>/<file>`, split over `n` tars in listing order. */
async function folderToTars(folder: string, out: string, n: number): Promise<void> {
  mkdirSync(out, { recursive: true });
  const files = scanImageFolder(folder).items.map((i) => i.file);
  for (let k = 0; k < n; k++) {
    const part = files.slice(Math.floor((k * files.length) / n), Math.floor(((k + 1) * files.length) / n));
    await writeTar(
      join(out, `train-${String(k).padStart(3, '0')}.tar`),
      part.map((f) => [f, readFileSync(join(folder, f))]),
    );
  }
}

async function rejectsWith(p: Promise<unknown>, code: string, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof FcprobeError && e.code === code && re.test(e.message));
}

describe('tar shards (WebDataset)', () => {
  it('expands brace ranges and lists, zero-padded like the shell', () => {
    assert.deepEqual(expandBraces('s/t-{000..002}.tar'), ['s/t-000.tar', 's/t-001.tar', 's/t-002.tar']);
    assert.deepEqual(expandBraces('{8..10}{a,b}'), ['8a', '8b', '9a', '9b', '10a', '10b']);
    assert.deepEqual(expandBraces('plain.tar'), ['plain.tar']);
    assert.throws(() => expandBraces('t-{0..x}.tar'), /brace range of two integers/);
    assert.ok(isTarData('s/t-{000..002}.tar') && isTarData('a.tar') && isTarData('list.txt'));
  });

  it('gives features byte-identical to the same images as a folder (class folders in the key)', async () => {
    const dir = tempDir();
    const folder = join(dir, 'folder');
    await makeNoiseFolder(folder, ['cat', 'dog', 'eel'], 3, 40);
    await folderToTars(folder, join(dir, 'shards'), 2);
    const model = writeModel(
      join(dir, 'm.onnx'),
      linearEncoder(
        [
          [1, 2, 3],
          [0, -1, 0.5],
          [2, 0, -1],
          [0.25, 0.5, -2],
        ],
        32,
      ),
    );
    const tars = await listTarShards(join(dir, 'shards', 'train-{000..001}.tar'));
    const flat = scanImageFolder(folder);
    assert.deepEqual(tars.classes, flat.classes);
    assert.deepEqual(
      tars.items.map((i) => [i.file.replace(/^train-00\d\.tar#/, ''), i.label]),
      flat.items.map((i) => [i.file, i.label]),
    );
    assert.equal(tars.items[0]!.file, 'train-000.tar#cat/img_000.png');
    // The same listing from the folder of tars and from a list file.
    writeFileSync(join(dir, 'list.txt'), 'shards/train-000.tar\n# comment\nshards/train-001.tar\n');
    assert.deepEqual((await listTarShards(join(dir, 'shards'))).items, tars.items);
    assert.deepEqual((await listTarShards(join(dir, 'list.txt'))).items, tars.items);
    await extractFeatures({ modelPath: model, listing: flat, outDir: join(dir, 'fa'), batchSize: 4 });
    const b = await extractFeatures({ modelPath: model, listing: tars, outDir: join(dir, 'fb'), batchSize: 4 });
    assert.equal(b.rows, 9);
    for (const f of ['features.npy', 'labels.npy'])
      assert.ok(readFileSync(join(dir, 'fa', f)).equals(readFileSync(join(dir, 'fb', f))), `${f} identical`);
    assert.deepEqual(
      b.manifest.files,
      tars.items.map((i) => i.file),
    );
    // A shard of the tar listing is the same rows as the shard of the folder.
    const s = await extractFeatures({
      modelPath: model,
      listing: tars,
      outDir: join(dir, 'fs'),
      shard: { index: 1, count: 2 },
    });
    assert.equal(s.rows, 5);
    const again = await extractFeatures({ modelPath: model, listing: tars, outDir: join(dir, 'fb'), batchSize: 4 });
    assert.equal(again.status, 'already-done');
    // The key covers the tar files' stamps: a touched shard is another input.
    const before = listingHash(tars);
    utimesSync(join(dir, 'shards', 'train-001.tar'), new Date(1e12), new Date(1e12));
    assert.notEqual(listingHash(await listTarShards(join(dir, 'shards'))), before);
  });

  it('labels samples from .cls members, lists other members as ignored', async () => {
    const dir = tempDir();
    const img = readFileSync(
      await (async () => {
        await makeNoiseFolder(join(dir, 'f'), ['x'], 1, 16);
        return join(dir, 'f', 'x', 'img_000.png');
      })(),
    );
    await writeTar(join(dir, 'a.tar'), [
      ['s0001.png', img],
      ['s0001.cls', Buffer.from('2\n')],
      ['s0001.json', Buffer.from('{}')],
      ['s0002.cls', Buffer.from('0')],
      ['s0002.png', img],
    ]);
    const l = await listTarShards(join(dir, 'a.tar'));
    assert.deepEqual(l.classes, ['0', '1', '2']);
    assert.deepEqual(
      l.items.map((i) => [i.file, i.label]),
      [
        ['a.tar#s0001.png', 2],
        ['a.tar#s0002.png', 0],
      ],
    );
    assert.deepEqual(
      l.ignored.map((i) => i.file),
      ['a.tar#s0001.json'],
    );
    // The byte range is exactly the member's data.
    const tar = readFileSync(join(dir, 'a.tar'));
    const src = l.items[1]!.source!;
    assert.ok(tar.subarray(src.offset, src.offset + src.size).equals(img));
    // With a class list, an integer .cls indexes it.
    const named = await listTarShards(join(dir, 'a.tar'), { classes: ['cat', 'dog', 'eel'] });
    assert.deepEqual(
      named.items.map((i) => i.label),
      [2, 0],
    );
    await writeTar(join(dir, 'b.tar'), [['lonely.png', img]]);
    await rejectsWith(listTarShards(join(dir, 'b.tar')), 'BAD_DATA', /has no label/);
  });

  it('refuses truncated, compressed and missing shards with a clear error', async () => {
    const dir = tempDir();
    await makeNoiseFolder(join(dir, 'f'), ['x'], 2, 24);
    const files = readdirSync(join(dir, 'f', 'x'));
    await writeTar(
      join(dir, 't.tar'),
      files.map((f) => [`x/${f}`, readFileSync(join(dir, 'f', 'x', f))]),
    );
    const whole = readFileSync(join(dir, 't.tar'));
    writeFileSync(join(dir, 'gz.tar'), gzipSync(whole));
    await rejectsWith(listTarShards(join(dir, 'gz.tar')), 'BAD_DATA', /gzip-compressed.*uncompressed \.tar/);
    const l = await listTarShards(join(dir, 't.tar'));
    truncateSync(join(dir, 't.tar'), l.items[1]!.source!.offset + 10);
    await rejectsWith(listTarShards(join(dir, 't.tar')), 'BAD_DATA', /t\.tar is truncated/);
    await rejectsWith(listTarShards(join(dir, 'u-{0..1}.tar')), 'NOT_FOUND', /u-0\.tar does not exist/);
    assert.throws(() => resolveTarFiles(join(dir, 'none.txt')), /does not exist/);
  });
});
