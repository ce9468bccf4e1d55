import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  imagenetAWnids,
  imagenetClasses,
  imagenetIndexOf,
  imagenetRWnids,
  imagenetWnids,
  metaDir,
  objectnetMeta,
} from '../../src/dataset/imagenetMeta.js';

/** The data files parsed here without the loader, so a loader bug cannot hide a data bug (and vice versa). */
function rawTsv(file: string): string[][] {
  return readFileSync(join(metaDir(), file), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split('\t'));
}

describe('data/meta: ImageNet-1k classes', () => {
  it('is found from the compiled module (dist/src/io) and holds the cited files', () => {
    assert.ok(metaDir().endsWith(join('data', 'meta')));
    for (const f of [
      'README.md',
      'imagenet-classes.tsv',
      'imagenet-r-classes.tsv',
      'imagenet-a-classes.tsv',
      'objectnet.json',
    ]) {
      assert.ok(existsSync(join(metaDir(), f)), f);
    }
    const readme = readFileSync(join(metaDir(), 'README.md'), 'utf8');
    for (const src of ['hendrycks/imagenet-r', 'hendrycks/natural-adv-examples', 'mlfoundations/wise-ft'])
      assert.ok(readme.includes(src), src);
  });

  it('lists 1000 distinct wnids whose sorted order is the index order', () => {
    const rows = rawTsv('imagenet-classes.tsv');
    assert.equal(rows.length, 1000);
    const wnids = rows.map((r) => r[1]!);
    assert.deepEqual(
      rows.map((r) => Number(r[0])),
      Array.from({ length: 1000 }, (_, i) => i),
    );
    assert.equal(new Set(wnids).size, 1000);
    assert.deepEqual(wnids.slice().sort(), wnids, 'index = position in the sorted wnid list');
    for (const w of wnids) assert.match(w, /^n\d{8}$/);
    for (const r of rows) assert.ok(r[2]!.trim().length > 0, `name of ${r[1]}`);
    assert.deepEqual(imagenetWnids(), wnids);
  });

  it('has the well-known anchors', () => {
    const c = imagenetClasses();
    assert.deepEqual(c[0], { index: 0, wnid: 'n01440764', name: 'tench' });
    assert.deepEqual(c[1], { index: 1, wnid: 'n01443537', name: 'goldfish' });
    assert.deepEqual(c[999], { index: 999, wnid: 'n15075141', name: 'toilet paper' });
    assert.equal(c[423]!.name, 'barber chair');
    assert.equal(c[559]!.name, 'folding chair');
    assert.equal(c[765]!.name, 'rocking chair');
    assert.equal(imagenetIndexOf('n15075141'), 999);
    assert.equal(imagenetIndexOf('n00000000'), undefined);
  });
});

describe('data/meta: ImageNet-R and ImageNet-A subsets', () => {
  for (const [file, load, name] of [
    ['imagenet-r-classes.tsv', imagenetRWnids, 'ImageNet-R'],
    ['imagenet-a-classes.tsv', imagenetAWnids, 'ImageNet-A'],
  ] as const) {
    it(`${name}: exactly 200 distinct wnids, all among the 1000, each at its stated ImageNet index`, () => {
      const all = imagenetWnids();
      const rows = rawTsv(file);
      assert.equal(rows.length, 200);
      assert.equal(new Set(rows.map((r) => r[1])).size, 200);
      for (const [idx, wnid] of rows) {
        assert.ok(all.includes(wnid!), `${wnid} is an ImageNet-1k class`);
        assert.equal(all.indexOf(wnid!), Number(idx), `${wnid} index`);
      }
      const idx = rows.map((r) => Number(r[0]));
      assert.deepEqual(
        idx,
        idx.slice().sort((a, b) => a - b),
        'listed in index order',
      );
      assert.deepEqual(
        load(),
        rows.map((r) => r[1]),
      );
    });
  }

  it('are different subsets with the first members their authors list', () => {
    const r = imagenetRWnids(),
      a = imagenetAWnids();
    assert.notDeepEqual(r, a);
    // ImageNet-R starts at goldfish (index 1); ImageNet-A at stingray (index 6) in the authors' index lists.
    assert.equal(r[0], 'n01443537');
    assert.equal(a[0], 'n01498041');
    assert.equal(imagenetIndexOf(r[199]!), 988);
    assert.equal(imagenetIndexOf(a[199]!), 988);
  });
});

describe('data/meta: ObjectNet', () => {
  const meta = objectnetMeta();

  it('has 313 distinct folders with distinct labels, sorted by folder name, and a 2-pixel border crop', () => {
    const folders = meta.folders.map((f) => f.folder);
    assert.equal(folders.length, 313);
    assert.equal(new Set(folders).size, 313);
    assert.equal(new Set(meta.folders.map((f) => f.label)).size, 313);
    assert.deepEqual(folders, folders.slice().sort());
    assert.equal(meta.borderCrop, 2);
  });

  it('maps 113 classes onto 125 distinct ImageNet indices, none shared between classes', () => {
    assert.equal(meta.mapped.length, 113);
    const all = meta.mapped.flatMap((f) => f.imagenetIndices);
    assert.equal(all.length, 125);
    assert.equal(new Set(all).size, 125);
    const wnids = imagenetWnids();
    for (const f of meta.mapped) {
      assert.deepEqual(
        f.imagenetWnids,
        f.imagenetIndices.map((k) => wnids[k]),
        f.folder,
      );
    }
  });

  it('maps chair to three ImageNet chairs, and exactly the documented classes to several', () => {
    const chair = meta.mapped.find((f) => f.folder === 'chair')!;
    assert.equal(chair.label, 'Chair');
    assert.deepEqual(
      chair.imagenetIndices.slice().sort((a, b) => a - b),
      [423, 559, 765],
    );
    const multi = meta.mapped.filter((f) => f.imagenetIndices.length > 1).map((f) => f.folder);
    assert.deepEqual(multi, [
      'alarm_clock',
      'bicycle',
      'chair',
      'helmet',
      'pen',
      'skirt',
      'still_camera',
      'tie',
      'wheel',
    ]);
    const alarm = meta.mapped.find((f) => f.folder === 'alarm_clock')!;
    assert.deepEqual(
      alarm.imagenetIndices.map((k) => imagenetClasses()[k]!.name),
      ['analog clock', 'digital clock'],
    );
  });

  it('leaves well-known non-ImageNet classes unmapped', () => {
    for (const folder of ['squeegee', 'eyeglasses', 'scissors', 'egg']) {
      const f = meta.folders.find((x) => x.folder === folder)!;
      assert.ok(f, folder);
      assert.deepEqual(f.imagenetWnids, [], folder);
    }
  });
});
