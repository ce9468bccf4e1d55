/**
 * ImageNet-1k class metadata shipped in data/meta/ (sources cited in data/meta/README.md): the 1000 WordNet
 * ids in index order with display names, the ImageNet-R and ImageNet-A 200-class subsets, and ObjectNet 1.0's
 * folders with their ImageNet-1k counterparts. Files are read once and cached; the folder is found by walking
 * up from this module, so the same code works from src/ (ts runners) and from dist/src/ (compiled, installed).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FcprobeError } from '../errors.js';

export interface ImagenetClass {
  /** Position of the wnid in the sorted list of the 1000 wnids: the usual ImageNet-1k label. */
  index: number;
  wnid: string;
  /** Display name (the CLIP / WiSE-FT cleaned names; not unique: two classes are "sunglasses"). */
  name: string;
}

export interface ObjectnetFolder {
  /** Folder name under objectnet-1.0/images/. */
  folder: string;
  /** ObjectNet's label for it ("Alarm clock"). */
  label: string;
  /** ImageNet-1k classes this ObjectNet class is scored against; empty: not one of the 113 mapped classes. */
  imagenetWnids: string[];
  imagenetIndices: number[];
}

export interface ObjectnetMeta {
  /** Pixels cropped from every border before preprocessing (ObjectNet images carry a 1-2 px frame). */
  borderCrop: number;
  /** All 313 folders, sorted by folder name. */
  folders: ObjectnetFolder[];
  /** The 113 mapped folders, sorted by folder name: the ObjectNet evaluation classes. */
  mapped: ObjectnetFolder[];
}

export const WNID_PATTERN = /^n\d{8}$/;

const META_MARKER = join('data', 'meta', 'imagenet-classes.tsv');

let cachedDir: string | null = null;

/** Absolute path of data/meta (searched upwards from this module: dist/src/io or src/io). */
export function metaDir(): string {
  if (cachedDir) return cachedDir;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 6; up++) {
    if (existsSync(join(dir, META_MARKER))) {
      cachedDir = join(dir, 'data', 'meta');
      return cachedDir;
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new FcprobeError(
    'IO',
    `fcprobe's class metadata (${META_MARKER}) was not found above ${dirname(fileURLToPath(import.meta.url))}.`,
    'The package is incomplete: reinstall fcprobe, or run it from a checkout that has data/meta/.',
  );
}

function readMeta(file: string): string {
  const path = join(metaDir(), file);
  if (!existsSync(path))
    throw new FcprobeError('IO', `fcprobe's class metadata file ${path} is missing.`, 'Reinstall fcprobe.');
  return readFileSync(path, 'utf8');
}

function corrupt(file: string, what: string): FcprobeError {
  return new FcprobeError(
    'IO',
    `fcprobe's class metadata file data/meta/${file} is corrupt: ${what}.`,
    'Reinstall fcprobe.',
  );
}

/** Rows of a tab-separated file with a header line, checked against the expected column names. */
function readTsv(file: string, columns: string[]): string[][] {
  const lines = readMeta(file)
    .split(/\r?\n/)
    .filter((l) => l.length > 0);
  if (lines[0] !== columns.join('\t')) throw corrupt(file, `expected the header "${columns.join('\\t')}"`);
  return lines.slice(1).map((l, i) => {
    const cells = l.split('\t');
    if (cells.length !== columns.length)
      throw corrupt(file, `line ${i + 2} has ${cells.length} columns, expected ${columns.length}`);
    return cells;
  });
}

let classes: ImagenetClass[] | null = null;
let wnidIndex: Map<string, number> | null = null;

export function imagenetClasses(): readonly ImagenetClass[] {
  if (classes) return classes;
  const file = 'imagenet-classes.tsv';
  const rows = readTsv(file, ['index', 'wnid', 'name']);
  const list = rows.map(([index, wnid, name]) => ({ index: Number(index), wnid: wnid!, name: name! }));
  if (list.length !== 1000) throw corrupt(file, `${list.length} classes instead of 1000`);
  list.forEach((c, i) => {
    if (c.index !== i || !WNID_PATTERN.test(c.wnid))
      throw corrupt(file, `line ${i + 2} is not "${i}<TAB>n########<TAB>name"`);
    if (i > 0 && !(list[i - 1]!.wnid < c.wnid))
      throw corrupt(file, `wnids are not strictly increasing at line ${i + 2}`);
  });
  classes = list;
  return classes;
}

/** The 1000 wnids in index order (sorted). */
export function imagenetWnids(): string[] {
  return imagenetClasses().map((c) => c.wnid);
}

/** ImageNet-1k index of a wnid, or undefined when it is not one of the 1000. */
export function imagenetIndexOf(wnid: string): number | undefined {
  if (!wnidIndex) wnidIndex = new Map(imagenetClasses().map((c) => [c.wnid, c.index]));
  return wnidIndex.get(wnid);
}

const subsets = new Map<string, string[]>();

function readSubset(file: string): string[] {
  const hit = subsets.get(file);
  if (hit) return hit;
  const all = imagenetClasses();
  const wnids = readTsv(file, ['index', 'wnid']).map(([index, wnid], i) => {
    const k = Number(index);
    if (!Number.isInteger(k) || all[k]?.wnid !== wnid)
      throw corrupt(file, `line ${i + 2}: ${wnid} is not ImageNet class ${index}`);
    return wnid!;
  });
  if (wnids.length !== 200 || new Set(wnids).size !== 200) throw corrupt(file, 'expected 200 distinct wnids');
  subsets.set(file, wnids);
  return wnids;
}

/** ImageNet-R's 200 wnids, in ImageNet index order. */
export function imagenetRWnids(): string[] {
  return readSubset('imagenet-r-classes.tsv').slice();
}

/** ImageNet-A's 200 wnids, in ImageNet index order. */
export function imagenetAWnids(): string[] {
  return readSubset('imagenet-a-classes.tsv').slice();
}

let objectnet: ObjectnetMeta | null = null;

interface ObjectnetFile {
  borderCrop: number;
  folders: { folder: string; label: string; imagenetIndices?: number[]; imagenetWnids?: string[] }[];
}

export function objectnetMeta(): ObjectnetMeta {
  if (objectnet) return objectnet;
  const file = 'objectnet.json';
  let raw: ObjectnetFile;
  try {
    raw = JSON.parse(readMeta(file)) as ObjectnetFile;
  } catch (e) {
    if (e instanceof FcprobeError) throw e;
    throw corrupt(file, (e as Error).message);
  }
  if (!Array.isArray(raw.folders) || !Number.isInteger(raw.borderCrop))
    throw corrupt(file, 'expected { borderCrop, folders: [...] }');
  const all = imagenetClasses();
  const folders = raw.folders.map((f): ObjectnetFolder => {
    const indices = f.imagenetIndices ?? [];
    const wnids = f.imagenetWnids ?? [];
    if (
      typeof f.folder !== 'string' ||
      typeof f.label !== 'string' ||
      indices.length !== wnids.length ||
      indices.some((k, j) => all[k]?.wnid !== wnids[j])
    ) {
      throw corrupt(file, `entry ${JSON.stringify(f.folder)} does not pair its ImageNet indices with their wnids`);
    }
    return { folder: f.folder, label: f.label, imagenetIndices: indices.slice(), imagenetWnids: wnids.slice() };
  });
  objectnet = { borderCrop: raw.borderCrop, folders, mapped: folders.filter((f) => f.imagenetWnids.length > 0) };
  return objectnet;
}
