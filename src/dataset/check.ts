/**
 * `fcprobe datasets check`: is every benchmark set of the suite complete? For each set: the folder found, its
 * class folders against the expected list (missing, extra), its image count against the published one, and
 * the files that cannot be read as images. Published counts and their sources: data/meta/README.md.
 */
import { closeSync, readdirSync, readSync, statSync } from 'node:fs';
import { NotRegularFileError, openRegularFile } from '../io/regularFile.js';
import { join } from 'node:path';
import { imagenetAWnids, imagenetRWnids, imagenetWnids, objectnetMeta } from './imagenetMeta.js';
import { compareNames, isImageFile } from './listing.js';
import { findSuite, IMAGENET_OOD_SUITE, type SuiteSet, type SuiteSetId } from './suite.js';

export interface ExpectedCounts {
  images: number;
  classes: number;
  /** The class folder names the set should hold (length = classes). */
  classNames: () => string[];
}

/** Published sizes (sources: data/meta/README.md, "Benchmark sizes"). */
export const PUBLISHED_COUNTS: Readonly<Record<SuiteSetId, ExpectedCounts>> = {
  'imagenet-train': { images: 1_281_167, classes: 1000, classNames: imagenetWnids },
  'imagenet-val': { images: 50_000, classes: 1000, classNames: imagenetWnids },
  'imagenet-v2': { images: 10_000, classes: 1000, classNames: () => Array.from({ length: 1000 }, (_, i) => String(i)) },
  'imagenet-r': { images: 30_000, classes: 200, classNames: imagenetRWnids },
  'imagenet-a': { images: 7_500, classes: 200, classNames: imagenetAWnids },
  'imagenet-sketch': { images: 50_889, classes: 1000, classNames: imagenetWnids },
  objectnet: { images: 50_273, classes: 313, classNames: () => objectnetMeta().folders.map((f) => f.folder) },
};

export interface SetCheck {
  id: SuiteSetId;
  title: string;
  found: boolean;
  path: string | null;
  expectedImages: number;
  expectedClasses: number;
  images: number;
  classes: number;
  missingClasses: string[];
  extraClasses: string[];
  /** Relative paths of image files that cannot be opened, are empty, or are not JPEG/PNG/WebP by content. */
  unreadable: { file: string; reason: string }[];
  /** Notes from locating the set (see findSuite). */
  notes: string[];
  complete: boolean;
}

export interface DatasetsCheck {
  dataRoot: string;
  sets: SetCheck[];
  complete: boolean;
}

/** Why a file is not a readable image (by its first bytes), or null when it looks like one. */
function unreadableReason(path: string): string | null {
  let fd: number;
  try {
    // Never a plain open: a FIFO with an image name would block here forever (io/regularFile.ts).
    fd = openRegularFile(path).fd;
  } catch (e) {
    if (e instanceof NotRegularFileError) return `${e.message}: not opened for reading`;
    return `cannot open (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
  }
  try {
    const b = Buffer.alloc(12);
    const n = readSync(fd, b, 0, 12, 0);
    if (n === 0) return 'empty file';
    const jpeg = n >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
    const png = n >= 8 && b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const webp = n >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP';
    return jpeg || png || webp ? null : 'not a JPEG, PNG or WebP file (by its first bytes)';
  } catch (e) {
    return `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
  } finally {
    closeSync(fd);
  }
}

function subfolders(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter(
      (e) =>
        !e.name.startsWith('.') &&
        (e.isDirectory() || (e.isSymbolicLink() && statSync(join(dir, e.name)).isDirectory())),
    )
    .map((e) => e.name)
    .sort(compareNames);
}

/** Image files under `dir`, recursively, as paths relative to `dir`. */
function imagesUnder(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue;
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...imagesUnder(join(dir, e.name), rel));
    else if (isImageFile(e.name)) out.push(rel);
  }
  return out;
}

/**
 * Checks every set of `suite` under `dataRoot` against `expected` (default: the published counts). Reads
 * folder listings and the first 12 bytes of every image. Throws NOT_FOUND when the data root is missing.
 */
export function checkDatasets(
  dataRoot: string,
  options: {
    suite?: readonly SuiteSet[];
    expected?: Partial<Record<SuiteSetId, ExpectedCounts>>;
    onSet?: (title: string) => void;
  } = {},
): DatasetsCheck {
  const suite = options.suite ?? IMAGENET_OOD_SUITE;
  const loc = findSuite(dataRoot, suite);
  const sets = loc.sets.map((s): SetCheck => {
    const exp = options.expected?.[s.id] ?? PUBLISHED_COUNTS[s.id];
    const base: SetCheck = {
      id: s.id,
      title: s.title,
      found: s.found,
      path: s.path,
      expectedImages: exp.images,
      expectedClasses: exp.classes,
      images: 0,
      classes: 0,
      missingClasses: [],
      extraClasses: [],
      unreadable: [],
      notes: s.notes,
      complete: false,
    };
    if (!s.path) return base;
    options.onSet?.(s.title);
    const classRoot =
      s.layout === 'objectnet' && subfolders(s.path).includes('images') ? join(s.path, 'images') : s.path;
    const present = subfolders(classRoot);
    const want = new Set(exp.classNames());
    const have = new Set(present);
    base.classes = present.length;
    base.missingClasses = [...want].filter((c) => !have.has(c)).sort(compareNames);
    base.extraClasses = present.filter((c) => !want.has(c));
    for (const cls of present) {
      for (const rel of imagesUnder(join(classRoot, cls))) {
        base.images++;
        const reason = unreadableReason(join(classRoot, cls, rel));
        if (reason) base.unreadable.push({ file: `${cls}/${rel}`, reason });
      }
    }
    base.complete =
      base.images === exp.images &&
      base.classes === exp.classes &&
      base.missingClasses.length === 0 &&
      base.extraClasses.length === 0 &&
      base.unreadable.length === 0;
    return base;
  });
  return { dataRoot: loc.dataRoot, sets, complete: sets.every((s) => s.complete) };
}
