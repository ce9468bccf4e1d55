import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import sharp from 'sharp';
import { buildLabelSpace, poolLogits } from '../../src/probe/labelSpace.js';
import { FcprobeError } from '../../src/errors.js';
import { imagenetAWnids, imagenetRWnids, imagenetWnids } from '../../src/dataset/imagenetMeta.js';
import { detectLayout, listDataset, parseLayout } from '../../src/dataset/layouts.js';

let jpeg: Buffer;

before(async () => {
  jpeg = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } })
    .jpeg()
    .toBuffer();
});

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'fcprobe-layouts-'));
}

/** <root>/<folder>/img_<i>.<ext> for each folder, `perFolder` copies of one small real JPEG. */
function makeTree(root: string, folders: string[], perFolder = 2, ext = 'jpg'): void {
  for (const f of folders) {
    mkdirSync(join(root, f), { recursive: true });
    for (let i = 0; i < perFolder; i++) writeFileSync(join(root, f, `img_${i}.${ext}`), jpeg);
  }
}

function labelsOf(listing: { items: { file: string; label: number }[] }): Map<string, number> {
  const m = new Map<string, number>();
  for (const it of listing.items) m.set(it.file.split('/').slice(0, -1).join('/'), it.label);
  return m;
}

function assertFcprobe(fn: () => unknown, code: string, re: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof FcprobeError && e.code === code && re.test(e.message));
}

describe('layout imagenet (ImageNet val/train, Sketch, and the R/A subsets)', () => {
  it('detects 1000 wnid folders and labels each image with its ImageNet index', () => {
    const root = tmp();
    const wnids = imagenetWnids();
    // Created in reverse order: the listing order must not depend on creation order.
    makeTree(root, wnids.slice().reverse(), 1);
    writeFileSync(join(root, 'LOC_synset_mapping.txt'), 'not an image');
    const det = detectLayout(root);
    assert.equal(det.layout, 'imagenet');
    const l = listDataset(root);
    assert.equal(l.layout, 'imagenet');
    assert.deepEqual(l.classes, wnids);
    assert.equal(l.classMap, null);
    assert.equal(l.borderCrop, 0);
    assert.equal(l.items.length, 1000);
    const labels = labelsOf(l);
    assert.equal(labels.get('n01440764'), 0);
    assert.equal(labels.get('n01443537'), 1);
    assert.equal(labels.get('n15075141'), 999);
    assert.deepEqual(
      l.ignored.map((x) => x.file),
      ['LOC_synset_mapping.txt'],
    );
  });

  it('takes a subset of wnid folders (ImageNet-R style) as its own classes, in ImageNet index order', () => {
    const root = tmp();
    const r = imagenetRWnids();
    const chosen = [r[150]!, r[3]!, r[0]!, r[77]!]; // indices in ImageNet: see expected below
    makeTree(root, chosen, 3, 'JPEG');
    writeFileSync(join(root, 'README.txt'), 'ImageNet-R');
    const l = listDataset(root);
    assert.equal(l.layout, 'imagenet');
    const all = imagenetWnids();
    const expected = chosen.slice().sort((a, b) => all.indexOf(a) - all.indexOf(b));
    assert.deepEqual(l.classes, expected);
    assert.equal(l.classMap, null, 'names match the training wnids');
    assert.equal(l.items.length, 12);
    for (const it of l.items) assert.equal(l.classes[it.label], it.file.split('/')[0]);
  });

  it('pins the index space to the 1000 classes when given them as classes', () => {
    const root = tmp();
    makeTree(root, ['n01443537', 'n15075141'], 1);
    const l = listDataset(root, { classes: imagenetWnids() });
    assert.deepEqual(
      [...labelsOf(l).entries()],
      [
        ['n01443537', 1],
        ['n15075141', 999],
      ],
    );
  });

  it('follows symlinked class folders', () => {
    const src = tmp(),
      root = tmp();
    makeTree(src, ['n01440764'], 2);
    symlinkSync(join(src, 'n01440764'), join(root, 'n01440764'));
    const l = listDataset(root);
    assert.equal(l.layout, 'imagenet');
    assert.equal(l.items.length, 2);
  });

  it('treats wnid folders outside ImageNet-1k, or other names, as a plain folder', () => {
    const a = tmp();
    makeTree(a, ['n01440764', 'n99999999'], 1);
    const det = detectLayout(a);
    assert.equal(det.layout, 'folder');
    assert.match(det.detail, /n99999999/);
    const b = tmp();
    makeTree(b, ['cat', 'dog'], 1);
    assert.equal(detectLayout(b).layout, 'folder');
    assert.equal(listDataset(b).layout, 'folder');
    assertFcprobe(
      () => listDataset(a, { layout: 'imagenet' }),
      'BAD_DATA',
      /"n99999999".*not an ImageNet-1k WordNet id/,
    );
  });

  it('rejects an empty class folder', () => {
    const root = tmp();
    makeTree(root, ['n01440764'], 1);
    mkdirSync(join(root, 'n01443537'));
    assertFcprobe(() => listDataset(root), 'BAD_DATA', /n01443537 contains no images/);
  });
});

describe('layout imagenet-v2', () => {
  it('labels folder k with class k, sorting numerically (10 after 9)', () => {
    const root = tmp();
    const folders = ['0', '1', '2', '9', '10', '100', '999'];
    makeTree(root, folders, 2, 'jpeg');
    assert.equal(detectLayout(root).layout, 'imagenet-v2');
    const l = listDataset(root);
    assert.equal(l.layout, 'imagenet-v2');
    assert.deepEqual(l.classes, imagenetWnids(), 'scored over all 1000 classes');
    assert.equal(l.classMap, null);
    for (const it of l.items) assert.equal(it.label, Number(it.file.split('/')[0]));
    // Rows come in numeric class order: 0,1,2,9,10,100,999 (string order would put 10 and 100 before 2).
    assert.deepEqual([...new Set(l.items.map((it) => it.label))], [0, 1, 2, 9, 10, 100, 999]);
    assert.equal(l.classes[10], imagenetWnids()[10]);
  });

  it('handles the full 1000 folders', () => {
    const root = tmp();
    makeTree(
      root,
      Array.from({ length: 1000 }, (_, i) => String(i)),
      1,
    );
    const l = listDataset(root);
    assert.equal(l.items.length, 1000);
    assert.deepEqual(
      l.items.map((it) => it.label),
      Array.from({ length: 1000 }, (_, i) => i),
    );
  });

  it('does not take zero-padded or out-of-range names for class indices', () => {
    for (const bad of ['01', '1000', 'x']) {
      const root = tmp();
      makeTree(root, ['0', bad], 1);
      assert.equal(detectLayout(root).layout, 'folder', bad);
      assertFcprobe(() => listDataset(root, { layout: 'imagenet-v2' }), 'BAD_DATA', new RegExp(`"${bad}"`));
    }
  });

  it('refuses a class list', () => {
    const root = tmp();
    makeTree(root, ['0'], 1);
    assertFcprobe(() => listDataset(root, { classes: ['a'], layout: 'imagenet-v2' }), 'BAD_OPTION', /imagenet-v2/);
  });
});

describe('layout objectnet', () => {
  function objectnetTree(): string {
    const root = tmp();
    makeTree(join(root, 'images'), ['chair', 'alarm_clock', 'bicycle', 'squeegee'], 2, 'png');
    makeTree(join(root, 'images'), ['eyeglasses'], 3, 'png');
    mkdirSync(join(root, 'mappings'));
    writeFileSync(join(root, 'mappings', 'folder_to_objectnet_label.json'), '{}');
    writeFileSync(join(root, 'README'), 'ObjectNet');
    return root;
  }

  it('detects images/<folder>/ and maps the 113 classes to their ImageNet wnids', () => {
    const root = objectnetTree();
    const det = detectLayout(root);
    assert.equal(det.layout, 'objectnet');
    const l = listDataset(root);
    assert.equal(l.layout, 'objectnet');
    assert.equal(l.borderCrop, 2);
    assert.equal(l.classes.length, 113);
    assert.ok(l.classMap);
    assert.equal(l.classMap.length, 113);
    const chair = l.classes.indexOf('chair');
    const wn = imagenetWnids();
    assert.deepEqual(
      l.classMap[chair]!.map((w) => wn.indexOf(w)).sort((a, b) => a - b),
      [423, 559, 765],
    );
    assert.equal(l.items.length, 6, 'chair, alarm_clock, bicycle: 2 each');
    for (const it of l.items) {
      assert.match(it.file, /^images\/(chair|alarm_clock|bicycle)\/img_\d\.png$/);
      assert.equal(l.classes[it.label], it.file.split('/')[1]);
    }
  });

  it('leaves unmapped folders out and counts their images', () => {
    const l = listDataset(objectnetTree());
    const sq = l.ignored.find((x) => x.file === 'images/squeegee')!;
    assert.match(sq.reason, /"Squeegee" has no ImageNet-1k counterpart: 2 images not scored/);
    const eg = l.ignored.find((x) => x.file === 'images/eyeglasses')!;
    assert.match(eg.reason, /3 images not scored/);
  });

  it('accepts the images/ folder itself when the layout is named', () => {
    const root = objectnetTree();
    const l = listDataset(join(root, 'images'), { layout: 'objectnet' });
    assert.equal(l.items.length, 6);
    assert.match(l.items[0]!.file, /^(chair|alarm_clock|bicycle)\/img_0\.png$/);
  });
});

describe('scoring a 1000-way probe on these listings (src/probe/labelSpace.ts)', () => {
  const K = 1000;
  const train = imagenetWnids();

  it("ImageNet-R/A: only the subset's logits compete", () => {
    const root = tmp();
    const a = imagenetAWnids();
    // A subset of three ImageNet-A classes: stingray (6), goldfinch (11), junco (13).
    makeTree(root, [a[0]!, a[1]!, a[2]!], 1);
    const l = listDataset(root);
    assert.deepEqual(
      l.classes.map((w) => train.indexOf(w)),
      [6, 11, 13],
    );
    const space = buildLabelSpace(train, l.classes, l.classMap);
    assert.equal(space.kind, 'subset');
    const logits = new Float32Array(2 * K);
    // Row 0: class 0 (tench, not in the subset) is the global max; among 6, 11, 13 the max is 13.
    logits[0] = 9;
    logits[6] = 1;
    logits[11] = 2;
    logits[13] = 3;
    // Row 1: the subset's max is 6 even though 500 is larger overall.
    logits[K + 500] = 50;
    logits[K + 6] = 0.5;
    logits[K + 11] = -1;
    logits[K + 13] = 0.25;
    const scores = new Float32Array(2 * 3);
    poolLogits(logits, 2, K, space, scores);
    assert.deepEqual([...scores], [1, 2, 3, 0.5, -1, 0.25]);
    const argmax = (r: number): number =>
      [0, 1, 2].reduce((b, e) => (scores[r * 3 + e]! > scores[r * 3 + b]! ? e : b), 0);
    assert.equal(l.classes[argmax(0)], train[13]);
    assert.equal(l.classes[argmax(1)], train[6]);
  });

  it('ObjectNet: each class scores the max of its mapped logits; argmax over the 113', () => {
    const root = tmp();
    makeTree(join(root, 'images'), ['chair', 'alarm_clock'], 1, 'png');
    const l = listDataset(root);
    const space = buildLabelSpace(train, l.classes, l.classMap);
    assert.equal(space.kind, 'mapped');
    assert.equal(space.classes.length, 113);
    const E = 113;
    const logits = new Float32Array(K);
    logits[0] = 100; // tench: not mapped by any ObjectNet class, cannot win
    logits[423] = 1; // barber chair
    logits[559] = 5; // folding chair
    logits[765] = -2; // rocking chair
    logits[409] = 4.5; // analog clock
    logits[530] = 4; // digital clock
    const scores = new Float32Array(E);
    poolLogits(logits, 1, K, space, scores);
    const chair = space.fromEval[l.classes.indexOf('chair')]!;
    const alarm = space.fromEval[l.classes.indexOf('alarm_clock')]!;
    assert.equal(scores[chair], 5);
    assert.equal(scores[alarm], 4.5);
    let best = 0;
    for (let e = 1; e < E; e++) if (scores[e]! > scores[best]!) best = e;
    assert.equal(space.classes[best], 'chair');
    // Raising the digital clock above every chair flips the prediction to alarm_clock.
    logits[530] = 6;
    poolLogits(logits, 1, K, space, scores);
    best = 0;
    for (let e = 1; e < E; e++) if (scores[e]! > scores[best]!) best = e;
    assert.equal(space.classes[best], 'alarm_clock');
  });
});

describe('parseLayout', () => {
  it('accepts the four names and rejects others with the option named', () => {
    assert.equal(parseLayout('objectnet'), 'objectnet');
    assertFcprobe(
      () => parseLayout('imagenet2'),
      'BAD_OPTION',
      /Expected --layout to be one of folder, imagenet, imagenet-v2, objectnet, got "imagenet2"/,
    );
  });
});
