/**
 * Throughput measurements shared by `fcprobe bench` (a user's model and folder) and `npm run bench`
 * (generated models and images): model-only ceiling, decode-only rate, end-to-end `fcprobe extract` with its
 * peak memory. Every figure is repeated after a warm-up and summarized as min/median/max.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, linkSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { ensureWritableDir } from '../io/atomic.js';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import pLimit from 'p-limit';
import sharp from 'sharp';
import { FcprobeError } from '../errors.js';
import { BENCH_DEFAULTS, EXTRACT_DEFAULTS } from '../options.js';
import { parseProviders } from '../extract/providers.js';
import { scanImageFolder } from '../dataset/listing.js';
import { checkBatchBuffer, configureSharp } from '../extract/extract.js';
import type { FeatureManifest } from '../features/manifest.js';
import type { PreprocessLayer, PreprocessOverrides, PreprocessSpec } from '../image/preprocessSpec.js';
import { preprocessNotices, resolveModelPreprocess } from '../extract/modelCheck.js';
import type { ProviderName } from '../extract/protocol.js';
import { DecodePool, sharedBatchBuffer } from '../extract/decodePool.js';
import {
  decodeWorkers,
  defaultDecodeConcurrency,
  quietOnnxruntimeLogging,
  sessionOptions,
} from '../extract/sessionOptions.js';
import { usableProviders } from '../extract/providers.js';
import { diagnoseShortfall, ratioVerdict, rerunCeiling, type Shortfall } from './diagnose.js';

export interface Stats {
  min: number;
  median: number;
  max: number;
  runs: number[];
}

export function summarize(runs: number[]): Stats {
  if (runs.length === 0) throw new RangeError('summarize: no runs');
  const s = [...runs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { min: s[0]!, median, max: s[s.length - 1]!, runs };
}

/** (max - min) / median: the spread we quote as noise. */
export function spread(s: Stats): number {
  return s.median > 0 ? (s.max - s.min) / s.median : 0;
}

export interface CeilingOptions {
  modelPath: string;
  provider: ProviderName;
  /** Intra-op threads; null: onnxruntime's default, as `extract` uses. */
  threads: number | null;
  batchSizes: number[];
  repeats: number;
  /** Input side; default: the model's static size, else 224. */
  size?: number;
  /** Each timed repeat runs at least this many images (small batches are run several times). */
  minImages?: number;
}

export interface CeilingRow {
  batch: number;
  imagesPerSecond: Stats;
}

/** Model-only throughput: session.run on a pre-made input tensor, as the extraction worker calls it. */
export async function measureCeiling(
  o: CeilingOptions,
): Promise<{ inputName: string; size: number; fixedSize: boolean; rows: CeilingRow[] }> {
  quietOnnxruntimeLogging();
  const session = await ort.InferenceSession.create(o.modelPath, sessionOptions(o.provider, o.threads));
  try {
    const meta = session.inputMetadata[0];
    if (!meta?.isTensor) throw new FcprobeError('BAD_MODEL', `${o.modelPath} has no tensor input.`);
    const h = meta.shape[2];
    const fixedSize = typeof h === 'number';
    const size = o.size ?? (fixedSize ? h : 224);
    const half = meta.type === 'float16';
    const rows: CeilingRow[] = [];
    for (const batch of o.batchSizes) {
      // The same bound as extract's batch buffer, before the allocation below would throw a RangeError.
      checkBatchBuffer(size, batch, true);
      const n = batch * 3 * size * size;
      // Values in the range normalized pixels take; zeros would flatter nothing but are untypical.
      const data = half
        ? new Uint16Array(n).fill(0x3800)
        : new Float32Array(n).map((_, i) => ((i * 2654435761) % 1000) / 500 - 1);
      const input = new ort.Tensor(half ? 'float16' : 'float32', data, [batch, 3, size, size]);
      const feeds = { [meta.name]: input };
      const calls = Math.max(1, Math.ceil((o.minImages ?? 1) / batch));
      await session.run(feeds);
      const runs: number[] = [];
      for (let r = 0; r < o.repeats; r++) {
        const t = performance.now();
        for (let c = 0; c < calls; c++) await session.run(feeds);
        runs.push((calls * batch) / ((performance.now() - t) / 1000));
      }
      rows.push({ batch, imagesPerSecond: summarize(runs) });
    }
    return { inputName: meta.name, size, fixedSize, rows };
  } finally {
    await session.release();
  }
}

export interface DecodeOptions {
  /** Absolute image paths; the decode loop cycles through them. */
  files: string[];
  spec: PreprocessSpec;
  /** Images decoded at once; default: what `extract` uses. */
  concurrency?: number;
  repeats: number;
  /** Images per timed repeat (default: all files). */
  images?: number;
  batchSize?: number;
}

/** Decode + resize + crop + normalize into a batch buffer, on extract's decode workers and concurrency, no model. */
export async function measureDecode(
  o: DecodeOptions,
): Promise<{ concurrency: number; workers: number; imagesPerSecond: Stats }> {
  const concurrency = o.concurrency ?? defaultDecodeConcurrency();
  const workers = decodeWorkers(concurrency);
  const pool = new DecodePool(workers);
  const limit = pLimit(concurrency);
  const total = o.images ?? o.files.length;
  const batch = o.batchSize ?? EXTRACT_DEFAULTS.batch;
  const per = 3 * o.spec.crop * o.spec.crop;
  const out = sharedBatchBuffer(batch * per);
  const pass = async (count: number): Promise<void> => {
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        limit(() => pool.decodeInto(o.files[i % o.files.length]!, o.spec, out, (i % batch) * per)),
      ),
    );
  };
  try {
    await pass(Math.min(total, 2 * concurrency + batch));
    const runs: number[] = [];
    for (let r = 0; r < o.repeats; r++) {
      const t = performance.now();
      await pass(total);
      runs.push(total / ((performance.now() - t) / 1000));
    }
    return { concurrency, workers, imagesPerSecond: summarize(runs) };
  } finally {
    await pool.close();
  }
}

export interface EndToEndRun {
  /** Images over the extraction loop's time (manifest timing: first decode to last commit). */
  imagesPerSecond: number;
  /** Images over the whole command's wall time (process start, model load, listing included). */
  wallImagesPerSecond: number;
  wallSeconds: number;
  /** Peak resident memory of the extract process (all threads), MiB. */
  peakRssMiB: number;
  command: string;
}

export interface EndToEndOptions {
  modelPath: string;
  dataDir: string;
  /** Scratch output folder (replaced). */
  outDir: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
}

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));
// Written by the child on exit, so no polling can miss the peak; it covers every thread. Linux's VmHWM, not
// getrusage's maxRSS: Linux carries maxRSS over fork and exec, so a child of a large parent (the benchmark
// after loading ViT-B/16: ~700 MiB) reported the parent's size instead of its own.
const RSS_HOOK = `data:text/javascript,${encodeURIComponent(
  'import{readFileSync,writeFileSync}from"node:fs";const f=process.env.FCPROBE_BENCH_RSS_FILE;' +
    'if(f)process.on("exit",()=>{let kb=process.resourceUsage().maxRSS;' +
    'try{const m=/VmHWM:\\s*(\\d+) kB/.exec(readFileSync("/proc/self/status","utf8"));if(m)kb=Number(m[1]);}catch{}' +
    'writeFileSync(f,String(kb));});',
)}`;

/** The benchmark's child processes still running, so that a signal to the benchmark stops them too. */
const liveChildren = new Set<ChildProcess>();

/** Registers `child` until it exits (see stopChildrenOnSignal). */
export function trackChild(child: ChildProcess): void {
  liveChildren.add(child);
  child.on('exit', () => liveChildren.delete(child));
}

/**
 * On SIGINT or SIGTERM: passes the signal to every tracked child, then ends this process by the same signal
 * (its default action: status 130 or 143). Without it a killed benchmark left its extract or probe child
 * running, a signal sent to the benchmark alone never reached them.
 */
export function stopChildrenOnSignal(): void {
  const handler = (signal: NodeJS.Signals): void => {
    for (const c of liveChildren) c.kill(signal);
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
    process.kill(process.pid, signal);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

/** One `fcprobe extract` run in a child process. */
export async function runExtractCommand(o: EndToEndOptions): Promise<EndToEndRun> {
  rmSync(o.outDir, { recursive: true, force: true });
  ensureWritableDir(o.outDir);
  const rssFile = join(o.outDir, '..', `.rss-${process.pid}`);
  const args = [
    'extract',
    '--model',
    o.modelPath,
    '--data',
    o.dataDir,
    '--out',
    o.outDir,
    '--quiet',
    '--force',
    ...(o.args ?? []),
  ];
  const t = performance.now();
  const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((res, rej) => {
    const child = spawn(process.execPath, ['--import', RSS_HOOK, CLI, ...args], {
      env: { ...process.env, ...o.env, FCPROBE_BENCH_RSS_FILE: rssFile },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    trackChild(child);
    child.on('error', rej);
    child.on('close', (c) => res({ code: c, stderr: err }));
  });
  const wallSeconds = (performance.now() - t) / 1000;
  if (code !== 0)
    throw new FcprobeError(
      'IO',
      `The benchmark's fcprobe extract run exited with ${code}: ${stderr.trim().split('\n').slice(-2).join(' ')}`,
    );
  const manifest = JSON.parse(readFileSync(join(o.outDir, 'manifest.json'), 'utf8')) as FeatureManifest;
  const maxRssKiB = Number(readFileSync(rssFile, 'utf8'));
  rmSync(rssFile, { force: true });
  const items = manifest.rows + manifest.skipped.length;
  return {
    imagesPerSecond: manifest.timing.imagesPerSecond,
    wallImagesPerSecond: items / wallSeconds,
    wallSeconds,
    peakRssMiB: maxRssKiB / 1024,
    command: `fcprobe ${args.join(' ')}`,
  };
}

export interface EndToEndResult {
  imagesPerSecond: Stats;
  wallImagesPerSecond: Stats;
  peakRssMiB: Stats;
  command: string;
}

/** A warm-up run (page cache, model file) then `repeats` timed runs. */
export async function measureEndToEnd(
  o: EndToEndOptions & { repeats: number; warmup?: boolean },
): Promise<EndToEndResult> {
  if (o.warmup ?? true) await runExtractCommand(o);
  const runs: EndToEndRun[] = [];
  for (let r = 0; r < o.repeats; r++) runs.push(await runExtractCommand(o));
  rmSync(o.outDir, { recursive: true, force: true });
  return {
    imagesPerSecond: summarize(runs.map((r) => r.imagesPerSecond)),
    wallImagesPerSecond: summarize(runs.map((r) => r.wallImagesPerSecond)),
    peakRssMiB: summarize(runs.map((r) => r.peakRssMiB)),
    command: runs[0]!.command,
  };
}

export interface BenchImageOptions {
  width?: number;
  height?: number;
  quality?: number;
  classes?: number;
  /** Distinct images, made once in `sourceDir`; `dir` gets hard links to them (decoding cost is per file). */
  unique?: number;
  sourceDir?: string;
}

/** Photo-like content: smooth colour fields plus sensor-like noise (pure noise decodes slower than photos). */
async function writeBenchJpeg(path: string, seed: number, w: number, h: number, quality: number): Promise<void> {
  const px = Buffer.alloc(w * h * 3);
  let s = ((seed + 1) * 2654435761) >>> 0;
  const rnd = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const f = [rnd() * 6 + 1, rnd() * 6 + 1, rnd() * 6.28, rnd() * 6.28];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const u = x / w,
        v = y / h;
      const base = 128 + 90 * Math.sin(f[0]! * u * 3 + f[2]!) * Math.cos(f[1]! * v * 3 + f[3]!);
      for (let c = 0; c < 3; c++)
        px[(y * w + x) * 3 + c] = Math.max(0, Math.min(255, base + (c - 1) * 40 * u + (rnd() - 0.5) * 40));
    }
  }
  await sharp(px, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality })
    .toFile(path);
}

/**
 * <dir>/c<k>/img_<i>.jpg, `count` files cycling over `unique` distinct JPEGs (default 500x375, quality 90: an
 * ImageNet photo's size). Files already there are kept, so repeated benchmark runs reuse them.
 */
export async function makeBenchImages(dir: string, count: number, o: BenchImageOptions = {}): Promise<string> {
  const w = o.width ?? 500,
    h = o.height ?? 375,
    quality = o.quality ?? 90,
    classes = o.classes ?? 10;
  const unique = Math.min(count, o.unique ?? 500);
  const src = o.sourceDir ?? join(dir, '..', `${dir.split(/[\\/]/).pop()}-src`);
  const srcPath = (i: number): string => join(src, `u_${w}x${h}_q${quality}_${i}.jpg`);
  ensureWritableDir(src);
  const limit = pLimit(Math.max(2, cpus().length));
  await Promise.all(
    Array.from({ length: unique }, (_, i) => i)
      .filter((i) => !existsSync(srcPath(i)))
      .map((i) => limit(() => writeBenchJpeg(srcPath(i), i, w, h, quality))),
  );
  for (let c = 0; c < Math.min(classes, count); c++) ensureWritableDir(join(dir, `c${c}`));
  for (let i = 0; i < count; i++) {
    const p = join(dir, `c${i % classes}`, `img_${String(i).padStart(6, '0')}.jpg`);
    if (!existsSync(p)) linkSync(srcPath(i % unique), p);
  }
  return resolve(dir);
}

export interface BenchModelOptions {
  modelPath: string;
  dataDir: string;
  batchSizes?: number[] | undefined;
  /** Comma-separated providers as for `extract --ep`; default: the best installed one. */
  providers?: string | undefined;
  threads?: number | undefined;
  /** Shorthand for preprocess.preset. */
  preset?: string | undefined;
  /** Preprocessing the caller states (source 'flag'); the model's metadata and `preprocessLayers` rank below. */
  preprocess?: PreprocessOverrides | undefined;
  /** Catalog / hub preprocessing of a pulled model (ResolvedModel.preprocessLayers). */
  preprocessLayers?: readonly PreprocessLayer[] | undefined;
  /** The model's name in notices (default: its path). */
  modelName?: string | undefined;
  /** The preprocessing line and any warning about it. */
  onNotice?: ((message: string) => void) | undefined;
  /** Images used for the decode and end-to-end runs (the first ones of the listing). */
  images?: number | undefined;
  repeats?: number | undefined;
  onStep?: ((message: string) => void) | undefined;
}

export interface BenchModelResult {
  provider: ProviderName;
  size: number;
  ceiling: CeilingRow[];
  decode: { concurrency: number; images: number; imagesPerSecond: Stats };
  /**
   * ratio: end to end / min(ceiling at its batch, decode), medians. Above 1 with the model as the bound, the
   * model-only run is repeated once (ceilingRerun, its median; the higher of the two is used); a ratio still
   * above 1 is `disturbed` (ratioVerdict in diagnose.ts): a limit was measured low, not a result.
   */
  endToEnd: EndToEndResult & {
    images: number;
    batch: number;
    ratio: number;
    ceilingRerun: number | null;
    disturbed: boolean;
  };
  /** When end to end falls well short of min(ceiling, decode): why, and each suggested flag's measured rate. */
  shortfall: (Shortfall & { measured: { args: string[]; imagesPerSecond: number }[] }) | null;
}

/** `fcprobe bench`: ceiling / decode / end-to-end for a user's model on (a slice of) their folder. */
export async function benchModel(o: BenchModelOptions): Promise<BenchModelResult> {
  const step = o.onStep ?? (() => {});
  const repeats = o.repeats ?? BENCH_DEFAULTS.repeats;
  const batchSizes = o.batchSizes ?? [...BENCH_DEFAULTS.batch];
  // End to end runs at extract's default batch when it is listed, so that it measures what extract does.
  const e2eBatch = batchSizes.includes(EXTRACT_DEFAULTS.batch)
    ? EXTRACT_DEFAULTS.batch
    : batchSizes[batchSizes.length - 1]!;
  if (!existsSync(o.modelPath)) throw new FcprobeError('BAD_MODEL', `Model file ${o.modelPath} does not exist.`);
  const { list: requested } = parseProviders(o.providers);
  // Providers that cannot work here are not tried (their native log lines would reach the terminal).
  const { usable: list, skipped } = usableProviders(requested);
  const listing = scanImageFolder(o.dataDir);
  if (listing.items.length === 0) throw new FcprobeError('BAD_DATA', `No images found in ${listing.root}.`);
  const n = Math.min(listing.items.length, o.images ?? BENCH_DEFAULTS.images);
  const items = listing.items.slice(0, n);

  // First provider that loads, as extract picks it.
  let provider: ProviderName | null = null;
  let ceiling: Awaited<ReturnType<typeof measureCeiling>> | null = null;
  const failures: string[] = skipped.map((s) => `${s.provider}: ${s.reason}`);
  for (const s of skipped) step(`${s.provider} not used: ${s.reason}`);
  for (const p of list) {
    try {
      step(`ceiling: ${p}, batch ${batchSizes.join(', ')}`);
      ceiling = await measureCeiling({
        modelPath: o.modelPath,
        provider: p,
        threads: o.threads ?? null,
        batchSizes,
        repeats,
        minImages: 8,
      });
      provider = p;
      break;
    } catch (e) {
      // A batch that cannot fit fails on every provider alike: the user's option, not the model.
      if (e instanceof FcprobeError && e.code === 'BAD_OPTION') throw e;
      failures.push(`${p}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  if (!provider || !ceiling) throw new FcprobeError('BAD_MODEL', `Cannot run ${o.modelPath}: ${failures.join('; ')}`);

  configureSharp(1);
  const { spec, provenance } = resolveModelPreprocess(
    o.modelPath,
    { ...o.preprocess, preset: o.preprocess?.preset ?? o.preset },
    o.preprocessLayers,
    ceiling.fixedSize ? ceiling.size : null,
    { borderCrop: listing.borderCrop || undefined },
  );
  for (const m of preprocessNotices(o.modelName ?? o.modelPath, spec, provenance)) o.onNotice?.(m);
  // A model of any input size was measured at 224 before the crop was known: measure it at the crop extract uses.
  if (spec.crop !== ceiling.size) {
    step(`ceiling: ${provider} again at the crop ${spec.crop}`);
    ceiling = await measureCeiling({
      modelPath: o.modelPath,
      provider,
      threads: o.threads ?? null,
      batchSizes,
      repeats,
      minImages: 8,
      size: spec.crop,
    });
  }
  step(`decode: ${n} images`);
  const d = await measureDecode({
    files: items.map((i) => join(listing.root, i.file)),
    spec,
    repeats,
    batchSize: e2eBatch,
  });

  // The slice as its own folder of symlinks, so `fcprobe extract` sees exactly these images.
  const slice = mkdtempSync(join(tmpdir(), 'fcprobe-bench-'));
  try {
    for (const it of items) {
      const dst = join(slice, 'data', it.file);
      ensureWritableDir(dirname(dst));
      symlinkSync(join(listing.root, it.file), dst);
    }
    step(`end to end: fcprobe extract on ${n} images, batch ${e2eBatch}`);
    const args = [
      '--batch',
      String(e2eBatch),
      '--ep',
      provider,
      ...(o.threads ? ['--threads', String(o.threads)] : []),
      // The resolved values, so the child extracts exactly what decode measured (a cached catalog file has no
      // catalog entry of its own to find).
      ...['--preset', spec.preset, '--resize', String(spec.resize), '--crop', String(spec.crop)],
      ...['--interpolation', spec.interpolation, '--mean', spec.mean.join(','), '--std', spec.std.join(',')],
    ];
    const e = await measureEndToEnd({
      modelPath: resolve(o.modelPath),
      dataDir: join(slice, 'data'),
      outDir: join(slice, 'out'),
      args,
      repeats,
    });
    let c = ceiling.rows.find((r) => r.batch === e2eBatch)!.imagesPerSecond.median;
    const dm = d.imagesPerSecond.median;
    let ceilingRerun: number | null = null;
    if (e.imagesPerSecond.median > Math.min(c, dm) && c <= dm) {
      // End to end cannot beat the model alone: that run was disturbed. Measure it once more before judging.
      step(`model only again at batch ${e2eBatch}: end to end beat it (${c.toFixed(2)} img/s)`);
      const again = await measureCeiling({
        modelPath: o.modelPath,
        provider,
        threads: o.threads ?? null,
        batchSizes: [e2eBatch],
        repeats,
        minImages: 8,
      });
      ceilingRerun = again.rows[0]?.imagesPerSecond.median ?? NaN;
      c = rerunCeiling(c, ceilingRerun);
    }
    const ratio = e.imagesPerSecond.median / Math.min(c, dm);
    const diagnosis = diagnoseShortfall({
      ceiling: ceiling.rows.map((r) => ({ batch: r.batch, imagesPerSecond: r.imagesPerSecond.median })),
      decode: d.imagesPerSecond.median,
      decodeConcurrency: d.concurrency,
      endToEnd: e.imagesPerSecond.median,
      batch: e2eBatch,
      cores: cpus().length,
      threads: o.threads ?? null,
      gpu: provider !== 'cpu',
    });
    // Each suggestion is measured once (no warm-up: the files are in the page cache by now), so the advice
    // printed is a figure, not a guess.
    const measured: { args: string[]; imagesPerSecond: number }[] = [];
    for (const s of diagnosis?.suggestions ?? []) {
      step(`end to end again with ${s.args.join(' ')}`);
      // A later flag overrides an earlier one, so the suggestion replaces --batch/--threads given above.
      const run = await runExtractCommand({
        modelPath: resolve(o.modelPath),
        dataDir: join(slice, 'data'),
        outDir: join(slice, 'out'),
        args: [...args, ...s.args],
      });
      measured.push({ args: s.args, imagesPerSecond: run.imagesPerSecond });
    }
    return {
      provider,
      size: ceiling.size,
      ceiling: ceiling.rows,
      decode: { concurrency: d.concurrency, images: n, imagesPerSecond: d.imagesPerSecond },
      endToEnd: {
        ...e,
        images: n,
        batch: e2eBatch,
        ratio,
        ceilingRerun,
        disturbed: ratioVerdict(ratio, 0).verdict === 'disturbed',
      },
      shortfall: diagnosis ? { ...diagnosis, measured } : null,
    };
  } finally {
    rmSync(slice, { recursive: true, force: true });
  }
}
