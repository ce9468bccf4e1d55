/**
 * The paper's evaluation suite (`--suite imagenet-ood`): ImageNet train (probe training), ImageNet val (ID),
 * and ImageNet-V2, ImageNet-R, ImageNet-Sketch, ImageNet-A, ObjectNet (OOD), found under one data root by
 * their usual folder names. A set that is not there is reported missing with a note, never an error: the run
 * evaluates what it finds.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { Rng } from '../math/rng.js';
import { badOption, FcprobeError } from '../errors.js';
import type { DatasetItem, DatasetListing } from './listing.js';
import { imagenetAWnids, imagenetRWnids, imagenetWnids, objectnetMeta } from './imagenetMeta.js';
import { detectLayout, type LayoutName } from './layouts.js';
import { CLASS_SPACES } from '../options.js';

export type SuiteSetId =
  | 'imagenet-train'
  | 'imagenet-val'
  | 'imagenet-v2'
  | 'imagenet-r'
  | 'imagenet-sketch'
  | 'imagenet-a'
  | 'objectnet';

export interface SuiteSet {
  id: SuiteSetId;
  title: string;
  /** train: fits the probe; id: in-distribution evaluation; ood: averaged into the OOD accuracy. */
  role: 'train' | 'id' | 'ood';
  layout: LayoutName;
  /** Paths under the data root tried in this order; each segment matched case-insensitively. */
  folders: string[];
  /** How a 1000-way ImageNet probe is scored on it. */
  scoring: string;
  /**
   * The classes the protocol scores over whatever folders are present (see protocolClasses); absent: the
   * set's own mapping decides (train: the probe's classes; ObjectNet: its 113 mapped classes).
   */
  classSpace?: ClassSpace;
}

/** Protocol label spaces: all 1000 ImageNet classes, or ImageNet-R's / ImageNet-A's 200-class subset. */
export type ClassSpace = (typeof CLASS_SPACES)[number];

export { CLASS_SPACES };

/** The wnids of a protocol label space (1000, or 200 in ImageNet index order). */
export function protocolClasses(space: ClassSpace): string[] {
  switch (space) {
    case 'imagenet-1k':
      return imagenetWnids();
    case 'imagenet-r':
      return imagenetRWnids();
    case 'imagenet-a':
      return imagenetAWnids();
  }
}

export const IMAGENET_OOD_SUITE: readonly SuiteSet[] = [
  {
    id: 'imagenet-train',
    title: 'ImageNet train',
    role: 'train',
    layout: 'imagenet',
    folders: ['imagenet/train', 'ILSVRC2012/train', 'imagenet-train', 'ILSVRC/Data/CLS-LOC/train'],
    scoring: 'probe training set (1000 classes)',
  },
  {
    id: 'imagenet-val',
    title: 'ImageNet',
    role: 'id',
    layout: 'imagenet',
    folders: ['imagenet/val', 'ILSVRC2012/val', 'imagenet-val'],
    classSpace: 'imagenet-1k',
    scoring: 'argmax over 1000',
  },
  {
    id: 'imagenet-v2',
    title: 'ImageNet-V2',
    role: 'ood',
    layout: 'imagenet-v2',
    folders: [
      'imagenetv2-matched-frequency-format-val',
      'imagenetv2-matched-frequency',
      'imagenet-v2',
      'imagenetv2',
      'imagenetv2-threshold0.7-format-val',
      'imagenetv2-top-images-format-val',
    ],
    classSpace: 'imagenet-1k',
    scoring: 'argmax over 1000 (label = folder integer)',
  },
  {
    id: 'imagenet-r',
    title: 'ImageNet-R',
    role: 'ood',
    layout: 'imagenet',
    folders: ['imagenet-r'],
    classSpace: 'imagenet-r',
    scoring: 'logits restricted to its 200 classes, argmax',
  },
  {
    id: 'imagenet-sketch',
    title: 'ImageNet-Sketch',
    role: 'ood',
    layout: 'imagenet',
    folders: ['imagenet-sketch/sketch', 'imagenet-sketch', 'sketch'],
    classSpace: 'imagenet-1k',
    scoring: 'argmax over 1000',
  },
  {
    id: 'imagenet-a',
    title: 'ImageNet-A',
    role: 'ood',
    layout: 'imagenet',
    folders: ['imagenet-a'],
    classSpace: 'imagenet-a',
    scoring: 'logits restricted to its 200 classes, argmax',
  },
  {
    id: 'objectnet',
    title: 'ObjectNet',
    role: 'ood',
    layout: 'objectnet',
    folders: ['objectnet-1.0', 'objectnet'],
    scoring:
      '2-px border crop; max over the mapped ImageNet logits of each of 113 classes, argmax; unmapped folders left out',
  },
];

export interface SuiteEntry {
  id: SuiteSetId;
  title: string;
  role: SuiteSet['role'];
  found: boolean;
  /** Absolute path of the set's folder when found. */
  path: string | null;
  layout: LayoutName;
  scoring: string;
  /** What was checked and anything unusual (partial download, other variant, wrong classes). */
  notes: string[];
  /** Folders tried under the data root, in order: every candidate when missing, up to the one used when found. */
  foldersTried: string[];
  classSpace: ClassSpace | null;
  /**
   * Class folders of the set's label space found (ImageNet-V2: integer folders; ObjectNet: mapped folders), out
   * of those expected; `missing` lists the expected ones absent (wnids; ObjectNet folder names; V2 integers).
   * null when the set was not found.
   */
  classes: { present: number; expected: number; missing: string[] } | null;
}

export interface SuiteLocation {
  dataRoot: string;
  sets: SuiteEntry[];
  found: SuiteEntry[];
  missing: SuiteEntry[];
}

/** `rel` under `root`, each segment matched case-insensitively (an exact match wins). */
function resolveInsensitive(root: string, rel: string): string | null {
  let dir = root;
  for (const seg of rel.split('/')) {
    const exact = join(dir, seg);
    if (existsSync(exact)) {
      dir = exact;
      continue;
    }
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return null;
    }
    const hit = names.find((n) => n.toLowerCase() === seg.toLowerCase());
    if (hit === undefined) return null;
    dir = join(dir, hit);
  }
  return statSync(dir).isDirectory() ? dir : null;
}

function classFolders(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter(
      (e) =>
        !e.name.startsWith('.') &&
        (e.isDirectory() || (e.isSymbolicLink() && statSync(join(dir, e.name)).isDirectory())),
    )
    .map((e) => e.name);
}

/** Checks a candidate folder for a set; returns notes, and whether it is usable. */
function inspect(
  set: SuiteSet,
  dir: string,
  rel: string,
): { ok: boolean; notes: string[]; classes?: NonNullable<SuiteEntry['classes']> } {
  const det = detectLayout(dir);
  if (det.layout !== set.layout) {
    const flat = classFolders(dir).length === 0 && readdirSync(dir).some((n) => /\.(jpe?g|png|webp)$/i.test(n));
    const why = flat
      ? `${rel} holds images directly, not in class folders (sort them into <wnid>/ folders first, e.g. with ` +
        `the usual valprep.sh)`
      : `${rel} is not in the ${set.layout} layout (${det.detail})`;
    return { ok: false, notes: [why] };
  }
  const notes = [`${rel}: ${det.detail}`];
  let classes: NonNullable<SuiteEntry['classes']> | undefined;
  const count = (expected: readonly string[], present: readonly string[]): NonNullable<SuiteEntry['classes']> => {
    const have = new Set(present);
    const missing = expected.filter((c) => !have.has(c));
    return { present: expected.length - missing.length, expected: expected.length, missing };
  };
  if (set.layout === 'imagenet') {
    const wnids = classFolders(dir);
    const expected = set.classSpace ? protocolClasses(set.classSpace) : imagenetWnids();
    classes = count(expected, wnids);
    const want = new Set(expected);
    const other = wnids.filter((w) => !want.has(w)).length;
    if (classes.missing.length > 0 || other > 0) {
      const scored = set.classSpace
        ? `scored over all ${expected.length} (protocol; --present-classes-only scores over the folders present)`
        : `the probe learns those ${classes.present}`;
      notes.push(
        `${classes.present} of ${set.title}'s ${expected.length} classes present` +
          (other > 0 ? ` and ${other} other ImageNet class folder${other > 1 ? 's' : ''} (left out)` : '') +
          `: ${scored}`,
      );
    }
  } else if (set.layout === 'imagenet-v2') {
    const folders = classFolders(dir);
    classes = count(
      Array.from({ length: 1000 }, (_, i) => String(i)),
      folders,
    );
    if (classes.present !== 1000)
      notes.push(`${classes.present} of 1000 class folders present: scored over all 1000 (protocol)`);
    if (/threshold|top-images/i.test(rel))
      notes.push('not the matched-frequency variant usually reported: numbers are not comparable');
  } else if (set.layout === 'objectnet') {
    const images = existsSync(join(dir, 'images')) ? join(dir, 'images') : dir;
    const meta = objectnetMeta();
    const present = classFolders(images);
    classes = count(
      meta.mapped.map((f) => f.folder),
      present,
    );
    if (classes.present !== meta.mapped.length)
      notes.push(`${classes.present} of the ${meta.mapped.length} ImageNet-mapped ObjectNet classes present`);
    const mapped = new Set(meta.mapped.map((f) => f.folder));
    const unmapped = present.filter((f) => !mapped.has(f)).length;
    if (unmapped > 0)
      notes.push(`${unmapped} folders without an ImageNet counterpart left out (counted in results.json)`);
  }
  return { ok: true, notes, ...(classes ? { classes } : {}) };
}

/**
 * Locates the suite's sets under `dataRoot` (see IMAGENET_OOD_SUITE for the folder names tried). Only folder
 * names are read, so this is quick even on a full ImageNet.
 */
export function findSuite(dataRoot: string, suite: readonly SuiteSet[] = IMAGENET_OOD_SUITE): SuiteLocation {
  const root = resolve(dataRoot);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new FcprobeError(
      'NOT_FOUND',
      `Data root ${dataRoot} does not exist or is not a folder.`,
      `Expected a folder holding ${suite.map((s) => s.folders[0]).join(', ')}.`,
    );
  }
  const sets = suite.map((set): SuiteEntry => {
    const notes: string[] = [];
    for (const [k, rel] of set.folders.entries()) {
      const dir = resolveInsensitive(root, rel);
      if (!dir) continue;
      const r = inspect(set, dir, relative(root, dir).split(sep).join('/'));
      notes.push(...r.notes);
      if (r.ok)
        return {
          id: set.id,
          title: set.title,
          role: set.role,
          found: true,
          path: dir,
          layout: set.layout,
          scoring: set.scoring,
          notes,
          foldersTried: set.folders.slice(0, k + 1),
          classSpace: set.classSpace ?? null,
          classes: r.classes ?? null,
        };
    }
    notes.push(
      `not found (looked for ${set.folders.join(', ')})` +
        `${set.role === 'train' ? ': needed to train the probe' : ': left out of the OOD average'}`,
    );
    return {
      id: set.id,
      title: set.title,
      role: set.role,
      found: false,
      path: null,
      layout: set.layout,
      scoring: set.scoring,
      notes,
      foldersTried: set.folders,
      classSpace: set.classSpace ?? null,
      classes: null,
    };
  });
  return { dataRoot: root, sets, found: sets.filter((s) => s.found), missing: sets.filter((s) => !s.found) };
}

/** splitmix-style mix of (seed, class) so each class's draw is independent of the others'. */
function classSeed(seed: number, label: number): number {
  let z = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(label + 1, 0x85ebca6b)) >>> 0;
  z = Math.imul(z ^ (z >>> 15), 0x2c1b3c6d) >>> 0;
  return (z ^ (z >>> 12)) >>> 0;
}

/**
 * A stratified subset for `--train-per-class N`: N images of every class (all of a class that has fewer),
 * drawn with a seeded shuffle per class and kept in the listing's order. Same (listing, n, seed), same subset;
 * a larger n keeps every image a smaller n chose.
 */
export function selectPerClass(listing: DatasetListing, n: number, seed: number): DatasetListing {
  if (!Number.isInteger(n) || n < 1) throw badOption('--train-per-class', 'a positive integer', n);
  const byClass = new Map<number, number[]>();
  listing.items.forEach((it, i) => {
    const list = byClass.get(it.label);
    if (list) list.push(i);
    else byClass.set(it.label, [i]);
  });
  const keep = new Uint8Array(listing.items.length);
  for (const [label, rows] of byClass) {
    if (rows.length <= n) {
      for (const r of rows) keep[r] = 1;
      continue;
    }
    const order = new Rng(classSeed(seed, label)).shuffle(rows.slice());
    for (let j = 0; j < n; j++) keep[order[j]!] = 1;
  }
  const items: DatasetItem[] = listing.items.filter((_, i) => keep[i] === 1);
  return { ...listing, items };
}

/**
 * Divides a listing into train and test, stratified: of each class's n images, round(n * testFraction) go to
 * test (at least 1 and at most n - 1 when n >= 2; a class of one image stays in train), drawn with a seeded
 * shuffle per class; both keep the listing's order. Same (listing, fraction, seed), same split.
 * @throws FcprobeError BAD_OPTION when the fraction is not strictly between 0 and 1.
 */
export function splitListing(
  listing: DatasetListing,
  testFraction: number,
  seed: number,
): { train: DatasetListing; test: DatasetListing } {
  if (!(testFraction > 0 && testFraction < 1))
    throw badOption('--split', 'a fraction strictly between 0 and 1', testFraction);
  const byClass = new Map<number, number[]>();
  listing.items.forEach((it, i) => {
    const list = byClass.get(it.label);
    if (list) list.push(i);
    else byClass.set(it.label, [i]);
  });
  const toTest = new Uint8Array(listing.items.length);
  for (const [label, rows] of byClass) {
    if (rows.length < 2) continue;
    const k = Math.min(rows.length - 1, Math.max(1, Math.round(rows.length * testFraction)));
    const order = new Rng(classSeed(seed, label)).shuffle(rows.slice());
    for (let j = 0; j < k; j++) toTest[order[j]!] = 1;
  }
  return {
    train: { ...listing, items: listing.items.filter((_, i) => toTest[i] === 0) },
    test: { ...listing, items: listing.items.filter((_, i) => toTest[i] === 1) },
  };
}
