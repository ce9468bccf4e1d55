/**
 * Scoring a saved or fitted probe on one feature directory, in that set's own label space (see
 * probe/labelSpace.ts), streamed block by block so that an evaluation set never has to fit in memory.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { ensureWritableDir } from '../io/atomic.js';
import { basename, join, resolve } from 'node:path';
import { createOrtGemm, type Gemm } from '../compute/gemm.js';
import { FcprobeError } from '../errors.js';
import { loadFeatureSet } from '../features/manifest.js';
import { selectRows } from '../features/rowSelection.js';
import { csvText } from '../io/csv.js';
import { NpyRowWriter } from '../io/npy.js';
import { buildLabelSpace, describeLabelSpace, poolLogits, type LabelSpaceKind } from './labelSpace.js';
import { computeLogits, splitWeights } from './logreg.js';
import { MetricsAccumulator } from './metrics.js';
import { applyStandardization } from '../math/standardize.js';
import { checkSameRepresentation, featureOrigin } from '../features/origin.js';
import { BadRowCollector, readCheckedLabels, type LoadedProbe } from './probeFiles.js';

export interface ProbeProgress {
  phase: 'load' | 'sweep' | 'fit' | 'evaluate';
  message: string;
  /** Fraction of the phase done, when known. */
  fraction?: number;
}

export interface EvaluateOptions {
  /** Leave out (and count) images of classes the probe never saw instead of failing. */
  ignoreUnknown?: boolean | undefined;
  /** Protocol scoring: score over these classes whatever folders the set holds (see LabelSpaceOptions.scoreOver). */
  scoreOver?: readonly string[] | undefined;
  /** Score only these rows of the directory (strictly ascending indices; default all): a part of an ID split. */
  rows?: Int32Array | undefined;
  /** Write per-image predictions and probabilities under this directory. */
  predictionsDir?: string | undefined;
  /** Name of the set in reports (default: the directory's base name). */
  name?: string | undefined;
  gemm?: Gemm | undefined;
  threads?: number | undefined;
  onProgress?: ((p: ProbeProgress) => void) | undefined;
}

export interface PerClassResult {
  class: string;
  accuracy: number | null;
  n: number;
}

/** One set's scores; accuracies are fractions in [0, 1]. */
export interface EvalResult {
  name: string;
  dir: string;
  /** Images scored. */
  n: number;
  top1: number;
  /** Top-min(5, classes). */
  top5: number;
  /** The k of `top5`: min(5, scored classes). */
  topK: number;
  /** Mean cross-entropy in nats over the scored classes. */
  meanLoss: number;
  meanPerClassAccuracy: number;
  perClass: PerClassResult[];
  labelSpace: {
    kind: LabelSpaceKind;
    description: string;
    scoredClasses: number;
    probeClasses: number;
    dropped: { name: string; reason: 'unknown' | 'unmapped' | 'outside'; images: number }[];
    /** Protocol scoring (scoreOver): classes the protocol names, and those with no folder in the set. */
    protocol?: { expected: number; absent: string[] };
  };
  /** Images of the set not scored: the sum of `leftOutBy`. */
  leftOut: number;
  /**
   * Why images of the set are not scored, by cause: folders the listing left out with their image counts (the
   * manifest's `ignored`, e.g. ObjectNet's unmapped folders; not for a row selection, a part of a split, whose
   * folder's left-out folders belong to no part), then classes the label space drops (`labelSpace.dropped`).
   */
  leftOutBy: { what: string; reason: string; images: number }[];
  predictionFiles: string[];
  /**
   * Per feature row, in the set's row order: 1 when the top-1 prediction is right, 0 when wrong, 2 when the
   * image is not scored (class unknown to the probe or unmapped). Paired statistics compare two models on it.
   */
  correct: Uint8Array;
  /**
   * Per feature row, the `rankedK` best classes of the set's label space (indices into `labelSpace.classes`
   * order, i.e. perClass order), best first, ties to the lower index: the order the top-1/top-5 accuracies count
   * by, so a predictions file recomputes them exactly.
   */
  ranked: Int32Array;
  rankedK: number;
  /** Per feature row, its label in the same index space as `ranked` (-1: not scored). */
  rowLabels: Int32Array;
}

/** `correct` value of an image that is not scored. */
export const NOT_SCORED = 2;

/** The result without its per-image vector, for JSON (a Uint8Array would serialize as an object of indices). */
export function withoutCorrectness(e: EvalResult): Omit<EvalResult, 'correct' | 'ranked' | 'rankedK' | 'rowLabels'> {
  const { correct: _correct, ranked: _ranked, rankedK: _k, rowLabels: _l, ...rest } = e;
  return rest;
}

/** The k best classes of each row of scores [rows, E] into out[(start + i) * k ...]: score desc, index asc. */
function rankRows(scores: Float32Array, rows: number, E: number, k: number, out: Int32Array, start: number): void {
  for (let i = 0; i < rows; i++) {
    const off = i * E,
      o = (start + i) * k;
    let filled = 0;
    for (let c = 0; c < E; c++) {
      const v = scores[off + c]!;
      // Insertion into the kept k: a later class with an equal score stays behind the earlier one.
      let j = filled;
      if (j === k && !(v > scores[off + out[o + k - 1]!]!)) continue;
      if (j === k) j = k - 1;
      while (j > 0 && v > scores[off + out[o + j - 1]!]!) {
        out[o + j] = out[o + j - 1]!;
        j--;
      }
      out[o + j] = c;
      if (filled < k) filled++;
    }
  }
}

/** Runs fn with the given GEMM, or with an onnxruntime one created (and released) for the call. */
export async function withGemm<T>(
  given: Gemm | undefined,
  threads: number | undefined,
  fn: (g: Gemm) => Promise<T>,
): Promise<T> {
  if (given) return fn(given);
  const g = await createOrtGemm(threads ? { threads } : {});
  try {
    return await fn(g);
  } finally {
    await g.dispose();
  }
}

/**
 * Scores a probe on one feature directory, in that set's label space (streamed, block by block): a set whose
 * classes are a subset of the probe's is scored over those classes only, and ObjectNet-style sets through
 * their class map. Accuracies and losses are means over the scored images; accuracies are fractions in [0, 1].
 *
 * @throws FcprobeError NOT_FOUND or BAD_FEATURES when `dir` is not a valid feature directory or holds NaN,
 *   infinite values or out-of-range labels; MISMATCH when it was extracted with another model, output,
 *   pooling or preprocessing than the probe's training set, has another feature size, has classes the probe
 *   never saw (unless `ignoreUnknown`) or no class the probe can score.
 */
export async function evaluateProbe(probe: LoadedProbe, dir: string, o: EvaluateOptions = {}): Promise<EvalResult> {
  return withGemm(o.gemm, o.threads, (gemm) => evaluateWith(gemm, probe, dir, o));
}

async function evaluateWith(gemm: Gemm, probe: LoadedProbe, dir: string, o: EvaluateOptions): Promise<EvalResult> {
  const whole = loadFeatureSet(dir);
  const set = o.rows ? selectRows(whole, o.rows) : whole;
  const f = probe.file;
  checkSameRepresentation(f.train.origin, `the probe (trained on ${f.train.dir})`, featureOrigin(set.manifest), dir);
  if (set.dim !== f.featureDim)
    throw new FcprobeError('MISMATCH', `${dir} has ${set.dim}-d features; the probe expects ${f.featureDim}.`);
  const space = buildLabelSpace(f.classes, set.manifest.classes, set.manifest.classMap, {
    ignoreUnknown: o.ignoreUnknown ?? false,
    scoreOver: o.scoreOver,
  });
  const labels = readCheckedLabels(set);
  const evalLabels = labels.map((l) => space.fromEval[l]!);
  const droppedImages = new Map<number, number>();
  for (const l of labels) if (space.fromEval[l]! < 0) droppedImages.set(l, (droppedImages.get(l) ?? 0) + 1);
  const name = o.name ?? basename(resolve(dir));
  const k = f.classes.length,
    d = f.featureDim,
    E = space.classes.length,
    n = set.rows;
  const block = Math.max(256, Math.min(8192, Math.floor((1 << 22) / Math.max(d, k))));
  const x = new Float32Array(Math.min(block, n) * d);
  const logits = new Float32Array(Math.min(block, n) * k);
  const scores = new Float32Array(Math.min(block, n) * E);
  const acc = new MetricsAccumulator(E, 5);
  const bad = new BadRowCollector(dir);
  const w = splitWeights(probe.weights, k, d);
  const predictionFiles: string[] = [];
  // Predictions are streamed to disk block by block: memory stays O(block) however large the set is.
  let out: { csvFd: number; probs: NpyRowWriter; csvPath: string; npyPath: string } | null = null;
  if (o.predictionsDir) {
    ensureWritableDir(o.predictionsDir);
    const csvPath = join(o.predictionsDir, `${name}.predictions.csv`);
    const npyPath = join(o.predictionsDir, `${name}.probabilities.npy`);
    const csvFd = openSync(csvPath, 'w');
    writeSync(csvFd, 'file,label,predicted,confidence\n');
    out = { csvFd, probs: new NpyRowWriter(npyPath, '<f4', [E]), csvPath, npyPath };
  }
  const pred = new Int32Array(Math.min(block, n));
  const correct = new Uint8Array(n).fill(NOT_SCORED);
  const rankedK = Math.min(5, E);
  const ranked = new Int32Array(n * rankedK);
  const conf = new Float32Array(Math.min(block, n));
  const probs = out ? new Float32Array(Math.min(block, n) * E) : null;
  const reader = set.open();
  let finished = false;
  try {
    for (let s = 0; s < n; s += block) {
      const rows = Math.min(block, n - s);
      const xb = x.subarray(0, rows * d);
      reader.readFloat32Rows(s, rows, xb);
      bad.scan(xb, rows, d, s);
      if (bad.count > 0) continue;
      if (probe.standardization) applyStandardization(xb, rows, probe.standardization);
      await computeLogits(gemm, probe.weights, k, d, xb, rows, logits, w);
      poolLogits(logits, rows, k, space, scores);
      const yb = evalLabels.subarray(s, s + rows);
      if (out && probs) {
        acc.add(scores, rows, yb, pred, conf, probs);
        out.probs.append(probs.subarray(0, rows * E), rows);
        const lines: string[] = [];
        for (let i = 0; i < rows; i++) {
          const y = yb[i]!;
          const file = csvText(set.manifest.files[s + i] ?? String(s + i));
          const label = y >= 0 ? csvText(space.classes[y]!) : '';
          lines.push(`${file},${label},${csvText(space.classes[pred[i]!]!)},${conf[i]!.toPrecision(6)}\n`);
        }
        writeSync(out.csvFd, lines.join(''));
      } else {
        acc.add(scores, rows, yb, pred);
      }
      rankRows(scores, rows, E, rankedK, ranked, s);
      // pred is the first maximal class, as the accumulator's rank-0 test: right iff pred equals the label.
      for (let i = 0; i < rows; i++) if (yb[i]! >= 0) correct[s + i] = pred[i] === yb[i] ? 1 : 0;
      o.onProgress?.({ phase: 'evaluate', message: `${name}: ${s + rows}/${n}`, fraction: (s + rows) / n });
    }
    bad.throwIfAny(set);
    finished = true;
  } finally {
    reader.close();
    if (out) {
      closeSync(out.csvFd);
      if (finished) out.probs.finish();
      else out.probs.close();
    }
  }
  if (out) predictionFiles.push(out.csvPath, out.npyPath);
  const m = acc.result();
  const dropped = space.dropped.map((dc) => ({
    name: dc.name,
    reason: dc.reason,
    images: droppedImages.get(dc.evalIndex) ?? 0,
  }));
  const leftOutBy = [
    ...(o.rows ? [] : leftOutFolders(whole.manifest.ignored, dir)),
    ...dropped
      .filter((dc) => dc.images > 0)
      .map((dc) => ({ what: dc.name, reason: DROPPED[dc.reason], images: dc.images })),
  ];
  return {
    name,
    dir: resolve(dir),
    n: m.n,
    top1: m.top1,
    top5: m.top5,
    topK: m.topK,
    meanLoss: m.meanLoss,
    meanPerClassAccuracy: m.meanPerClassAccuracy,
    perClass: space.classes.map((c, e) => ({ class: c, accuracy: m.perClassAccuracy[e]!, n: m.perClassCount[e]! })),
    labelSpace: {
      kind: space.kind,
      description: describeLabelSpace(space),
      scoredClasses: E,
      probeClasses: k,
      dropped,
      ...(space.protocol ? { protocol: space.protocol } : {}),
    },
    leftOut: leftOutBy.reduce((a, e) => a + e.images, 0),
    leftOutBy,
    predictionFiles,
    correct,
    ranked,
    rankedK,
    rowLabels: evalLabels,
  };
}

/** labelSpace.dropped's reasons, in words. */
const DROPPED = {
  outside: "not among the protocol's classes",
  unknown: 'class unknown to the probe',
  unmapped: 'class not mapped to a training class',
} as const;

/**
 * The manifest's ignored entries that hold images (folders the layout left out), checked: a count that is not a
 * non-negative integer is a damaged manifest, not a number to report.
 * @throws FcprobeError BAD_FEATURES for such a count.
 */
function leftOutFolders(ignored: unknown, dir: string): { what: string; reason: string; images: number }[] {
  if (!Array.isArray(ignored)) return [];
  const out: { what: string; reason: string; images: number }[] = [];
  for (const e of ignored as { file?: unknown; reason?: unknown; images?: unknown }[]) {
    if (e?.images === undefined) continue;
    if (!Number.isSafeInteger(e.images) || (e.images as number) < 0 || typeof e.file !== 'string')
      throw new FcprobeError(
        'BAD_FEATURES',
        `${dir}: manifest.json's ignored entry ${JSON.stringify(e)} has no valid image count.`,
        'Extract the folder again (extract --force replaces it).',
      );
    if ((e.images as number) > 0)
      out.push({
        what: e.file,
        reason: typeof e.reason === 'string' ? e.reason : 'left out',
        images: e.images as number,
      });
  }
  return out;
}
