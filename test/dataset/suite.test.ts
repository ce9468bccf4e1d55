import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import sharp from 'sharp';
import { FcprobeError } from '../../src/errors.js';
import type { DatasetListing } from '../../src/dataset/listing.js';
import { imagenetAWnids, imagenetRWnids, imagenetWnids } from '../../src/dataset/imagenetMeta.js';
import { listDataset } from '../../src/dataset/layouts.js';
import { findSuite, IMAGENET_OOD_SUITE, selectPerClass, splitListing } from '../../src/dataset/suite.js';

let jpeg: Buffer;

before(async () => {
  jpeg = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } })
    .jpeg()
    .toBuffer();
});

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'fcprobe-suite-'));
}

function makeTree(root: string, folders: string[], perFolder = 1): void {
  for (const f of folders) {
    mkdirSync(join(root, f), { recursive: true });
    for (let i = 0; i < perFolder; i++) writeFileSync(join(root, f, `img_${i}.jpg`), jpeg);
  }
}

describe('findSuite', () => {
  it('finds the sets by their usual folder names, case-insensitively, and reports the missing ones', () => {
    const root = tmp();
    const wn = imagenetWnids();
    makeTree(join(root, 'imagenet', 'train'), wn.slice(0, 3), 2);
    makeTree(join(root, 'imagenet', 'val'), wn.slice(0, 3));
    makeTree(join(root, 'imagenetv2-matched-frequency-format-val'), ['0', '1', '2']);
    makeTree(join(root, 'ImageNet-R'), imagenetRWnids());
    makeTree(join(root, 'imagenet-a'), imagenetAWnids().slice(0, 5));
    makeTree(join(root, 'objectnet-1.0', 'images'), ['chair', 'squeegee']);
    const s = findSuite(root);
    assert.deepEqual(
      s.sets.map((x) => x.id),
      IMAGENET_OOD_SUITE.map((x) => x.id),
    );
    assert.deepEqual(
      s.found.map((x) => x.id),
      ['imagenet-train', 'imagenet-val', 'imagenet-v2', 'imagenet-r', 'imagenet-a', 'objectnet'],
    );
    assert.deepEqual(
      s.missing.map((x) => x.id),
      ['imagenet-sketch'],
    );
    const byId = new Map(s.sets.map((x) => [x.id, x]));
    assert.equal(byId.get('imagenet-r')!.path, join(root, 'ImageNet-R'));
    assert.equal(byId.get('objectnet')!.path, join(root, 'objectnet-1.0'));
    assert.equal(byId.get('imagenet-v2')!.layout, 'imagenet-v2');
    assert.deepEqual(
      byId.get('imagenet-r')!.notes,
      ['ImageNet-R: 200 WordNet-id folders, all ImageNet-1k classes'],
      'the full ImageNet-R raises no warning',
    );
    assert.ok(
      byId.get('imagenet-a')!.notes.some((n) => /5 of ImageNet-A's 200 classes present: scored over all 200/.test(n)),
    );
    assert.ok(
      byId.get('imagenet-val')!.notes.some((n) => /3 of ImageNet's 1000 classes present: scored over all 1000/.test(n)),
    );
    // Classes present of the protocol's, and the missing ones by name (here: every wnid but the first five/three).
    const a = byId.get('imagenet-a')!.classes!;
    assert.deepEqual([a.present, a.expected], [5, 200]);
    assert.deepEqual(a.missing, imagenetAWnids().slice(5));
    assert.equal(byId.get('imagenet-a')!.classSpace, 'imagenet-a');
    assert.deepEqual(byId.get('imagenet-val')!.classes!.missing, wn.slice(3));
    assert.deepEqual(byId.get('imagenet-r')!.classes, { present: 200, expected: 200, missing: [] });
    assert.deepEqual(
      [byId.get('imagenet-v2')!.classes!.present, byId.get('imagenet-v2')!.classes!.expected],
      [3, 1000],
    );
    const on = byId.get('objectnet')!;
    assert.equal(on.classes!.present, 1);
    assert.ok(
      on.notes.some((n) => /1 folders without an ImageNet counterpart left out/.test(n)),
      on.notes.join('; '),
    );
    assert.ok(
      byId.get('objectnet')!.notes.some((n) => /1 of the 113 ImageNet-mapped ObjectNet classes present/.test(n)),
    );
    const sketch = byId.get('imagenet-sketch')!;
    assert.equal(sketch.path, null);
    assert.equal(sketch.classes, null);
    assert.deepEqual(sketch.foldersTried, ['imagenet-sketch/sketch', 'imagenet-sketch', 'sketch']);
    assert.match(
      sketch.notes.at(-1)!,
      /not found \(looked for imagenet-sketch\/sketch, imagenet-sketch, sketch\): left out of the OOD average/,
    );
    for (const set of s.found) assert.equal(listDataset(set.path!, { layout: set.layout }).layout, set.layout);
  });

  it('explains a flat ImageNet val folder and tries the next name', () => {
    const root = tmp();
    mkdirSync(join(root, 'imagenet', 'val'), { recursive: true });
    writeFileSync(join(root, 'imagenet', 'val', 'ILSVRC2012_val_00000001.JPEG'), jpeg);
    makeTree(join(root, 'ILSVRC2012', 'val'), imagenetWnids().slice(0, 2));
    const val = findSuite(root).sets.find((x) => x.id === 'imagenet-val')!;
    assert.equal(val.found, true);
    assert.equal(val.path, join(root, 'ILSVRC2012', 'val'));
    assert.match(val.notes[0]!, /imagenet\/val holds images directly, not in class folders/);
  });

  it('notices ImageNet-A classes in the ImageNet-R folder', () => {
    const root = tmp();
    makeTree(join(root, 'imagenet-r'), imagenetAWnids());
    const r = findSuite(root).sets.find((x) => x.id === 'imagenet-r')!;
    assert.equal(r.found, true);
    const shared = imagenetAWnids().filter((w) => imagenetRWnids().includes(w)).length;
    assert.ok(
      r.notes.some((n) =>
        n.includes(
          `${shared} of ImageNet-R's 200 classes present and ${200 - shared} other ImageNet class folders (left out)`,
        ),
      ),
      r.notes.join('; '),
    );
  });

  it('reports a missing training set and fails only when the root itself is missing', () => {
    const root = tmp();
    const s = findSuite(root);
    assert.equal(s.found.length, 0);
    assert.match(s.sets[0]!.notes.at(-1)!, /needed to train the probe/);
    assert.throws(
      () => findSuite(join(root, 'nope')),
      (e: unknown) => e instanceof FcprobeError && e.code === 'NOT_FOUND',
    );
  });
});

describe('selectPerClass', () => {
  function listing(counts: number[]): DatasetListing {
    const items = counts.flatMap((n, label) =>
      Array.from({ length: n }, (_, i) => ({ file: `c${label}/img_${String(i).padStart(3, '0')}.jpg`, label })),
    );
    return {
      root: '/x',
      layout: 'imagenet',
      classes: counts.map((_, i) => `c${i}`),
      classMap: null,
      items,
      ignored: [],
      borderCrop: 0,
    };
  }

  it('keeps min(n, class size) per class, in the listing order', () => {
    const l = listing([20, 3, 7, 0, 12]);
    const s = selectPerClass(l, 5, 1);
    const per = [0, 0, 0, 0, 0];
    for (const it of s.items) per[it.label]!++;
    assert.deepEqual(per, [5, 3, 5, 0, 5]);
    const pos = s.items.map((it) => l.items.indexOf(it));
    assert.ok(
      pos.every((p) => p >= 0),
      'items come from the listing',
    );
    assert.deepEqual(
      pos,
      pos.slice().sort((a, b) => a - b),
      'original order kept',
    );
    assert.deepEqual(s.classes, l.classes);
    assert.equal(l.items.length, 42, 'input untouched');
  });

  it('is deterministic in the seed, varies with it, and nests as n grows', () => {
    const l = listing([50, 50, 50]);
    const files = (x: DatasetListing): string[] => x.items.map((it) => it.file);
    assert.deepEqual(files(selectPerClass(l, 10, 7)), files(selectPerClass(l, 10, 7)));
    assert.notDeepEqual(files(selectPerClass(l, 10, 7)), files(selectPerClass(l, 10, 8)));
    const small = new Set(files(selectPerClass(l, 10, 7)));
    const big = new Set(files(selectPerClass(l, 25, 7)));
    for (const f of small) assert.ok(big.has(f), f);
    // Not just the first files of each class.
    assert.notDeepEqual(
      files(selectPerClass(l, 10, 7)).filter((f) => f.startsWith('c0/')),
      files(l).slice(0, 10),
    );
  });

  it('draws each class independently of the other classes', () => {
    const a = selectPerClass(listing([30, 30]), 4, 3)
      .items.filter((it) => it.label === 1)
      .map((it) => it.file);
    const b = selectPerClass(listing([5, 30]), 4, 3)
      .items.filter((it) => it.label === 1)
      .map((it) => it.file);
    assert.deepEqual(a, b);
  });

  it('rejects a non-positive n', () => {
    assert.throws(
      () => selectPerClass(listing([3]), 0, 1),
      (e: unknown) => e instanceof FcprobeError && /--train-per-class/.test(e.message),
    );
  });
});

describe('splitListing', () => {
  // Class sizes 10, 7, 3, 1: with 0.3, round(n * 0.3) clamped to [1, n - 1] = 3, 2, 1 and 0 (one image stays).
  const sizes = [10, 7, 3, 1];
  const listing: DatasetListing = {
    root: '/d',
    layout: 'folder',
    classes: sizes.map((_, c) => `c${c}`),
    classMap: null,
    items: sizes.flatMap((n, c) => Array.from({ length: n }, (_, i) => ({ file: `c${c}/${i}.png`, label: c }))),
    ignored: [],
    borderCrop: 0,
  };

  it('is stratified, disjoint, complete, ordered and seeded', () => {
    const a = splitListing(listing, 0.3, 0);
    const count = (l: DatasetListing, c: number): number => l.items.filter((x) => x.label === c).length;
    assert.deepEqual(
      sizes.map((_, c) => count(a.test, c)),
      [3, 2, 1, 0],
    );
    const files = [...a.train.items, ...a.test.items].map((x) => x.file).sort();
    assert.deepEqual(files, listing.items.map((x) => x.file).sort());
    assert.equal(new Set(files).size, files.length);
    const order = (l: DatasetListing): number[] =>
      l.items.map((x) => listing.items.findIndex((y) => y.file === x.file));
    for (const part of [a.train, a.test]) {
      const o = order(part);
      assert.deepEqual(
        o,
        [...o].sort((x, y) => x - y),
      );
    }
    assert.deepEqual(splitListing(listing, 0.3, 0), a);
    const seeds = [1, 2, 3, 4, 5].map((s) =>
      splitListing(listing, 0.3, s)
        .test.items.map((x) => x.file)
        .join(),
    );
    assert.ok(new Set(seeds).size > 1, 'another seed draws another split');
    assert.throws(() => splitListing(listing, 1, 0), /--split/);
  });
});
