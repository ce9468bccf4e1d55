/**
 * `fcprobe distill`: representation distillation of a head on a frozen backbone. student(x) = head(backbone(x)),
 * the head trained on the ID training images to reproduce the teacher's features from the backbone's (both
 * already extracted to feature directories of the same images). Writes to `out`:
 *   head.onnx     input `backbone_features` [N, Ds] -> output `features` [N, Dt] (teacher's raw feature space)
 *   student.onnx  with a backbone: backbone and head in one graph (image input -> `features`)
 *   distill.json  settings, seed, per-epoch loss, and the fit (MSE, cosine, linear CKA) on the training set and
 *                 on every --eval pair
 * An epoch checkpoint (checkpoint.fcpd) makes an interrupted run resume to the same bytes; it is removed at the end.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import type { Gemm } from '../compute/gemm.js';
import { badOption, FcprobeError } from '../errors.js';
import {
  DISTILL_LOSSES,
  DISTILL_OPTION_DEFAULTS,
  DISTILL_OPTIONS,
  DISTILL_SETTING_KEYS,
  HEAD_ACTIVATIONS,
  HEAD_KINDS,
} from '../options.js';
import { flagName } from '../validate.js';
import { checkSameImages, type FeatureSet, loadFeatureSet } from '../features/manifest.js';
import { openOutputFolder } from '../features/outputFolder.js';
import { writeFileAtomic } from '../io/atomic.js';
import { hashValue, sha256File } from '../io/hash.js';
import { Rng } from '../math/rng.js';
import { withGemm } from '../probe/evaluate.js';
import { scanFeatures } from '../probe/sgdProbe.js';
import { FCPROBE_VERSION } from '../version.js';
import { PairedStream } from './batches.js';
import { composeStudent } from './compose.js';
import { type FitMetrics, measureFit } from './fit.js';
import { createHead, foldTargetStandardization, type HeadSpec, headToOnnx } from './head.js';
import { type DistillLoss, type TrainProgress, trainHead } from './train.js';

export type { DistillLoss, TrainProgress } from './train.js';
export type { HeadSpec } from './head.js';

export interface DistillSettings {
  head: HeadSpec;
  loss: DistillLoss;
  epochs: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  warmupSteps: number;
  seed: number;
  standardizeTarget: boolean;
}

const DD = DISTILL_OPTION_DEFAULTS;
/** The defaults of `fcprobe distill` and of a run config's `distill` object (DISTILL_OPTIONS in src/options.ts). */
export const DISTILL_DEFAULTS: DistillSettings = {
  head: { kind: DD.head, hidden: DD.hidden, layers: DD.layers, activation: DD.activation },
  loss: DD.loss,
  epochs: DD.epochs,
  batchSize: DD.batch,
  lr: DD.lr,
  weightDecay: DD.weightDecay,
  warmupSteps: DD.warmup,
  seed: DD.seed,
  standardizeTarget: DD.standardizeTarget,
};
const quoted = (xs: readonly string[]): string => xs.map((x) => `"${x}"`).join(', ');

export interface DistillOptions {
  teacherFeatures: string;
  studentFeatures: string;
  /** The student backbone ONNX model; when given, student.onnx is written. */
  backbone?: string | undefined;
  out: string;
  settings: DistillSettings;
  /** Pairs of (teacher, student) feature directories of other image sets to report the fit on. */
  eval?: { teacher: string; student: string }[];
  /** Rows held in memory for the block shuffle (default: 256 MiB of float32 across both sets). */
  bufferRows?: number | undefined;
  threads?: number | undefined;
  gemm?: Gemm | undefined;
  onStep?: ((p: TrainProgress) => void) | undefined;
  onNotice?: ((message: string) => void) | undefined;
  shouldStop?: (() => boolean) | undefined;
}

export interface FitEntry extends FitMetrics {
  name: string;
  teacherDir: string;
  studentDir: string;
}

export interface DistillResult {
  format: 'fcprobe-distill';
  formatVersion: 1;
  fcprobeVersion: string;
  /** Hash of everything that determines head.onnx's bytes (settings and both feature sets' keys). */
  key: string;
  settings: DistillSettings;
  teacher: { dir: string; key: string; model: string; sha256: string; dim: number };
  student: { dir: string; key: string; model: string; sha256: string; dim: number };
  rows: number;
  headParameters: number;
  /** Teacher standardization used for the targets (true) or raw targets (false); see settings. */
  steps: number;
  epochLosses: number[];
  resumedFromEpoch: number;
  /**
   * The files written (relative to the output folder, as every path in distill.json: nothing of the machine
   * that made it) and their SHA-256 (hex), checked before a finished distillation is reused.
   */
  outputs: { head: string; student: string | null; headSha256: string; studentSha256: string | null };
  fit: FitEntry[];
  seconds: number;
  createdAt: string;
}

export const CHECKPOINT_FILE = 'checkpoint.fcpd';

/** Rows per block of the streamed NaN/Inf and standardization scans of the feature sets. */
const SCAN_ROWS = 4096;

const sha256Bytes = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/**
 * The distillation settings by their name in a `run` config's `distill` object, with the flag `fcprobe distill`
 * gives each: one table, so that the command and the config check the same rules with the same defaults.
 */
export const DISTILL_FIELDS: Readonly<Record<DistillField, string>> = Object.freeze(
  Object.fromEntries(DISTILL_SETTING_KEYS.map((k) => [k, flagName(DISTILL_OPTIONS[k])])) as Record<
    DistillField,
    string
  >,
);
export type DistillField = (typeof DISTILL_SETTING_KEYS)[number];

/** What is wrong with one setting; the caller names the field (flag or config field). */
export interface DistillSettingProblem {
  field: DistillField;
  expected: string;
  got: unknown;
}

/** The first setting that breaks a rule, or null. Values may come from untyped JSON: types are checked too. */
export function distillSettingsProblem(s: DistillSettings): DistillSettingProblem | null {
  const bad = (field: DistillField, expected: string, got: unknown): DistillSettingProblem => ({
    field,
    expected,
    got,
  });
  const isInt = (v: unknown, min: number): boolean => typeof v === 'number' && Number.isInteger(v) && v >= min;
  const h = s.head;
  if (!(HEAD_KINDS as readonly string[]).includes(h.kind)) return bad('head', `one of ${quoted(HEAD_KINDS)}`, h.kind);
  if (!isInt(h.hidden, 1)) return bad('hidden', 'a positive integer', h.hidden);
  if (!isInt(h.layers, 1)) return bad('layers', 'a positive integer', h.layers);
  if (h.kind === 'mlp' && h.layers < 2) return bad('layers', 'an integer >= 2 for an mlp head', h.layers);
  if (!(HEAD_ACTIVATIONS as readonly string[]).includes(h.activation))
    return bad('activation', `one of ${quoted(HEAD_ACTIVATIONS)}`, h.activation);
  if (!(DISTILL_LOSSES as readonly string[]).includes(s.loss))
    return bad('loss', `one of ${quoted(DISTILL_LOSSES)}`, s.loss);
  if (!isInt(s.epochs, 1)) return bad('epochs', 'a positive integer', s.epochs);
  if (!isInt(s.batchSize, 1)) return bad('batch', 'a positive integer', s.batchSize);
  if (typeof s.lr !== 'number' || !(s.lr > 0 && Number.isFinite(s.lr))) return bad('lr', 'a positive number', s.lr);
  if (typeof s.weightDecay !== 'number' || !(s.weightDecay >= 0 && Number.isFinite(s.weightDecay)))
    return bad('weightDecay', 'a non-negative number', s.weightDecay);
  if (!isInt(s.warmupSteps, 0)) return bad('warmup', 'a non-negative integer', s.warmupSteps);
  if (!isInt(s.seed, 0)) return bad('seed', 'a non-negative integer', s.seed);
  if (typeof s.standardizeTarget !== 'boolean') return bad('standardizeTarget', 'true or false', s.standardizeTarget);
  return null;
}

/**
 * Settings from a flat object named as DISTILL_FIELDS (a `run` config's `distill` object less `backbone`),
 * DISTILL_DEFAULTS for what it leaves out. Returns the settings, or the first problem (unknown keys are the
 * caller's to refuse).
 */
export function distillSettingsFrom(
  o: Partial<Record<DistillField, unknown>>,
): DistillSettings | DistillSettingProblem {
  const d = DISTILL_DEFAULTS;
  const pick = <T>(k: DistillField, def: T): T => (o[k] === undefined ? def : (o[k] as T));
  const s: DistillSettings = {
    head: {
      kind: pick('head', d.head.kind),
      hidden: pick('hidden', d.head.hidden),
      layers: pick('layers', d.head.layers),
      activation: pick('activation', d.head.activation),
    },
    loss: pick('loss', d.loss),
    epochs: pick('epochs', d.epochs),
    batchSize: pick('batch', d.batchSize),
    lr: pick('lr', d.lr),
    weightDecay: pick('weightDecay', d.weightDecay),
    warmupSteps: pick('warmup', d.warmupSteps),
    seed: pick('seed', d.seed),
    standardizeTarget: pick('standardizeTarget', d.standardizeTarget),
  };
  return distillSettingsProblem(s) ?? s;
}

function validate(s: DistillSettings): void {
  const p = distillSettingsProblem(s);
  if (p) throw badOption(DISTILL_FIELDS[p.field], p.expected, p.got);
}

/** The key of a distillation: everything that determines head.onnx's bytes (settings and both feature sets). */
export function distillKey(s: DistillSettings, teacher: FeatureSet, student: FeatureSet): string {
  return hashValue({
    v: 1,
    settings: s,
    teacher: teacher.manifest.key,
    student: student.manifest.key,
    n: teacher.rows,
  });
}

/**
 * The finished distillation in `out` of these settings and feature sets, verified (distill.json's key, and the
 * SHA-256 of head.onnx and of student.onnx as distill.json recorded them), or null when there is none, it is of
 * other inputs, or a file differs: then runDistill has to run (it resumes from a checkpoint of the same key).
 */
export async function finishedDistill(
  out: string,
  s: DistillSettings,
  teacherFeatures: string,
  studentFeatures: string,
): Promise<DistillResult | null> {
  const path = join(resolve(out), 'distill.json');
  if (!existsSync(path)) return null;
  let r: DistillResult;
  try {
    r = JSON.parse(readFileSync(path, 'utf8')) as DistillResult;
  } catch {
    return null;
  }
  const teacher = loadFeatureSet(resolve(teacherFeatures));
  const student = loadFeatureSet(resolve(studentFeatures));
  if (r.format !== 'fcprobe-distill' || r.key !== distillKey(s, teacher, student)) return null;
  const files: [string | null | undefined, string | null | undefined][] = [
    [r.outputs?.head, r.outputs?.headSha256],
    [r.outputs?.student, r.outputs?.studentSha256],
  ];
  for (const [name, sha] of files) {
    if (name === null && sha === null) continue;
    // Relative to the output folder (an absolute path, as fcprobe 0.1.0 wrote it, resolves to itself).
    const file = name ? resolve(out, name) : '';
    if (!file || !sha || !existsSync(file) || (await sha256File(file)) !== sha) return null;
  }
  return r;
}

/**
 * Eval pairs must be the same two models, preprocessing and output as the training pair, else the fit means nothing.
 */
function checkSameModels(train: FeatureSet, other: FeatureSet, role: string): void {
  const a = train.manifest,
    b = other.manifest;
  const what =
    a.model.sha256 !== b.model.sha256
      ? 'another model'
      : a.model.outputName !== b.model.outputName || a.model.pool !== b.model.pool
        ? 'another output of the model'
        : hashValue(a.preprocess) !== hashValue(b.preprocess)
          ? 'other preprocessing'
          : null;
  if (what)
    throw new FcprobeError(
      'MISMATCH',
      `${other.dir} (${role}) was extracted with ${what} than ${train.dir}, which the head was trained on.`,
      'Extract every set with the same model, output and preprocessing flags.',
    );
}

/**
 * Runs the whole distillation (see the file comment) in `out`, locked (features/outputFolder.ts). Errors: BAD_OPTION,
 * NOT_FOUND, BAD_FEATURES, MISMATCH, BAD_MODEL, IO and LOCKED (the output folder),
 * INTERRUPTED.
 */
export async function runDistill(o: DistillOptions): Promise<DistillResult> {
  const started = performance.now();
  validate(o.settings);
  const notice = o.onNotice ?? (() => {});
  // Before any reading or training: a bad --out fails at once, and two runs into one folder would each
  // publish their own head.onnx and distill.json, interleaved (issue 26).
  const lock = openOutputFolder(o.out, 'distill', '--out', notice);
  try {
    return await distillLocked(o, started, notice);
  } finally {
    lock.release();
  }
}

async function distillLocked(
  o: DistillOptions,
  started: number,
  notice: (message: string) => void,
): Promise<DistillResult> {
  const s = o.settings;
  const teacher = loadFeatureSet(resolve(o.teacherFeatures));
  const student = loadFeatureSet(resolve(o.studentFeatures));
  checkSameImages(teacher, student, ['teacher', 'student']);
  const evals = (o.eval ?? []).map((p) => {
    const t = loadFeatureSet(resolve(p.teacher));
    const st = loadFeatureSet(resolve(p.student));
    checkSameImages(t, st, ['teacher', 'student']);
    checkSameModels(teacher, t, 'teacher');
    checkSameModels(student, st, 'student');
    return { t, st };
  });
  let backboneBytes: Uint8Array | null = null;
  if (o.backbone) {
    const path = resolve(o.backbone);
    if (!existsSync(path)) throw new FcprobeError('NOT_FOUND', `--backbone ${o.backbone} does not exist.`);
    const sha = await sha256File(path);
    if (sha !== student.manifest.model.sha256)
      throw new FcprobeError(
        'MISMATCH',
        `--backbone ${o.backbone} is not the model that made --student-features ${student.dir} (SHA-256 ` +
          `${sha.slice(0, 12)}... vs ${student.manifest.model.sha256.slice(0, 12)}...).`,
        'Give the ONNX file the student features were extracted with.',
      );
    if (student.manifest.model.pool !== 'none')
      throw new FcprobeError(
        'BAD_MODEL',
        `--student-features were pooled by extract (--pool ${student.manifest.model.pool}), so the backbone alone ` +
          `does not compute them.`,
        'Distil from features of an output that is already [N, D].',
      );
    backboneBytes = readFileSync(path);
  }
  const n = teacher.rows,
    ds = student.dim,
    dt = teacher.dim;
  const bufferRows = o.bufferRows ?? Math.max(s.batchSize, Math.floor((256 * 1024 * 1024) / (4 * (ds + dt))));
  // Verified before training: a NaN/Inf row anywhere would poison the head silently. The scans stream in blocks
  // of SCAN_ROWS: a block of the shuffle buffer's size held every row of each set (2 x 12.8 MB of garbage on the
  // CIFAR-10 example's 50,000 x 64, up to 2 x 128 MiB on a large set) and the sums are added row by row, so the
  // block size does not change them.
  const scanRows = Math.min(bufferRows, SCAN_ROWS);
  const targetStats = scanFeatures(teacher, true, scanRows)!;
  scanFeatures(student, false, scanRows);
  for (const e of evals) {
    scanFeatures(e.t, false, scanRows);
    scanFeatures(e.st, false, scanRows);
  }
  const out = resolve(o.out);
  // Paths in distill.json are relative to `out`, with / on every system: the same distillation made in another
  // checkout or folder writes the same file, and nothing tells which machine made it.
  const rel = (p: string): string => relative(out, resolve(p)).split(sep).join('/') || '.';
  const key = distillKey(s, teacher, student);
  return withGemm(o.gemm, o.threads, async (gemm) => {
    const net = createHead(s.head, ds, dt, new Rng(s.seed));
    const stream = new PairedStream(
      student,
      teacher,
      s.batchSize,
      bufferRows,
      s.standardizeTarget ? targetStats : null,
    );
    let trained: Awaited<ReturnType<typeof trainHead>>;
    const ckPath = join(out, CHECKPOINT_FILE);
    try {
      trained = await trainHead(
        gemm,
        net,
        stream,
        {
          loss: s.loss,
          epochs: s.epochs,
          lr: s.lr,
          weightDecay: s.weightDecay,
          warmupSteps: s.warmupSteps,
          seed: s.seed,
        },
        ckPath,
        key,
        { ...(o.onStep ? { onStep: o.onStep } : {}), ...(o.shouldStop ? { shouldStop: o.shouldStop } : {}) },
      );
    } finally {
      stream.close();
    }
    if (!trained) {
      throw new FcprobeError(
        'INTERRUPTED',
        'Distillation interrupted.',
        existsSync(ckPath)
          ? 'Rerun the same command: it resumes from the last finished epoch and ends with the same bytes.'
          : 'No epoch had finished; rerun the same command to start again.',
      );
    }
    if (trained.checkpointIgnored) notice(`note: the checkpoint in ${out} was not used (${trained.checkpointIgnored})`);
    if (trained.resumedFromEpoch > 0) notice(`resumed after epoch ${trained.resumedFromEpoch} from ${ckPath}`);
    const exported = foldTargetStandardization(net, s.standardizeTarget ? targetStats : null);
    const kind =
      s.head.kind === 'linear' ? 'linear' : `${s.head.layers}-layer ${s.head.activation} MLP, hidden ${s.head.hidden}`;
    const desc =
      `fcprobe distill head (${kind}): ${ds} -> ${dt}, ${s.loss} loss, ${s.epochs} epochs on ${n} images of ` +
      `${basename(teacher.manifest.dataRoot)}`;
    const headBytes = headToOnnx(exported, desc);
    const headPath = join(out, 'head.onnx');
    writeFileAtomic(headPath, headBytes);
    let studentPath: string | null = null;
    let studentSha: string | null = null;
    if (backboneBytes) {
      studentPath = join(out, 'student.onnx');
      if (student.manifest.preprocessSource?.source === 'default')
        notice(
          `warning: the backbone features ${student.dir} were extracted with an assumed preprocessing (preset ` +
            `${student.manifest.preprocess.preset}, nothing stated it); student.onnx carries it, marked as assumed.`,
        );
      const composed = composeStudent(backboneBytes, headBytes, {
        featureOutput: student.manifest.model.outputName,
        preprocess: student.manifest.preprocess,
        preprocessAssumed: student.manifest.preprocessSource?.source === 'default',
        // File names and hashes only: student.onnx must be byte-identical wherever the same inputs sit.
        docString:
          `fcprobe distilled student: ${basename(student.manifest.model.path)} (sha256 ` +
          `${student.manifest.model.sha256.slice(0, 12)}) + ${desc}`,
      });
      writeFileAtomic(studentPath, composed);
      studentSha = sha256Bytes(composed);
    }
    const fitBlock = Math.max(1, Math.min(4096, bufferRows));
    const fit: FitEntry[] = [];
    const pairs = [{ t: teacher, st: student }, ...evals];
    for (let i = 0; i < pairs.length; i++) {
      const p = pairs[i]!;
      const m = await measureFit(gemm, exported, p.st, p.t, targetStats.std, fitBlock);
      fit.push({ name: i === 0 ? 'train' : `eval${i}`, teacherDir: rel(p.t.dir), studentDir: rel(p.st.dir), ...m });
    }
    const result: DistillResult = {
      format: 'fcprobe-distill',
      formatVersion: 1,
      fcprobeVersion: FCPROBE_VERSION,
      key,
      settings: s,
      teacher: {
        dir: rel(teacher.dir),
        key: teacher.manifest.key,
        model: basename(teacher.manifest.model.path),
        sha256: teacher.manifest.model.sha256,
        dim: dt,
      },
      student: {
        dir: rel(student.dir),
        key: student.manifest.key,
        model: basename(student.manifest.model.path),
        sha256: student.manifest.model.sha256,
        dim: ds,
      },
      rows: n,
      headParameters: net.parameters().reduce((a, p) => a + p.data.length, 0),
      steps: trained.steps,
      epochLosses: trained.epochLosses,
      resumedFromEpoch: trained.resumedFromEpoch,
      outputs: {
        head: rel(headPath),
        student: studentPath === null ? null : rel(studentPath),
        headSha256: sha256Bytes(headBytes),
        studentSha256: studentSha,
      },
      fit,
      seconds: (performance.now() - started) / 1000,
      createdAt: new Date().toISOString(),
    };
    writeFileAtomic(join(out, 'distill.json'), `${JSON.stringify(result, null, 1)}\n`);
    rmSync(ckPath, { force: true });
    return result;
  });
}
