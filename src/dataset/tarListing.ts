/**
 * Tar shards (WebDataset): a dataset given as uncompressed .tar files is listed without unpacking. Each image
 * member becomes one DatasetItem whose `source` is its tar file and the byte range of its data, so the decoder
 * reads exactly those bytes (a tar stores members uncompressed and contiguous). The listing reads each tar
 * once as a stream with tar-stream (headers, long names, pax records, checksums) and keeps only offsets.
 *
 * --data forms: a brace pattern ('shards/train-{000000..000146}.tar'), one .tar file, a folder of .tar files,
 * or a list file (*.txt, one tar path per line, relative to the list file's folder).
 *
 * Labels (WebDataset convention: members sharing a key, the member path up to the first dot of its base name,
 * form one sample): the text of the sample's `.cls` member, else the image's parent folder in the tar
 * (`dog/0001.jpg` -> `dog`). Classes: as given (`classes`), else 0..max when every label is a non-negative
 * integer (WebDataset's integer .cls), else the sorted label names (as for folders).
 */
import {
  createReadStream,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  closeSync,
  statSync,
} from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { extract } from 'tar-stream';
import { FcprobeError } from '../errors.js';
import { compareNames, IMAGE_EXTENSIONS, type DatasetItem, type DatasetListing } from './listing.js';

/** A brace group with a range (`{000..146}`) or a list (`{a,b}`). */
const BRACE = /\{([^{}]*(?:\.\.|,)[^{}]*)\}/;
/** Expanding more names than this is a typo in the pattern, not a dataset. */
const MAX_EXPANDED = 1_000_000;
/** A .cls member larger than this is not a label. */
const MAX_CLS_BYTES = 4096;
/**
 * Integer .cls labels are class indices, and the class list 0..max is built from the largest: a label past this
 * (ImageNet-21k has 21,841 classes) is a damaged or foreign .cls, refused before any array is sized from it
 * (one member holding 999999999 made V8 abort out of memory).
 */
export const MAX_INTEGER_CLASSES = 100_000;

/** True when `--data` names tar shards: a brace pattern, a .tar (or .tar.gz) file, a list file, a folder of tars. */
export function isTarData(data: string): boolean {
  if (BRACE.test(data) || /\.(tar|tgz|tar\.gz|txt)$/i.test(data)) return true;
  try {
    if (!statSync(data).isDirectory()) return false;
    const entries = readdirSync(data, { withFileTypes: true }).filter((e) => !e.name.startsWith('.'));
    return entries.some((e) => /\.(tar|tgz|tar\.gz)$/i.test(e.name)) && !entries.some((e) => e.isDirectory());
  } catch {
    return false;
  }
}

/**
 * Expands shell-style brace groups: `{000..146}` (numeric, zero-padded to the wider end when either end has a
 * leading zero, ascending or descending) and `{a,b,c}`; several groups give their product in order.
 * @throws FcprobeError BAD_OPTION for a range that is not two integers or that expands to over a million names.
 */
export function expandBraces(pattern: string): string[] {
  // The product's size first: '{1..1000}{1..1000}{1..1000}' passed 4 GB before the cap below fired.
  const count = braceCount(pattern);
  if (count > MAX_EXPANDED)
    throw new FcprobeError(
      'BAD_OPTION',
      `Expected a brace pattern of at most ${MAX_EXPANDED} names, got ${pattern} ` +
        `(${Number.isFinite(count) ? count : 'too many'} names).`,
    );
  return expandChecked(pattern);
}

/** Names a brace pattern expands to (the product of its groups' sizes), without expanding it. */
function braceCount(pattern: string): number {
  let total = 1;
  let rest = pattern;
  for (let m = BRACE.exec(rest); m; m = BRACE.exec(rest)) {
    const body = m[1] as string;
    const range = /^(-?\d+)\.\.(-?\d+)$/.exec(body);
    const size = range
      ? Math.abs(Number.parseInt(range[2] as string, 10) - Number.parseInt(range[1] as string, 10)) + 1
      : body.split(',').length;
    total *= size;
    rest = rest.slice(m.index + m[0].length);
  }
  return total;
}

function expandChecked(pattern: string): string[] {
  const m = BRACE.exec(pattern);
  if (!m) return [pattern];
  const body = m[1] as string;
  let parts: string[];
  const range = /^(-?\d+)\.\.(-?\d+)$/.exec(body);
  if (range) {
    const [a, b] = [range[1] as string, range[2] as string];
    const lo = Number.parseInt(a, 10);
    const hi = Number.parseInt(b, 10);
    const padded = /^-?0\d/.test(a) || /^-?0\d/.test(b);
    const width = padded ? Math.max(a.replace('-', '').length, b.replace('-', '').length) : 0;
    const step = hi >= lo ? 1 : -1;
    parts = [];
    for (let v = lo; step > 0 ? v <= hi : v >= hi; v += step)
      parts.push(`${v < 0 ? '-' : ''}${String(Math.abs(v)).padStart(width, '0')}`);
  } else if (body.includes('..')) {
    throw new FcprobeError(
      'BAD_OPTION',
      `Expected a brace range of two integers like {000000..000146}, got "{${body}}".`,
    );
  } else {
    parts = body.split(',');
  }
  const head = pattern.slice(0, m.index);
  const tails = expandChecked(pattern.slice(m.index + m[0].length));
  const out: string[] = [];
  for (const p of parts) for (const t of tails) out.push(`${head}${p}${t}`);
  return out;
}

/**
 * The tar files `data` names, as absolute paths in dataset order (pattern order, list-file order, or sorted
 * names for a folder).
 * @throws FcprobeError NOT_FOUND for a missing file, folder or list file; BAD_DATA for an empty list or folder.
 */
export function resolveTarFiles(data: string): string[] {
  let files: string[];
  if (BRACE.test(data)) files = expandBraces(data).map((f) => resolve(f));
  else if (/\.txt$/i.test(data)) {
    if (!existsSync(data)) throw new FcprobeError('NOT_FOUND', `Shard list file ${data} does not exist.`);
    const base = dirname(resolve(data));
    files = readFileSync(data, 'utf8')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => (isAbsolute(l) ? l : resolve(base, l)));
    if (files.length === 0) throw new FcprobeError('BAD_DATA', `Shard list file ${data} lists no tar files.`);
  } else if (existsSync(data) && statSync(data).isDirectory()) {
    files = readdirSync(data, { withFileTypes: true })
      .filter((e) => !e.name.startsWith('.') && /\.(tar|tgz|tar\.gz)$/i.test(e.name))
      .map((e) => e.name)
      .sort(compareNames)
      .map((n) => resolve(data, n));
    if (files.length === 0) throw new FcprobeError('BAD_DATA', `Folder ${data} holds no .tar files.`);
  } else files = [resolve(data)];
  for (const f of files) {
    if (!existsSync(f) || !statSync(f).isFile())
      throw new FcprobeError('NOT_FOUND', `Tar shard ${f} does not exist (from --data ${data}).`);
  }
  return files;
}

/** The deepest folder holding every file: the listing's root, against which tar names are recorded. */
function commonFolder(files: string[]): string {
  let root = dirname(files[0] as string);
  for (const f of files) {
    while (relative(root, f).startsWith('..') || isAbsolute(relative(root, f))) root = dirname(root);
  }
  return root;
}

interface TarMember {
  name: string;
  /** Byte offset of the member's data in the tar file. */
  offset: number;
  size: number;
  type: string;
  /** The text of a .cls member (trimmed), else null. */
  cls: string | null;
}

/** Refuses compressed shards: byte ranges need an uncompressed tar (gzip has no random access). */
function refuseCompressed(file: string, display: string): void {
  const head = Buffer.alloc(6);
  const fd = openSync(file, 'r');
  let n: number;
  try {
    n = readSync(fd, head, 0, 6, 0);
  } finally {
    closeSync(fd);
  }
  const gzip = n >= 2 && head[0] === 0x1f && head[1] === 0x8b;
  const xz = n >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]));
  const zstd = n >= 4 && head.readUInt32LE(0) === 0xfd2fb528;
  if (gzip || xz || zstd) {
    throw new FcprobeError(
      'BAD_DATA',
      `Tar shard ${display} is ${gzip ? 'gzip' : xz ? 'xz' : 'zstd'}-compressed; fcprobe reads ` +
        `uncompressed .tar shards only.`,
      'Images are read in place as byte ranges, which a compressed stream does not allow: decompress the shards ' +
        '(gunzip), JPEG/PNG data barely compresses anyway.',
    );
  }
}

/**
 * Every member of one tar, in file order, with the offset of its data; .cls texts read. `ended`: false when
 * the file stops right after a member without the two zero blocks that end a tar (a copy cut at a boundary).
 */
async function scanTar(file: string, display: string): Promise<{ members: TarMember[]; ended: boolean }> {
  refuseCompressed(file, display);
  const fileSize = statSync(file).size;
  const members: TarMember[] = [];
  const ex = extract();
  const src = createReadStream(file);
  src.on('error', (e) => ex.destroy(e));
  src.pipe(ex);
  try {
    for await (const entry of ex) {
      const h = entry.header;
      // entry.offset is where the member's own 512-byte header starts (after any pax / long-name records).
      const member: TarMember = { name: h.name, offset: entry.offset + 512, size: h.size, type: h.type, cls: null };
      if (h.type === 'file' && /\.cls$/i.test(h.name) && h.size <= MAX_CLS_BYTES) {
        const chunks: Buffer[] = [];
        for await (const c of entry) chunks.push(c as Buffer);
        member.cls = Buffer.concat(chunks).toString('utf8').trim();
      } else entry.resume();
      members.push(member);
    }
  } catch (e) {
    throw new FcprobeError(
      'BAD_DATA',
      `Tar shard ${display} is truncated or not a tar file: ${(e as Error).message}.`,
      'Re-copy or re-create the shard (tar -tf shows where it breaks).',
    );
  } finally {
    src.destroy();
  }
  // tar-stream stops quietly when a file ends exactly between members; a member's data past the end is caught here.
  for (const m of members) {
    if (m.offset + m.size > fileSize)
      throw new FcprobeError(
        'BAD_DATA',
        `Tar shard ${display} is truncated: member ${m.name} ends at byte ${m.offset + m.size}, the ` +
          `file has ${fileSize}.`,
        'Re-copy or re-create the shard.',
      );
  }
  const last = members.at(-1);
  const dataEnd = last ? last.offset + Math.ceil(last.size / 512) * 512 : 0;
  return { members, ended: fileSize - dataEnd >= 1024 };
}

/** WebDataset's sample key: the member path up to the first dot of its base name; and the rest (extension). */
function splitKey(name: string): { key: string; ext: string } {
  const slash = name.lastIndexOf('/');
  const dot = name.indexOf('.', slash + 1);
  return dot < 0 ? { key: name, ext: '' } : { key: name.slice(0, dot), ext: name.slice(dot).toLowerCase() };
}

function isImageExt(ext: string): boolean {
  const last = ext.slice(ext.lastIndexOf('.'));
  return IMAGE_EXTENSIONS.has(last);
}

export interface TarListOptions {
  /** Class names in index order; default: see the module comment. */
  classes?: string[];
  /** What the listing accepted but the user should know (a shard without its end-of-archive blocks). */
  onWarning?: (message: string) => void;
}

/**
 * Lists tar shards (see the module comment) in a deterministic order: tar files in `data`'s order, members in
 * each tar's order. Item `file` is `<tar name>#<member>` (tar name relative to the listing root, the tars'
 * common folder); `source` gives the tar and the byte range the decoder reads. Members that are neither an
 * image nor a label are listed in `ignored`.
 *
 * @throws FcprobeError NOT_FOUND for a missing shard or list file; BAD_OPTION for a bad brace pattern;
 *   BAD_DATA for a compressed, truncated or unreadable shard, an image without a label, a label outside
 *   `classes`, or no image at all.
 */
export async function listTarShards(data: string, options: TarListOptions = {}): Promise<DatasetListing> {
  const files = resolveTarFiles(data);
  const root = commonFolder(files);
  const tars: NonNullable<DatasetListing['tars']> = [];
  const pending: { file: string; source: NonNullable<DatasetItem['source']>; name: string; fromCls: boolean }[] = [];
  const ignored: DatasetListing['ignored'] = [];
  for (const abs of files) {
    const rel = relative(root, abs).split(sep).join('/');
    const st = statSync(abs);
    tars.push({ file: rel, size: st.size, mtimeMs: Math.round(st.mtimeMs) });
    const { members, ended } = await scanTar(abs, rel);
    if (!ended)
      options.onWarning?.(
        `warning: tar shard ${rel} has no end-of-archive blocks after its last member ` +
          `(${members.at(-1)?.name ?? 'none'}): it may have been cut short at a member boundary; ` +
          `${members.length} members listed. Compare its size with the original.`,
      );
    const clsOf = new Map<string, string>();
    const seen = new Set<string>();
    for (const m of members) {
      // tar -r / -u append a second copy under the same name: two rows with one name would be ambiguous.
      if (m.type !== 'directory' && seen.has(m.name))
        throw new FcprobeError(
          'BAD_DATA',
          `Tar shard ${rel} holds the member ${m.name} twice.`,
          'Re-create the shard with one copy of each member (tar -r and tar -u append copies, they do not replace).',
        );
      seen.add(m.name);
      if (m.cls === null) continue;
      const key = splitKey(m.name).key;
      const before = clsOf.get(key);
      if (before !== undefined && before !== m.cls)
        throw new FcprobeError(
          'BAD_DATA',
          `Tar shard ${rel}: the sample ${key} has two .cls members with different labels ("${before}", "${m.cls}").`,
          'Give each sample one .cls member.',
        );
      clsOf.set(key, m.cls);
    }
    for (const m of members) {
      const file = `${rel}#${m.name}`;
      const base = m.name.slice(m.name.lastIndexOf('/') + 1);
      if (m.type === 'directory' || base.startsWith('.')) continue;
      const { key, ext } = splitKey(m.name);
      if (m.type !== 'file' && m.type !== 'contiguous-file') {
        ignored.push({ file, reason: `not a regular file member (${m.type})` });
        continue;
      }
      if (m.cls !== null) continue;
      if (!isImageExt(ext)) {
        ignored.push({ file, reason: 'not an image (jpg, jpeg, png, webp) or label (.cls) member' });
        continue;
      }
      const cls = clsOf.get(key);
      const slash = m.name.lastIndexOf('/');
      const folder = slash > 0 ? m.name.slice(m.name.lastIndexOf('/', slash - 1) + 1, slash) : '';
      const name = cls ?? folder;
      if (!name)
        throw new FcprobeError(
          'BAD_DATA',
          `Image ${file} has no label: no ${key}.cls member and no class folder in its name.`,
          'Give each sample a .cls member (its class) or store images as <class>/<name>.jpg in the tar.',
        );
      pending.push({ file, source: { path: rel, offset: m.offset, size: m.size }, name, fromCls: cls !== undefined });
    }
  }
  if (pending.length === 0) throw new FcprobeError('BAD_DATA', `No images found in the tar shards of ${data}.`);
  const classes = options.classes ?? defaultClasses(pending);
  const index = new Map(classes.map((c, i) => [c, i]));
  const items: DatasetItem[] = pending.map((p) => {
    let label = index.get(p.name);
    // An integer .cls with a class list given is an index into it (WebDataset's ImageNet shards).
    if (label === undefined && p.fromCls && /^\d+$/.test(p.name) && Number(p.name) < classes.length)
      label = Number(p.name);
    if (label === undefined)
      throw new FcprobeError(
        'BAD_DATA',
        `Image ${p.file} has class "${p.name}", which is not in the class list.`,
        'Add it to the --classes file.',
      );
    return { file: p.file, label, source: p.source };
  });
  return { root, layout: 'tar', classes, classMap: null, items, ignored, borderCrop: 0, tars };
}

/** Integer labels: 0..max (at most MAX_INTEGER_CLASSES); else the sorted distinct names. */
function defaultClasses(pending: { file: string; name: string }[]): string[] {
  const distinct = [...new Set(pending.map((p) => p.name))];
  if (distinct.every((n) => /^(0|[1-9]\d{0,8})$/.test(n))) {
    // A loop, not Math.max(...): a spread of a million labels overflows the argument stack.
    let max = 0;
    for (const n of distinct) max = Math.max(max, Number(n));
    if (max >= MAX_INTEGER_CLASSES) {
      const at = pending.find((p) => Number(p.name) === max)!;
      throw new FcprobeError(
        'BAD_DATA',
        `Image ${at.file} has the integer label ${max}; integer .cls labels are class indices and fcprobe ` +
          `accepts at most ${MAX_INTEGER_CLASSES} classes (0..${MAX_INTEGER_CLASSES - 1}), with ` +
          `${distinct.length} distinct labels seen.`,
        'Check that .cls member (a damaged shard?), or give --classes to name the classes.',
      );
    }
    return Array.from({ length: max + 1 }, (_, i) => String(i));
  }
  return distinct.sort(compareNames);
}
