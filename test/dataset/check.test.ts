import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkDatasets, PUBLISHED_COUNTS } from '../../src/dataset/check.js';
import { imagenetAWnids, imagenetRWnids, imagenetWnids, objectnetMeta } from '../../src/dataset/imagenetMeta.js';
import { CLI, tempDir, writeSolidImage } from '../helpers/fixtures.js';

async function classDir(root: string, cls: string, n: number): Promise<void> {
  mkdirSync(join(root, cls), { recursive: true });
  for (let i = 0; i < n; i++) await writeSolidImage(join(root, cls, `${i}.JPEG`), [i * 40, 10, 200], 8, 8, 'jpeg');
}

describe('datasets check', () => {
  it('the published table matches the issue and data/meta/README.md, and each class list has its stated length', () => {
    const t = PUBLISHED_COUNTS;
    assert.deepEqual(Object.fromEntries(Object.entries(t).map(([k, v]) => [k, [v.images, v.classes]])), {
      'imagenet-train': [1_281_167, 1000],
      'imagenet-val': [50_000, 1000],
      'imagenet-v2': [10_000, 1000],
      'imagenet-r': [30_000, 200],
      'imagenet-a': [7_500, 200],
      'imagenet-sketch': [50_889, 1000],
      objectnet: [50_273, 313],
    });
    for (const [id, v] of Object.entries(t)) assert.equal(new Set(v.classNames()).size, v.classes, id);
  });

  it('a complete tiny tree passes against injected counts; missing, extra and unreadable are reported', async () => {
    const root = tempDir();
    const w = imagenetWnids();
    const val = join(root, 'imagenet', 'val');
    for (const c of w.slice(0, 3)) await classDir(val, c, 2);
    // ImageNet-R with one of its classes missing and one ImageNet-A class that does not belong.
    const r = imagenetRWnids();
    const extra = imagenetAWnids().find((x) => !r.includes(x))!;
    for (const c of [r[0]!, r[1]!, extra]) await classDir(join(root, 'imagenet-r'), c, 1);
    // ImageNet-Sketch with an unreadable file (text named .JPEG) and an empty one.
    const sk = join(root, 'imagenet-sketch', 'sketch');
    await classDir(sk, w[0]!, 2);
    writeFileSync(join(sk, w[0]!, 'bad.JPEG'), 'not an image');
    writeFileSync(join(sk, w[0]!, 'empty.png'), '');
    // ObjectNet: images/<folder>, two known folders.
    const on = objectnetMeta().folders;
    for (const f of on.slice(0, 2)) await classDir(join(root, 'objectnet-1.0', 'images'), f.folder, 1);

    const expected = {
      'imagenet-val': { images: 6, classes: 3, classNames: () => w.slice(0, 3) },
      'imagenet-r': { images: 3, classes: 3, classNames: () => r.slice(0, 3) },
      'imagenet-sketch': { images: 4, classes: 1, classNames: () => [w[0]!] },
      objectnet: { images: 2, classes: 2, classNames: () => on.slice(0, 2).map((f) => f.folder) },
    };
    const res = checkDatasets(root, { expected });
    const by = new Map(res.sets.map((s) => [s.id, s]));
    const v = by.get('imagenet-val')!;
    assert.deepEqual([v.found, v.images, v.classes, v.complete], [true, 6, 3, true]);
    const ir = by.get('imagenet-r')!;
    assert.deepEqual(ir.missingClasses, [r[2]]);
    assert.deepEqual(ir.extraClasses, [extra]);
    assert.equal(ir.complete, false);
    const s = by.get('imagenet-sketch')!;
    assert.equal(s.images, 4);
    assert.deepEqual(
      s.unreadable.map((u) => [u.file, u.reason]),
      [
        [`${w[0]}/bad.JPEG`, 'not a JPEG, PNG or WebP file (by its first bytes)'],
        [`${w[0]}/empty.png`, 'empty file'],
      ],
    );
    assert.equal(s.complete, false);
    const o = by.get('objectnet')!;
    assert.deepEqual([o.found, o.images, o.classes, o.complete], [true, 2, 2, true]);
    assert.equal(by.get('imagenet-a')!.found, false);
    assert.equal(res.complete, false);

    // Only the complete sets in the suite: complete overall.
    const only = checkDatasets(root, {
      expected,
      suite: (await import('../../src/dataset/suite.js')).IMAGENET_OOD_SUITE.filter((x) =>
        ['imagenet-val', 'objectnet'].includes(x.id),
      ),
    });
    assert.equal(only.complete, true);

    // The CLI checks against the published counts: this tree is far from complete (exit 3).
    const p = spawnSync(process.execPath, [CLI, 'datasets', 'check', '--data-root', root], { encoding: 'utf8' });
    assert.equal(p.status, 3, p.stderr);
    assert.match(p.stdout, /ImageNet: INCOMPLETE[\s\S]*images 6 of 50,000, classes 3 of 1,000/);
    assert.match(p.stdout, /ImageNet-A: MISSING/);
    assert.match(p.stdout, /0 of 7 sets complete/);
  });
});
