/**
 * What `extract` needs to know about a dataset: the files in row order, their labels, the class index space.
 * A plain ImageNet-style folder (one sub-folder per class) is scanned by `scanImageFolder`; the benchmark
 * layouts (ImageNet-V2's integer folders, ObjectNet's images/ tree, ...) produce the same listing.
 */
import { type Dirent, existsSync, readdirSync, readFileSync, type Stats, statSync } from 'node:fs';
import { fileKind } from '../io/regularFile.js';
import { fromSystemError } from '../io/sysError.js';
import { join, resolve, extname } from 'node:path';
import { FcprobeError } from '../errors.js';

export interface DatasetItem {
  /** Path relative to the listing's root, with forward slashes. */
  file: string;
  label: number;
  /**
   * Where the bytes are when they are not the file `file` itself: a member of a tar shard, read as `size` bytes
   * from byte `offset` of the tar `path` (relative to the root). See tarListing.ts.
   */
  source?: { path: string; offset: number; size: number };
}

export interface DatasetListing {
  /** Absolute path of the dataset root. */
  root: string;
  /** Name of the layout that produced it ('folder', 'imagenet-v2', 'objectnet', ...). */
  layout: string;
  classes: string[];
  /** See FeatureManifest.classMap. */
  classMap: string[][] | null;
  items: DatasetItem[];
  /**
   * Files present but not considered images (wrong extension, hidden), or left out by the layout; `images`:
   * for a left-out folder (ObjectNet's unmapped classes), the images in it.
   */
  ignored: { file: string; reason: string; images?: number }[];
  /** Pixels cropped from every border before preprocessing, as the layout's protocol requires (ObjectNet: 2). */
  borderCrop: number;
  /** The tar shards of a tar listing ('tar' layout) with their size and modification time (ms): part of the key. */
  tars?: { file: string; size: number; mtimeMs: number }[];
}

export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set(['.jpg', '.jpeg', '.png', '.webp']);

export function isImageFile(name: string): boolean {
  return !name.startsWith('.') && IMAGE_EXTENSIONS.has(extname(name).toLowerCase());
}

/** Byte-wise string order, locale independent: the same file order on every machine. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Symlinked class folders (the usual way to build an ImageNet subset) count as folders, in every layout. */
export function isDirectoryEntry(
  dir: string,
  e: { name: string; isDirectory(): boolean; isSymbolicLink(): boolean },
): boolean {
  if (e.isDirectory()) return true;
  if (!e.isSymbolicLink()) return false;
  try {
    return statSync(join(dir, e.name)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Why an entry with an image name is not read as an image, or null when it is a regular file (after following
 * symlinks). FIFOs would hang the decoder and devices (a link to /dev/zero) would fill memory: never opened.
 */
function notRegular(dir: string, e: Dirent): string | null {
  if (e.isFile()) return null;
  let st: Stats;
  try {
    st = statSync(join(dir, e.name));
  } catch (err) {
    return `broken symbolic link (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`;
  }
  if (st.isFile()) return null;
  const kind = fileKind(st);
  return `not a regular file (${kind}${e.isSymbolicLink() ? ', through a symbolic link' : ''}): not opened`;
}

/**
 * Image files directly inside `dir` (sorted), and everything else there as ignored with the reason: other
 * extensions, nested folders, entries that are not regular files, names that are not valid UTF-8. Throws IO
 * (exit 6) naming the folder when it cannot be read (EACCES).
 */
const NESTED = 'nested folder (not scanned)';

export function listImages(
  dir: string,
  relPrefix: string,
): { images: string[]; ignored: { file: string; reason: string }[] } {
  const images: string[] = [];
  const ignored: { file: string; reason: string }[] = [];
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    throw fromSystemError(e, dir, 'listing the folder');
  }
  for (const e of entries.sort((a, b) => compareNames(a.name, b.name))) {
    const rel = `${relPrefix}/${e.name}`;
    if (e.name.startsWith('.')) continue;
    if (e.name.includes('\uFFFD')) {
      ignored.push({ file: rel, reason: 'file name is not valid UTF-8 (cannot be opened by this name): rename it' });
      continue;
    }
    if (isDirectoryEntry(dir, e)) {
      ignored.push({ file: rel, reason: NESTED });
      continue;
    }
    if (!isImageFile(e.name)) {
      ignored.push({ file: rel, reason: 'not an image extension (jpg, jpeg, png, webp)' });
      continue;
    }
    const why = notRegular(dir, e);
    if (why === null) images.push(rel);
    else ignored.push({ file: rel, reason: why });
  }
  return { images, ignored };
}

/** Reads a class-name file: one name per line, in index order; blank lines and '#' comments skipped. */
export function readClassFile(path: string): string[] {
  if (!existsSync(path)) throw new FcprobeError('NOT_FOUND', `Class file ${path} does not exist.`);
  const names = readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new FcprobeError('BAD_DATA', `Class file ${path} lists "${n}" twice.`);
    seen.add(n);
  }
  if (names.length === 0) throw new FcprobeError('BAD_DATA', `Class file ${path} lists no classes.`);
  return names;
}

export interface ScanOptions {
  /** Class names in index order; default: the sorted sub-folder names. */
  classes?: string[];
}

/**
 * A folder given one level too high (a domain root such as PACS/, whose "class folders" art_painting, photo, ...
 * hold the class folders) fails on its first class folder without images; say what it is and which folders
 * were probably meant, rather than only "contains no images". Returns when `folder` holds no sub-folders.
 */
function oneLevelTooHigh(
  rootArg: string,
  folders: readonly string[],
  folder: string,
  ignored: readonly { file: string; reason: string }[],
): void {
  const nested = ignored.filter((i) => i.reason === NESTED).map((i) => i.file.slice(folder.length + 1));
  if (nested.length === 0) return;
  const few = (l: readonly string[]): string => (l.length <= 4 ? l.join(', ') : `${l.slice(0, 4).join(', ')}, ...`);
  const meant = folders.length === 1 ? join(rootArg, folder) : `one of ${few(folders.map((f) => join(rootArg, f)))}`;
  throw new FcprobeError(
    'BAD_DATA',
    `${join(rootArg, folder)} contains class folders (${few(nested)}), not images: ${rootArg} looks like a ` +
      `folder of datasets, one level above the one to give.`,
    `Did you mean ${meant}? The data folder holds one sub-folder per class: <data>/<class>/<image>.jpg`,
  );
}

/**
 * Lists an ImageNet-style folder: one sub-folder per class, images (.jpg, .jpeg, .png, .webp) inside, in a
 * stable order (classes as given or sorted, files sorted by name). Nothing is decoded.
 *
 * @param rootArg - the dataset folder.
 * @throws FcprobeError NOT_FOUND when the folder does not exist; BAD_DATA when it has no class sub-folders, a
 *   sub-folder is not in `options.classes`, or a class folder holds no image.
 */
export function scanImageFolder(rootArg: string, options: ScanOptions = {}): DatasetListing {
  const root = resolve(rootArg);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new FcprobeError('NOT_FOUND', `Data folder ${rootArg} does not exist or is not a folder.`);
  }
  const entries = readdirSync(root, { withFileTypes: true }).filter((e) => !e.name.startsWith('.'));
  const folders = entries
    .filter((e) => isDirectoryEntry(root, e))
    .map((e) => e.name)
    .sort(compareNames);
  const ignored = entries
    .filter((e) => !isDirectoryEntry(root, e))
    .map((e) => ({ file: e.name, reason: 'file at the top level (expected one sub-folder per class)' }));
  if (folders.length === 0) {
    throw new FcprobeError(
      'BAD_DATA',
      `Data folder ${rootArg} has no class sub-folders.`,
      'Expected an ImageNet-style layout: <data>/<class>/<image>.jpg',
    );
  }
  const classes = options.classes ?? folders;
  const index = new Map(classes.map((c, i) => [c, i]));
  const items: DatasetItem[] = [];
  for (const folder of folders) {
    const label = index.get(folder);
    if (label === undefined) {
      throw new FcprobeError(
        'BAD_DATA',
        `Class folder "${folder}" in ${rootArg} is not in the class list.`,
        'Add it to the --classes file, or remove the folder.',
      );
    }
    const { images, ignored: ign } = listImages(join(root, folder), folder);
    if (images.length === 0) oneLevelTooHigh(rootArg, folders, folder, ign);
    if (images.length === 0) {
      throw new FcprobeError(
        'BAD_DATA',
        `Class folder ${join(rootArg, folder)} contains no images (jpg, jpeg, png, webp).`,
      );
    }
    for (const f of images) items.push({ file: f, label });
    ignored.push(...ign);
  }
  return { root, layout: 'folder', classes, classMap: null, items, ignored, borderCrop: 0 };
}
