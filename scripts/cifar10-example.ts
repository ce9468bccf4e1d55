/**
 * The helper of docs/examples/cifar10/run.sh (compiled by the repo's tsc to dist/scripts/cifar10-example.js).
 *
 *   corrupt --out <dir> --corruptions a,b --severity 3 --seed 0 [--per-shard K] <shard.tar ...>
 *       writes <dir>/<corruption>/<shard name> for every input shard: the same members in the same order, each
 *       image corrupted as CIFAR-10-C does it (below). `clean` copies the bytes unchanged (used for the small
 *       slice of the CI test: --per-shard K keeps the first K images of every shard). A finished shard (its tar
 *       and a stamp with the same settings and source size) is skipped; shards are written to a temporary name
 *       and renamed, so an interruption leaves no half shard behind. Each shard gets its source's mtime, so that
 *       a rerun from scratch gives the same feature cache keys.
 *   stable <results.json> <out.json>
 *       results.json without the fields that differ between two runs of the same data (createdAt, timings,
 *       machine, the distilled students' `reused`): the file whose bytes a rerun reproduces.
 *   table <results.json> [--readme <README.md>]
 *       prints the example's tables and the statements fcprobe computes from the results (markdown); with
 *       --readme, replaces the blocks between `<!-- cifar10-table:begin -->` and `<!-- cifar10-table:end -->`,
 *       and between `<!-- cifar10-statements:begin -->` and `<!-- cifar10-statements:end -->`, of that file.
 *
 * CIFAR-10-C reference: Hendrycks & Dietterich, "Benchmarking Neural Network Robustness to Common Corruptions and
 * Perturbations" (ICLR 2019), code github.com/hendrycks/robustness, ImageNet-C/create_c/make_cifar_c.py. Severity
 * parameters (index severity - 1) are copied from there; each function below says how it differs from it.
 */
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import sharp from 'sharp';
import { extract, pack } from 'tar-stream';
import { syncDir, writeFileAtomic } from '../src/io/atomic.js';
import { Rng } from '../src/math/rng.js';
import { type ConclusionResults, conclusionSentences } from '../src/report/conclusion.js';

/** make_cifar_c.py gaussian_noise: x/255 + N(0, c^2), clipped to [0, 1], times 255, cast to uint8. */
const GAUSSIAN_NOISE = [0.04, 0.06, 0.08, 0.09, 0.1];
/** make_cifar_c.py gaussian_blur: skimage.filters.gaussian(x / 255, sigma = c) (mode 'nearest', truncate 4). */
const GAUSSIAN_BLUR = [0.4, 0.6, 0.7, 0.8, 1];
/** make_cifar_c.py contrast: (x - per-channel mean) * c + mean, clipped, on x / 255. */
const CONTRAST = [0.75, 0.5, 0.4, 0.3, 0.15];
/** make_cifar_c.py jpeg_compression: PIL `save(format='JPEG', quality=c)` and decoded again. */
const JPEG_QUALITY = [80, 65, 58, 50, 40];

export const CORRUPTIONS = ['clean', 'gaussian_noise', 'gaussian_blur', 'contrast', 'jpeg_compression'] as const;
export type Corruption = (typeof CORRUPTIONS)[number];

interface Raw {
  data: Buffer;
  width: number;
  height: number;
}

/** FNV-1a of a string: the per-image noise seed, so an image's noise depends on its name, not on the order. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function rawInput(r: Raw): sharp.Sharp {
  return sharp(r.data, { raw: { width: r.width, height: r.height, channels: 3 } });
}

/** PNG, lossless: the corrupted pixels reach the encoders as they are (CIFAR-10-C stores uint8 arrays). */
function png(s: sharp.Sharp): Promise<Buffer> {
  return s.png({ compressionLevel: 6 }).toBuffer();
}

/**
 * One image corrupted: the member's new name (extension) and bytes. `severity` is 1-5.
 * - gaussian_noise: no noise in sharp, so in TypeScript; exactly the reference's arithmetic (float64, clip, times
 *   255, truncation to uint8 as np.uint8 does), with normal deviates from fcprobe's seeded generator
 *   (src/math/rng.ts, Box-Muller) seeded by (seed, member name) instead of numpy's unseeded global state: the
 *   same distribution, other draws. The reference run itself was never seeded, so no draw-for-draw copy exists.
 * - gaussian_blur: sharp `blur` (libvips gaussblur, float precision, edges extended by copying as skimage's
 *   'nearest', mask down to amplitude 0.001: the 7 taps of skimage's truncate = 4 at sigma 0.7, weights within
 *   1e-4). libvips truncates to uint8 as np.uint8 does. Checked against scipy.ndimage.gaussian_filter(mode =
 *   'nearest', truncate = 4), which skimage calls, on 200 test images: 0.06% of the values differ, by one level.
 * - contrast: sharp `linear(c, (1 - c) * mean)` per channel, the mean over the image of each channel as the
 *   reference's `np.mean(x, axis=(0, 1))`, clipped and truncated: identical to the reference's arithmetic on those
 *   200 images.
 * - jpeg_compression: sharp `jpeg({ quality })` with the standard (Annex K) tables scaled as IJG libjpeg does
 *   (checked: the luminance table starts 13, 9, 10, 12 at quality 58) and 4:2:0 chroma subsampling, PIL's
 *   defaults; the JPEG bytes are stored as they are (member `.jpg`) and decoded by the encoders' decoder, where
 *   the reference decoded them once with PIL into uint8. Both are libjpeg DCT decoders; the encoders differ in
 *   rounding details (libvips' mozjpeg build, PIL's libjpeg), so a few pixel values may differ by a level.
 * None of these differences changes the protocol: the corruption type, its severity parameter and the clean
 * test images are the benchmark's, and every model is scored on the same corrupted bytes.
 */
export async function corruptImage(
  name: string,
  bytes: Buffer,
  corruption: Corruption,
  severity: number,
  seed: number,
): Promise<{ name: string; data: Buffer }> {
  if (corruption === 'clean') return { name, data: bytes };
  const { data, info } = await sharp(bytes).removeAlpha().toColourspace('srgb').raw().toBuffer({
    resolveWithObject: true,
  });
  if (info.channels !== 3) throw new Error(`${name}: expected 3 channels after decoding, got ${info.channels}`);
  const r: Raw = { data, width: info.width, height: info.height };
  const stem = name.replace(/\.[^./]+$/, '');
  const k = severity - 1;
  switch (corruption) {
    case 'gaussian_noise': {
      const c = GAUSSIAN_NOISE[k]!;
      const rng = new Rng(fnv1a(`${seed}:${corruption}:${name}`));
      const out = Buffer.alloc(data.length);
      for (let i = 0; i < data.length; i++) {
        const v = Math.min(1, Math.max(0, data[i]! / 255 + c * rng.normal()));
        out[i] = Math.floor(v * 255);
      }
      return { name: `${stem}.png`, data: await png(rawInput({ ...r, data: out })) };
    }
    case 'gaussian_blur': {
      const s = rawInput(r).blur({ sigma: GAUSSIAN_BLUR[k]!, precision: 'float', minAmplitude: 0.001 });
      return { name: `${stem}.png`, data: await png(s) };
    }
    case 'contrast': {
      const c = CONTRAST[k]!;
      const sums = [0, 0, 0];
      for (let i = 0; i < data.length; i++) sums[i % 3]! += data[i]!;
      const pixels = data.length / 3;
      const b = sums.map((sum) => (1 - c) * (sum / pixels));
      return { name: `${stem}.png`, data: await png(rawInput(r).linear([c, c, c], b)) };
    }
    case 'jpeg_compression': {
      const q = JPEG_QUALITY[k]!;
      const jpeg = await rawInput(r).jpeg({ quality: q, chromaSubsampling: '4:2:0', mozjpeg: false }).toBuffer();
      return { name: `${stem}.jpg`, data: jpeg };
    }
  }
}

interface Member {
  name: string;
  data: Buffer;
}

/** The regular-file members of a tar, in order (a CIFAR-10 shard of 5,000 images is ~10 MB). */
async function readTar(path: string): Promise<Member[]> {
  const members: Member[] = [];
  const ex = extract();
  ex.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: unknown) => chunks.push(c as Buffer));
    stream.on('end', () => {
      if (header.type === 'file') members.push({ name: header.name, data: Buffer.concat(chunks) });
      next();
    });
    stream.resume();
  });
  await pipeline(createReadStream(path), ex);
  return members;
}

/** Writes members as a tar with fixed headers (mtime 0, mode 0644), so the same members give the same bytes. */
async function writeTar(path: string, members: Member[]): Promise<void> {
  const p = pack();
  const done = pipeline(p, createWriteStream(path));
  for (const m of members)
    await new Promise<void>((resolve, reject) => {
      p.entry({ name: m.name, size: m.data.length, mtime: new Date(0), mode: 0o644 }, m.data, (err) =>
        err ? reject(err) : resolve(),
      );
    });
  p.finalize();
  await done;
}

const IMAGE = /\.(jpe?g|png|webp)$/i;

async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export interface CorruptOptions {
  shards: string[];
  out: string;
  corruptions: Corruption[];
  severity: number;
  seed: number;
  /** Keep only the first K images of every shard (all when undefined). */
  perShard?: number | undefined;
  log?: (line: string) => void;
}

/** Corrupts every shard with every corruption (see the file's comment); returns the shards written (not skipped). */
export async function corruptShards(o: CorruptOptions): Promise<number> {
  let written = 0;
  for (const shard of o.shards) {
    const src = statSync(shard);
    const stampOf = (c: Corruption): string =>
      JSON.stringify({
        source: basename(shard),
        sourceBytes: src.size,
        corruption: c,
        severity: o.severity,
        seed: o.seed,
        perShard: o.perShard ?? null,
      });
    const todo = o.corruptions.filter((c) => {
      const target = join(o.out, c, basename(shard));
      const stamp = `${target}.json`;
      return !(existsSync(target) && existsSync(stamp) && readFileSync(stamp, 'utf8') === stampOf(c));
    });
    if (todo.length === 0) {
      o.log?.(`${basename(shard)}: done already (${o.corruptions.join(', ')})`);
      continue;
    }
    let members = (await readTar(shard)).filter((m) => IMAGE.test(m.name));
    if (o.perShard !== undefined) members = members.slice(0, o.perShard);
    for (const c of todo) {
      const t0 = performance.now();
      const dir = join(o.out, c);
      mkdirSync(dir, { recursive: true });
      const target = join(dir, basename(shard));
      rmSync(`${target}.json`, { force: true });
      const out = await mapLimit(members, 8, (m) => corruptImage(m.name, m.data, c, o.severity, o.seed));
      const tmp = `${target}.tmp-${process.pid}`;
      await writeTar(tmp, out);
      // The source's modification time: fcprobe's feature cache keys cover every shard's mtime, so a shard
      // written again from scratch with the same bytes keeps the keys (and results.json) the same.
      utimesSync(tmp, src.atime, src.mtime);
      renameSync(tmp, target);
      syncDir(dir);
      writeFileAtomic(`${target}.json`, stampOf(c));
      written++;
      const s = (performance.now() - t0) / 1000;
      o.log?.(`${c}/${basename(shard)}: ${out.length} images in ${s.toFixed(1)} s`);
    }
  }
  return written;
}

// ---------------------------------------------------------------------------------------------------------------
// results.json -> the stable file and the README tables

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** results.json without its run-specific fields (see the file's comment). */
export function stableResults(results: Record<string, Json>): Record<string, Json> {
  const { createdAt: _c, timings: _t, machine: _m, ...rest } = results;
  const models = rest.models;
  if (Array.isArray(models))
    rest.models = models.map((m) => {
      if (m === null || typeof m !== 'object' || Array.isArray(m)) return m;
      const d = m.distill;
      if (d === null || d === undefined || typeof d !== 'object' || Array.isArray(d)) return m;
      const { reused: _r, ...distill } = d;
      return { ...m, distill };
    });
  return rest;
}

interface Iv {
  low: number;
  high: number;
}
interface Acc {
  model: string;
  set: string;
  n: number;
  top1: number;
  top1Interval: Iv | null;
}
interface Gap {
  student: string;
  set: string;
  top1Gap: number;
  interval: Iv | null;
  mcnemarP: number;
}
interface Contam {
  student: string;
  estimate: number;
  interval: Iv | null;
}
interface Fit {
  student?: string;
  set: string;
  linearCka: number;
}
interface ResultsView {
  models: { name: string; role: string }[];
  sets: { name: string; role: string; n: number; found?: boolean }[];
  accuracy: Acc[];
  gaps: Gap[];
  contamination: Contam[];
  representationFit: Fit[];
}

const pct = (x: number): string => (100 * x).toFixed(1);
const pp = (x: number): string => `${x >= 0 ? '+' : '-'}${Math.abs(100 * x).toFixed(1)}`;
const ivPct = (i: Iv | null): string => (i ? ` [${pct(i.low)}, ${pct(i.high)}]` : '');
const ivPp = (i: Iv | null): string => (i ? ` [${pp(i.low)}, ${pp(i.high)}]` : '');

/** The README's tables from results.json: top-1 per model and set, then gaps, contamination and CKA per student. */
export function resultsTables(r: ResultsView): string {
  const teacher = r.models.find((m) => m.role === 'teacher')?.name;
  const students = r.models.filter((m) => m.role === 'student').map((m) => m.name);
  const sets = r.sets.filter((s) => s.found !== false && s.role !== 'train' && s.role !== 'id-train');
  const acc = (model: string, set: string): Acc | undefined =>
    r.accuracy.find((a) => a.model === model && a.set === set);
  const lines: string[] = [];
  const models = [teacher ?? '?', ...students];
  lines.push(`| top-1 (%) [95% interval] | ${models.join(' | ')} |`);
  lines.push(`|---|${models.map(() => '---:').join('|')}|`);
  for (const s of sets) {
    const cells = models.map((m) => {
      const a = acc(m, s.name);
      return a ? `${pct(a.top1)}${ivPct(a.top1Interval)}` : '-';
    });
    lines.push(`| ${s.name} (${s.role === 'ood' ? 'OOD' : 'ID'}, n = ${s.n}) | ${cells.join(' | ')} |`);
  }
  lines.push('');
  const idSets = sets.filter((s) => s.role !== 'ood').map((s) => s.name);
  const oodSets = sets.filter((s) => s.role === 'ood').map((s) => s.name);
  const head = ['student', ...idSets.map((s) => `gap ${s}`), ...oodSets.map((s) => `gap ${s}`)];
  lines.push(`| teacher - student (pp) [95% paired bootstrap] | ${head.slice(1).join(' | ')} | contamination |`);
  lines.push(
    `|---|${head
      .slice(1)
      .map(() => '---:')
      .join('|')}|---:|`,
  );
  for (const st of students) {
    const cells = [...idSets, ...oodSets].map((set) => {
      const g = r.gaps.find((x) => x.student === st && x.set === set);
      return g ? `${pp(g.top1Gap)}${ivPp(g.interval)}` : '-';
    });
    const c = r.contamination.find((x) => x.student === st);
    lines.push(`| ${st} | ${cells.join(' | ')} | ${c ? `${pp(c.estimate)}${ivPp(c.interval)}` : '-'} |`);
  }
  lines.push('');
  lines.push(`| linear CKA to the teacher | ${[...idSets, ...oodSets].join(' | ')} |`);
  lines.push(`|---|${[...idSets, ...oodSets].map(() => '---:').join('|')}|`);
  for (const st of students) {
    const cells = [...idSets, ...oodSets].map((set) => {
      const f = r.representationFit.find((x) => (x.student ?? students[0]) === st && x.set === set);
      return f ? f.linearCka.toFixed(3) : '-';
    });
    lines.push(`| ${st} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/**
 * What the run's own code says about it, as markdown: the closing sentences fcprobe computes for its demo
 * (src/report/conclusion.ts, every student: which fits the teacher best in distribution, its OOD set with the
 * widest gap, its contamination and whether the interval excludes zero), then the report's warnings
 * (report.json `warnings`).
 */
export function statements(results: ConclusionResults, warnings: string[]): string {
  const said = conclusionSentences([{ results, htmlReport: null }]).map((x) => x.replace(/\u00a0/g, ' '));
  const w = warnings.length ? `\n\n${warnings.map((x) => `- ${x}`).join('\n')}` : ' none.';
  return `${said.map((x) => `> ${x}`).join('\n>\n')}\n\nWarnings of the report:${w}`;
}

/** The README with the block between `<!-- <marker>:begin -->` and `<!-- <marker>:end -->` replaced by `text`. */
export function replaceBlock(readme: string, text: string, marker = 'cifar10-table'): string {
  const begin = `<!-- ${marker}:begin -->`;
  const end = `<!-- ${marker}:end -->`;
  const a = readme.indexOf(begin);
  const b = readme.indexOf(end);
  if (a < 0 || b < a) throw new Error(`the README has no ${begin} ... ${end} block`);
  return `${readme.slice(0, a + begin.length)}\n${text}\n${readme.slice(b)}`;
}

// ---------------------------------------------------------------------------------------------------------------

function usage(msg: string): never {
  process.stderr.write(`cifar10-example: ${msg}\n`);
  process.exit(2);
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  const flags = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a.startsWith('--')) {
      const v = rest[i + 1];
      if (v === undefined) usage(`${a} needs a value`);
      flags.set(a.slice(2), v);
      i++;
    } else positional.push(a);
  }
  const int = (k: string, d: number | undefined): number | undefined => {
    const v = flags.get(k);
    if (v === undefined) return d;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) usage(`--${k} must be a non-negative integer, got "${v}"`);
    return n;
  };
  if (cmd === 'corrupt') {
    const out = flags.get('out') ?? usage('corrupt needs --out');
    const list = (flags.get('corruptions') ?? usage('corrupt needs --corruptions')).split(',');
    const corruptions = list.map((c) => {
      if (!(CORRUPTIONS as readonly string[]).includes(c)) usage(`unknown corruption "${c}"`);
      return c as Corruption;
    });
    const severity = int('severity', 3)!;
    if (severity < 1 || severity > 5) usage('--severity must be 1 to 5');
    if (positional.length === 0) usage('corrupt needs input shards');
    const t0 = performance.now();
    const n = await corruptShards({
      shards: positional,
      out,
      corruptions,
      severity,
      seed: int('seed', 0)!,
      perShard: int('per-shard', undefined),
      log: (l) => process.stderr.write(`${l}\n`),
    });
    const s = (performance.now() - t0) / 1000;
    process.stderr.write(`corrupt: ${n} shard(s) written in ${s.toFixed(1)} s\n`);
  } else if (cmd === 'stable') {
    const [src, dst] = positional;
    if (!src || !dst) usage('stable <results.json> <out.json>');
    const r = JSON.parse(readFileSync(src, 'utf8')) as Record<string, Json>;
    writeFileAtomic(dst, `${JSON.stringify(stableResults(r), null, 2)}\n`);
  } else if (cmd === 'table') {
    const [src] = positional;
    if (!src) usage('table <results.json> [--readme README.md]');
    const results = JSON.parse(readFileSync(src, 'utf8')) as ResultsView & ConclusionResults;
    const table = resultsTables(results);
    const report = join(dirname(src), 'report.json');
    const warnings = existsSync(report)
      ? (JSON.parse(readFileSync(report, 'utf8')) as { warnings: string[] }).warnings
      : [];
    const said = statements(results, warnings);
    const readme = flags.get('readme');
    if (readme) {
      const text = replaceBlock(readFileSync(readme, 'utf8'), table, 'cifar10-table');
      writeFileAtomic(readme, replaceBlock(text, said, 'cifar10-statements'));
    } else process.stdout.write(`${table}\n\n${said}\n`);
  } else usage('usage: corrupt | stable | table (see scripts/cifar10-example.ts)');
}

if (process.argv[1] && import.meta.url.endsWith(basename(process.argv[1]))) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`cifar10-example: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
