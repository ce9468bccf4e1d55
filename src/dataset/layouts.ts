/**
 * Benchmark layouts: how a folder as distributed by a benchmark's authors becomes a DatasetListing whose
 * classes live in (or map into) ImageNet-1k's index space.
 *
 *   folder       <class>/<image>: classes = sorted folder names (or --classes)
 *   imagenet     <wnid>/<image> with every wnid among ImageNet-1k's: ImageNet val/train and ImageNet-Sketch
 *                (1000 folders: classes = the 1000 wnids), ImageNet-R and ImageNet-A (200 folders: classes =
 *                those 200 wnids, so a 1000-way probe is scored on its 200 logits)
 *   imagenet-v2  <0..999>/<image>: classes = the 1000 wnids, label = the folder's integer
 *   objectnet    images/<folder>/<image>: classes = the 113 folders that map to ImageNet-1k, classMap = their
 *                wnids (max over mapped logits), the other folders left out and counted; 2-pixel border crop
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { badOption, FcprobeError } from '../errors.js';
import {
  compareNames,
  isDirectoryEntry,
  listImages,
  scanImageFolder,
  type DatasetItem,
  type DatasetListing,
} from './listing.js';
import { imagenetIndexOf, imagenetWnids, objectnetMeta, WNID_PATTERN } from './imagenetMeta.js';
import { LAYOUT_NAMES } from '../options.js';

export { LAYOUT_NAMES };
export type LayoutName = (typeof LAYOUT_NAMES)[number];

export interface LayoutDetection {
  layout: LayoutName;
  /** Why, in words: "200 WordNet-id folders, all ImageNet-1k classes". */
  detail: string;
}

export interface ListOptions {
  /** Default: detected (see detectLayout). */
  layout?: LayoutName;
  /** Class names in index order: for 'folder', and for 'imagenet' to pin the index space (e.g. all 1000 wnids). */
  classes?: string[];
}

export function parseLayout(value: string, option = '--layout'): LayoutName {
  if ((LAYOUT_NAMES as readonly string[]).includes(value)) return value as LayoutName;
  throw badOption(option, `one of ${LAYOUT_NAMES.join(', ')}`, value);
}

const V2_FOLDER = /^(0|[1-9]\d{0,2})$/;

function subfolders(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => !e.name.startsWith('.') && isDirectoryEntry(dir, e))
    .map((e) => e.name)
    .sort(compareNames);
}

function requireFolder(dir: string): string {
  const root = resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new FcprobeError('NOT_FOUND', `Data folder ${dir} does not exist or is not a folder.`);
  }
  return root;
}

/** The images/ folder of an ObjectNet tree: <dir>/images, or <dir> itself when it is that folder. */
function objectnetImagesDir(root: string): { dir: string; prefix: string } | null {
  const images = join(root, 'images');
  if (existsSync(images) && statSync(images).isDirectory()) return { dir: images, prefix: 'images/' };
  return null;
}

function countKnownObjectnet(folders: string[]): number {
  const known = new Set(objectnetMeta().folders.map((f) => f.folder));
  return folders.filter((f) => known.has(f)).length;
}

/**
 * Which layout a folder is in, from its folder names alone (no image is opened). ObjectNet needs an images/
 * sub-folder whose folders are mostly ObjectNet class folders; anything unrecognised is 'folder'.
 */
export function detectLayout(dir: string): LayoutDetection {
  const root = requireFolder(dir);
  const folders = subfolders(root);
  const on = objectnetImagesDir(root);
  if (on) {
    const inner = subfolders(on.dir);
    const known = countKnownObjectnet(inner);
    if (inner.length > 0 && known * 2 > inner.length) {
      const mapped = new Set(objectnetMeta().mapped.map((f) => f.folder));
      const scored = inner.filter((f) => mapped.has(f)).length;
      return {
        layout: 'objectnet',
        detail:
          `images/ holds ${inner.length} folders, ${known} of them ObjectNet 1.0 classes ` +
          `(${scored} map to ImageNet-1k)`,
      };
    }
  }
  if (folders.length === 0) return { layout: 'folder', detail: 'no sub-folders' };
  if (folders.every((f) => V2_FOLDER.test(f))) {
    return { layout: 'imagenet-v2', detail: `${folders.length} folders named by ImageNet class index (0..999)` };
  }
  if (folders.every((f) => WNID_PATTERN.test(f))) {
    const outside = folders.filter((f) => imagenetIndexOf(f) === undefined);
    if (outside.length === 0) {
      return { layout: 'imagenet', detail: `${folders.length} WordNet-id folders, all ImageNet-1k classes` };
    }
    return {
      layout: 'folder',
      detail: `WordNet-id folders, but ${outside.length} (e.g. ${outside[0]}) are not ImageNet-1k classes`,
    };
  }
  return { layout: 'folder', detail: `${folders.length} class folders` };
}

/** Images of each class folder, in the order given; labels are positions in `labels`. */
function scanFolders(
  root: string,
  prefix: string,
  folders: { folder: string; label: number }[],
  what: string,
): { items: DatasetItem[]; ignored: DatasetListing['ignored'] } {
  const items: DatasetItem[] = [];
  const ignored: DatasetListing['ignored'] = [];
  for (const { folder, label } of folders) {
    const rel = `${prefix}${folder}`;
    const { images, ignored: ign } = listImages(join(root, rel), rel);
    if (images.length === 0) {
      throw new FcprobeError(
        'BAD_DATA',
        `${what} folder ${join(root, rel)} contains no images (jpg, jpeg, png, webp).`,
      );
    }
    for (const file of images) items.push({ file, label });
    ignored.push(...ign);
  }
  return { items, ignored };
}

function topLevelFiles(root: string, expected: string): DatasetListing['ignored'] {
  return readdirSync(root, { withFileTypes: true })
    .filter((e) => !e.name.startsWith('.') && !isDirectoryEntry(root, e))
    .map((e) => ({ file: e.name, reason: `file at the top level (expected ${expected})` }));
}

function listImagenet(root: string, classesOpt: string[] | undefined): DatasetListing {
  const folders = subfolders(root);
  if (folders.length === 0) {
    throw new FcprobeError(
      'BAD_DATA',
      `${root} has no class sub-folders.`,
      'Expected <wnid>/<image> folders, e.g. n01440764/.',
    );
  }
  const bad = folders.find((f) => imagenetIndexOf(f) === undefined);
  if (bad !== undefined) {
    throw new FcprobeError(
      'BAD_DATA',
      `Folder "${bad}" in ${root} is not an ImageNet-1k WordNet id (layout imagenet expects <wnid>/ ` +
        `folders such as n01440764).`,
      'Use --layout folder for other class folders.',
    );
  }
  // Present folders only: a 200-folder ImageNet-R/A tree must be scored on its own 200 classes.
  const classes = classesOpt ?? folders.slice().sort((a, b) => imagenetIndexOf(a)! - imagenetIndexOf(b)!);
  const index = new Map(classes.map((c, i) => [c, i]));
  const missing = folders.find((f) => !index.has(f));
  if (missing !== undefined) {
    throw new FcprobeError(
      'BAD_DATA',
      `Class folder "${missing}" in ${root} is not in the class list.`,
      'Add it to the --classes file, or remove the folder.',
    );
  }
  const { items, ignored } = scanFolders(
    root,
    '',
    folders.map((f) => ({ folder: f, label: index.get(f)! })),
    'Class',
  );
  return {
    root,
    layout: 'imagenet',
    classes,
    classMap: null,
    items,
    ignored: [...topLevelFiles(root, 'one <wnid>/ folder per class'), ...ignored],
    borderCrop: 0,
  };
}

function listImagenetV2(root: string): DatasetListing {
  const folders = subfolders(root);
  const bad = folders.find((f) => !V2_FOLDER.test(f));
  if (bad !== undefined || folders.length === 0) {
    throw new FcprobeError(
      'BAD_DATA',
      bad === undefined
        ? `${root} has no class sub-folders (layout imagenet-v2 expects folders 0..999).`
        : `Folder "${bad}" in ${root} is not an ImageNet class index (layout imagenet-v2 expects ` +
            `folders named 0..999).`,
    );
  }
  // Numeric order: "10" is class 10 and comes after "9"; the label is the integer itself.
  const ordered = folders.map((f) => ({ folder: f, label: Number(f) })).sort((a, b) => a.label - b.label);
  const { items, ignored } = scanFolders(root, '', ordered, 'Class');
  return {
    root,
    layout: 'imagenet-v2',
    classes: imagenetWnids(),
    classMap: null,
    items,
    ignored: [...topLevelFiles(root, 'folders 0..999'), ...ignored],
    borderCrop: 0,
  };
}

function listObjectnet(root: string): DatasetListing {
  const on = objectnetImagesDir(root) ?? { dir: root, prefix: '' };
  const meta = objectnetMeta();
  const byFolder = new Map(meta.folders.map((f) => [f.folder, f]));
  const classIndex = new Map(meta.mapped.map((f, i) => [f.folder, i]));
  const present = subfolders(on.dir);
  if (countKnownObjectnet(present) === 0) {
    throw new FcprobeError(
      'BAD_DATA',
      `${on.dir} holds no ObjectNet 1.0 class folders (layout objectnet expects images/<folder>/, e.g. ` +
        `images/alarm_clock/).`,
    );
  }
  const scored: { folder: string; label: number }[] = [];
  const left: DatasetListing['ignored'] = [];
  for (const folder of present) {
    const label = classIndex.get(folder);
    if (label !== undefined) {
      scored.push({ folder, label });
      continue;
    }
    const rel = `${on.prefix}${folder}`;
    const n = listImages(join(on.dir, folder), rel).images.length;
    const known = byFolder.get(folder);
    left.push({
      file: rel,
      images: n,
      reason: known
        ? `ObjectNet class "${known.label}" has no ImageNet-1k counterpart: ${n} image${n === 1 ? '' : 's'} not scored`
        : `not an ObjectNet 1.0 class folder: ${n} image${n === 1 ? '' : 's'} not scored`,
    });
  }
  const { items, ignored } = scanFolders(root, on.prefix, scored, 'ObjectNet class');
  return {
    root,
    layout: 'objectnet',
    classes: meta.mapped.map((f) => f.folder),
    classMap: meta.mapped.map((f) => f.imagenetWnids.slice()),
    items,
    ignored: [...left, ...ignored],
    borderCrop: meta.borderCrop,
  };
}

/**
 * Lists a benchmark folder in the given layout, or in the one detected from its contents: a plain class-folder
 * tree ('folder'), ImageNet wnid folders ('imagenet'), ImageNet-V2's integer folders or ObjectNet's images/
 * tree, with that benchmark's class index space.
 *
 * @throws FcprobeError NOT_FOUND when the folder does not exist; BAD_OPTION when `classes` is combined with a
 *   layout whose classes are fixed; BAD_DATA when the folder does not match the layout.
 */
export function listDataset(dir: string, options: ListOptions = {}): DatasetListing {
  const root = requireFolder(dir);
  const layout = options.layout ?? detectLayout(root).layout;
  if (options.classes && (layout === 'imagenet-v2' || layout === 'objectnet')) {
    throw new FcprobeError(
      'BAD_OPTION',
      `--classes cannot be combined with layout ${layout}: its classes are fixed by ` +
        `${layout === 'objectnet' ? "ObjectNet's mapping to ImageNet-1k" : "ImageNet-1k's 1000 classes"}.`,
    );
  }
  switch (layout) {
    case 'folder':
      return scanImageFolder(root, options.classes ? { classes: options.classes } : {});
    case 'imagenet':
      return listImagenet(root, options.classes);
    case 'imagenet-v2':
      return listImagenetV2(root);
    case 'objectnet':
      return listObjectnet(root);
  }
}
