/**
 * The experiment config of `fcprobe run` (schema: schema/experiment.schema.json). Parsed once at the edge
 * into a complete, frozen RunConfig; every error names the field, what was expected and what arrived.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { FcprobeError } from '../errors.js';
import { parseJsonText } from '../io/json.js';
import { describe, satisfies } from '../validate.js';
import type { ClassSpace } from '../dataset/suite.js';
import {
  CLASS_SPACES,
  CONFIG_MODEL_FIELDS,
  CONFIG_TOP_FIELDS,
  CONFIG_PROBE_FIELDS,
  CONFIG_SET_FIELDS,
  INTERPOLATIONS,
  POOLS,
  PRESET_NAMES,
  RECIPES,
  SOLVERS,
} from '../options.js';
import { isTarData } from '../dataset/tarListing.js';
import type { ErBaselineInput } from './types.js';
import { defaultCacheDir } from '../models/cache.js';
import { isModelReference, resolveModel } from '../models/resolve.js';
import type { PreprocessLayer } from '../image/preprocessSpec.js';
import { DISTILL_FIELDS, type DistillField, type DistillSettings, distillSettingsFrom } from '../distill/distill.js';

export interface ModelConfig {
  /** Display name (default: "teacher" / "student"). */
  name: string;
  path: string;
  preset?: (typeof PRESET_NAMES)[number] | undefined;
  output?: string | undefined;
  pool?: (typeof POOLS)[number] | undefined;
  resize?: number | undefined;
  crop?: number | undefined;
  interpolation?: (typeof INTERPOLATIONS)[number] | undefined;
  mean?: [number, number, number] | undefined;
  std?: [number, number, number] | undefined;
  /**
   * A student distilled by the run: `path` is then `<workDir>/distill/<name>/student.onnx` (written by the run),
   * and the preprocessing and output fields above apply to the backbone.
   */
  distill?: DistillConfig | undefined;
  /**
   * What a pulled model's catalog entry and hub preprocessor_config.json state (sources 'catalog', 'hub'): below
   * the fields above and the model's own metadata (docs/preprocessing.md). Not echoed into results' config.
   */
  preprocessLayers?: PreprocessLayer[] | undefined;
}

/** A student entry's `distill` object: the backbone (resolved path) and complete settings (defaults applied). */
export interface DistillConfig {
  backbone: string;
  settings: DistillSettings;
}

/** The model name under which run extracts a distilled student's backbone features. */
export const backboneModelName = (student: string): string => `${student}.backbone`;

/** Where run distils a student: head.onnx, student.onnx, distill.json. */
export const distillDir = (workDir: string, student: string): string => resolve(workDir, 'distill', student);

export interface SetConfig {
  /** Display name, unique over all sets ("ImageNet-R"). */
  name: string;
  path: string;
  /** Dataset layout (folder, imagenet, imagenet-v2, objectnet, ...); default: detected. */
  layout?: string;
  /** Class-name file (one per line, index order) for a plain folder. */
  classes?: string;
  borderCrop?: number;
  /** Use at most this many images per class (stratified, seeded), e.g. for ImageNet train. */
  perClass?: number;
  /**
   * Protocol label space: score over all of these classes (the probe's among them) whatever class folders the
   * set holds: 'imagenet-1k' (ImageNet val, -Sketch, -V2), 'imagenet-r', 'imagenet-a' (their 200). Default:
   * the set's own classes (the folders present). Ignored with presentClassesOnly.
   */
  scoreOver?: ClassSpace;
}

export interface ProbeConfig {
  /** Inverse L2 strength as scikit-learn's C; giving it with sweep is an error (BAD_OPTION). */
  C?: number;
  sweep?: boolean;
  solver?: (typeof SOLVERS)[number];
  /** 'paper': the paper's AdamW probe recipe (sgd solver, raw features). */
  recipe?: 'paper';
  weightDecay?: number;
  maxIter?: number;
  seed?: number;
}

/** A validated experiment config: see parseRunConfig and docs/run.md. */
export interface RunConfig {
  title?: string;
  workDir: string;
  teacher: ModelConfig;
  /** One or more students, each probed and compared with the teacher. */
  students: ModelConfig[];
  /** Further models probed the same way; their (ID, OOD) accuracies join the effective-robustness baselines. */
  references: ModelConfig[];
  train: SetConfig;
  test: SetConfig[];
  ood: SetConfig[];
  probe: ProbeConfig;
  providers?: string;
  threads?: number;
  batchSize?: number;
  /** Paired bootstrap replicates for the gap and contamination intervals (default 2000; 0: none). */
  bootstrap?: number;
  baselines: ErBaselineInput[] | null;
  /** Fraction of the ID training folder held out as the ID test set (stratified, seeded); no test sets then. */
  split?: number;
  /** Seeds of the split; one result per seed, reported as mean and standard deviation. Default: [probe.seed ?? 0]. */
  seeds?: number[];
  /**
   * Score every set over the class folders present, ignoring the sets' `scoreOver` (not the protocol; marked in the
   * report).
   */
  presentClassesOnly?: boolean;
}

type Obj = Record<string, unknown>;

/**
 * How an error names a config field (`student.pool`) in the user's terms: the CLI names the fields its flags
 * filled by the flag (`--student-pool`), so a run given only flags never hears of config fields. A name that
 * starts with "--" makes the error BAD_OPTION, any other BAD_CONFIG.
 */
export type FieldNamer = (field: string) => string;

/** `config field "student.pool"`. */
export const configFieldName: FieldNamer = (field) => `config field "${field}"`;

/**
 * A problem with one field, thrown inside the parser and turned into an FcprobeError by parseRunConfig once
 * it knows how the user named the field. `text` holds `{}` where the name goes.
 */
class FieldProblem extends Error {
  constructor(
    readonly fields: string[],
    readonly text: string,
    readonly hint?: string,
  ) {
    super(text);
  }
}

const cap = (t: string): string => t.charAt(0).toUpperCase() + t.slice(1);

/** The FcprobeError of a FieldProblem, fields named by `nameOf` (flags: BAD_OPTION, config fields: BAD_CONFIG). */
function userError(p: FieldProblem, nameOf: FieldNamer): FcprobeError {
  const names = p.fields.map(nameOf);
  let i = 0;
  const text = p.text.replace(/\{\}/g, () => names[i++] ?? '');
  const message = cap(text);
  return new FcprobeError(names.every((n) => n.startsWith('--')) ? 'BAD_OPTION' : 'BAD_CONFIG', message, p.hint);
}

function fail(field: string, expected: string, got: unknown): never {
  const shown = got === undefined ? 'nothing' : JSON.stringify(got);
  throw new FieldProblem(
    [field],
    `Expected {} to be ${expected}, got ${shown && shown.length > 80 ? `${shown.slice(0, 77)}...` : shown}.`,
  );
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(o: Obj, field: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) {
      throw new FieldProblem(
        [`${field ? `${field}.` : ''}${k}`],
        '{} is not a known field.',
        `Known fields here: ${allowed.join(', ')}.`,
      );
    }
  }
}

function str(o: Obj, k: string, field: string, required: true): string;
function str(o: Obj, k: string, field: string, required?: false): string | undefined;
function str(o: Obj, k: string, field: string, required = false): string | undefined {
  const v = o[k];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string' || v.length === 0) fail(`${field}${k}`, 'a non-empty string', v);
  return v;
}

function posInt(o: Obj, k: string, field: string): number | undefined {
  const v = o[k];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) fail(`${field}${k}`, 'a positive integer', v);
  return v;
}

function posNum(o: Obj, k: string, field: string): number | undefined {
  const v = o[k];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) fail(`${field}${k}`, 'a positive number', v);
  return v;
}

function triple(o: Obj, k: string, field: string): [number, number, number] | undefined {
  const v = o[k];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length !== 3 || v.some((x) => typeof x !== 'number' || !Number.isFinite(x)))
    fail(`${field}${k}`, 'an array of three numbers', v);
  return v as [number, number, number];
}

function oneOf<T extends string>(o: Obj, k: string, field: string, values: readonly T[]): T | undefined {
  const v = o[k];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v))
    fail(`${field}${k}`, `one of ${values.map((x) => `"${x}"`).join(', ')}`, v);
  return v as T;
}

function pathOf(base: string, p: string): string {
  return isAbsolute(p) ? p : resolve(base, p);
}

// The fields each level accepts are the keys of its table in src/options.ts (schema/experiment.schema.json is
// generated from the same tables).
const MODEL_KEYS = [...Object.keys(CONFIG_MODEL_FIELDS), 'distill'];
const DISTILL_KEYS = ['backbone', ...Object.keys(DISTILL_FIELDS)] as readonly string[];
const SET_KEYS = Object.keys(CONFIG_SET_FIELDS);
const PROBE_KEYS = Object.keys(CONFIG_PROBE_FIELDS);
/** The fields the validator accepts at each level (a test checks that schema/experiment.schema.json agrees). */
export const CONFIG_FIELDS = {
  top: [] as readonly string[],
  model: [] as readonly string[],
  set: [] as readonly string[],
  probe: [] as readonly string[],
  distill: DISTILL_KEYS,
};
const TOP_KEYS = [
  '$schema',
  'title',
  'workDir',
  'teacher',
  'student',
  'students',
  'references',
  'train',
  'test',
  'ood',
  'probe',
  'split',
  'seeds',
  'providers',
  'threads',
  'batchSize',
  'bootstrap',
  'baselines',
  'presentClassesOnly',
] as const;

CONFIG_FIELDS.top = TOP_KEYS;
CONFIG_FIELDS.model = MODEL_KEYS;
CONFIG_FIELDS.set = SET_KEYS;
CONFIG_FIELDS.probe = PROBE_KEYS;

/**
 * A pulled catalog name or hf: reference -> the cached file, with the catalog's preprocessing and output as
 * defaults for the fields the config leaves out (see src/models/resolve.ts: nothing is downloaded here).
 */
function withCatalog(m: ModelConfig, base: string): ModelConfig {
  if (!isModelReference(m.path, base)) return { ...m, path: pathOf(base, m.path) };
  const r = resolveModel(m.path, defaultCacheDir(), base);
  const e = r.entry;
  if (!e) return { ...m, path: r.path, preprocessLayers: r.preprocessLayers };
  return {
    ...m,
    path: r.path,
    output: m.output ?? e.output.name,
    pool: m.pool ?? (e.output.pool === 'none' ? undefined : e.output.pool),
    preprocessLayers: r.preprocessLayers,
  };
}

function parseModel(v: unknown, field: string, defaultName: string, base: string, workDir: string): ModelConfig {
  if (typeof v === 'string') return withCatalog({ name: defaultName, path: v }, base);
  if (!isObj(v)) fail(field, 'an object with at least "path" (or "distill"), or a path string', v);
  const f = `${field}.`;
  checkKeys(v, field, MODEL_KEYS);
  if (v.distill !== undefined) return parseDistillStudent(v, field, base, workDir);
  // Absent fields stay undefined (JSON.stringify leaves them out of the echoed config).
  return withCatalog(
    {
      name: str(v, 'name', f) ?? defaultName,
      path: str(v, 'path', f, true),
      ...preprocessFields(v, f),
    },
    base,
  );
}

function preprocessFields(v: Obj, f: string): Omit<ModelConfig, 'name' | 'path' | 'distill'> {
  return {
    preset: oneOf(v, 'preset', f, PRESET_NAMES),
    output: str(v, 'output', f),
    pool: oneOf(v, 'pool', f, POOLS),
    resize: posInt(v, 'resize', f),
    crop: posInt(v, 'crop', f),
    interpolation: oneOf(v, 'interpolation', f, INTERPOLATIONS),
    mean: triple(v, 'mean', f),
    std: triple(v, 'std', f),
  };
}

/**
 * `{ name, distill: { backbone, head, ... }, preset?, ... }`: settings checked by the distill module's own
 * rules (the same as `fcprobe distill`'s flags), defaults from DISTILL_DEFAULTS.
 */
function parseDistillStudent(v: Obj, field: string, base: string, workDir: string): ModelConfig {
  const f = `${field}.`;
  if (!field.startsWith('student'))
    throw new FieldProblem([`${f}distill`], '{} is for students only: run distils them to fit the teacher.');
  if (v.path !== undefined)
    throw new FieldProblem(
      [`${f}path`, `${f}distill`],
      'Give {} or {}, not both: a distilled student is written by the run.',
      'To use a student distilled by `fcprobe distill`, give its student.onnx as "path" without "distill".',
    );
  if (v.pool !== undefined)
    throw new FieldProblem(
      [`${f}pool`],
      '{} cannot be used with "distill": the head is trained on the backbone output as it is ([N, D]).',
    );
  const name = str(v, 'name', f, true);
  const d = v.distill;
  if (!isObj(d)) fail(`${f}distill`, 'an object with at least "backbone"', d);
  checkKeys(d, `${f}distill`, DISTILL_KEYS);
  const backbone = pathOf(base, str(d, 'backbone', `${f}distill.`, true));
  const settings = distillSettingsFrom(d as Partial<Record<DistillField, unknown>>);
  if ('field' in settings) fail(`${f}distill.${settings.field}`, settings.expected, settings.got);
  return {
    name,
    path: join(distillDir(workDir, name), 'student.onnx'),
    ...preprocessFields(v, f),
    distill: { backbone, settings },
  };
}

function parseSet(v: unknown, field: string, base: string): SetConfig {
  if (typeof v === 'string') return { name: basename(resolve(base, v)), path: pathOf(base, v) };
  if (!isObj(v)) fail(field, 'an object with "path" (and "name"), or a path string', v);
  const f = `${field}.`;
  checkKeys(v, field, SET_KEYS);
  const path = pathOf(base, str(v, 'path', f, true));
  const s: SetConfig = { name: str(v, 'name', f) ?? basename(path), path };
  const layout = str(v, 'layout', f);
  if (layout) s.layout = layout;
  const classes = str(v, 'classes', f);
  if (classes) s.classes = pathOf(base, classes);
  if (v.borderCrop !== undefined) {
    const b = v.borderCrop;
    if (typeof b !== 'number' || !Number.isInteger(b) || b < 0) fail(`${f}borderCrop`, 'a non-negative integer', b);
    s.borderCrop = b;
  }
  const perClass = posInt(v, 'perClass', f);
  if (perClass) s.perClass = perClass;
  const scoreOver = oneOf(v, 'scoreOver', f, CLASS_SPACES);
  if (scoreOver) s.scoreOver = scoreOver;
  return s;
}

/** `split` (a fraction in (0, 1)) and `seeds` (several splits; one seed: probe.seed, default 0), into cfg. */
function parseSplit(raw: Obj, cfg: RunConfig): void {
  const split = raw.split;
  if (split !== undefined) {
    if (typeof split !== 'number' || !(split > 0 && split < 1))
      fail('split', 'a fraction strictly between 0 and 1', split);
    cfg.split = split;
  }
  if (raw.seeds !== undefined) {
    // Checked against CONFIG_TOP_FIELDS.seeds (its cap included) in parseUnnamed.
    cfg.seeds = raw.seeds as number[];
    if (cfg.split === undefined) throw new FieldProblem(['seeds', 'split'], '{} applies to the ID split: give {} too.');
    // Each seed seeds its split, its probe and its bootstrap, so that seed s of a run equals a run with seed s.
    if (isObj(raw.probe) && raw.probe.seed !== undefined)
      throw new FieldProblem(
        ['seeds', 'probe.seed'],
        'Give {} or {}, not both: each of the seeds seeds its split, its probe and its bootstrap.',
      );
  }
}

function parseSets(v: unknown, field: string, base: string): SetConfig[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) fail(field, 'an array of sets', v);
  return v.map((s, i) => parseSet(s, `${field}[${i}]`, base));
}

function parseProbe(v: unknown): ProbeConfig {
  if (v === undefined) return {};
  if (!isObj(v)) fail('probe', 'an object', v);
  checkKeys(v, 'probe', PROBE_KEYS);
  const p: ProbeConfig = {};
  const C = posNum(v, 'C', 'probe.');
  if (C !== undefined) p.C = C;
  if (v.sweep !== undefined) {
    if (typeof v.sweep !== 'boolean') fail('probe.sweep', 'true or false', v.sweep);
    p.sweep = v.sweep;
  }
  // Checked here, before any extraction, not only when the probe is fitted (fitProbe refuses it too).
  if (p.C !== undefined && p.sweep)
    throw new FieldProblem(
      ['probe.C', 'probe.sweep'],
      'Give either a fixed C ({}) or a C sweep ({}), not both: the sweep chooses C.',
      'Drop one of the two.',
    );
  const solver = oneOf(v, 'solver', 'probe.', SOLVERS);
  if (solver) p.solver = solver;
  const recipe = oneOf(v, 'recipe', 'probe.', RECIPES);
  if (recipe) p.recipe = recipe;
  if (v.weightDecay !== undefined) {
    const wd = v.weightDecay;
    if (typeof wd !== 'number' || !(wd >= 0)) fail('probe.weightDecay', 'a non-negative number', wd);
    p.weightDecay = wd;
  }
  const maxIter = posInt(v, 'maxIter', 'probe.');
  if (maxIter) p.maxIter = maxIter;
  if (v.seed !== undefined) {
    const s = v.seed;
    if (typeof s !== 'number' || !Number.isInteger(s) || s < 0) fail('probe.seed', 'a non-negative integer', s);
    p.seed = s;
  }
  return p;
}

function parseBaselines(v: unknown): ErBaselineInput[] | null {
  if (v === undefined || v === null) return null;
  // Shorthand: a bare list of points compares against the OOD average.
  const list = Array.isArray(v) && v.every((x) => isObj(x) && 'id' in x) ? [{ against: 'ood-average', points: v }] : v;
  if (!Array.isArray(list)) fail('baselines', 'an array of {against, label?, points: [{name?, id, ood}]}', v);
  return list.map((b, i) => {
    const f = `baselines[${i}]`;
    if (!isObj(b)) fail(f, 'an object', b);
    checkKeys(b, f, ['against', 'label', 'points']);
    const against = str(b, 'against', `${f}.`) ?? 'ood-average';
    const label = str(b, 'label', `${f}.`);
    const pts = b.points;
    if (!Array.isArray(pts) || pts.length < 2)
      fail(`${f}.points`, 'an array of at least two {id, ood} accuracy pairs', pts);
    const points = pts.map((p, j) => {
      const pf = `${f}.points[${j}]`;
      if (!isObj(p)) fail(pf, 'an object {name?, id, ood}', p);
      checkKeys(p, pf, ['name', 'id', 'ood']);
      for (const k of ['id', 'ood'] as const) {
        const x = p[k];
        if (typeof x !== 'number' || !(x > 0 && x < 1))
          fail(`${pf}.${k}`, 'an accuracy as a fraction strictly between 0 and 1', x);
      }
      const name = str(p, 'name', `${pf}.`);
      return { ...(name ? { name } : {}), id: p.id as number, ood: p.ood as number };
    });
    return { against, ...(label ? { label } : {}), points };
  });
}

/** Models named by their file (without .onnx) unless they say otherwise. */
function fileStem(path: string): string {
  return basename(path).replace(/\.onnx$/i, '');
}

function parseModels(raw: Obj, base: string, workDir: string): { students: ModelConfig[]; references: ModelConfig[] } {
  if (raw.student !== undefined && raw.students !== undefined)
    throw new FieldProblem(['student', 'students'], 'Give {} (one model) or {} (a list), not both.');
  const list = (k: 'students' | 'references'): ModelConfig[] => {
    const v = raw[k];
    if (v === undefined) return [];
    if (!Array.isArray(v) || (k === 'students' && v.length === 0))
      fail(k, `an array of models (${k === 'students' ? 'at least one' : 'possibly empty'})`, v);
    return v.map((m, i) => {
      const field = `${k}[${i}]`;
      const path = typeof m === 'string' ? m : isObj(m) && typeof m.path === 'string' ? m.path : '';
      return parseModel(m, field, fileStem(path) || `${k.slice(0, -1)}-${i + 1}`, base, workDir);
    });
  };
  const students =
    raw.students !== undefined
      ? list('students')
      : raw.student === undefined
        ? fail('student', 'the student model ({path, ...} or a path)', undefined)
        : [parseModel(raw.student, 'student', 'student', base, workDir)];
  return { students, references: list('references') };
}

/** Field paths of each model, for messages: teacher, student / students[i], references[i]. */
function modelFields(cfg: RunConfig, raw: Obj): [string, ModelConfig][] {
  return [
    ['teacher', cfg.teacher],
    ...cfg.students.map(
      (m, i) => [raw.students !== undefined ? `students[${i}]` : 'student', m] as [string, ModelConfig],
    ),
    ...cfg.references.map((m, i) => [`references[${i}]`, m] as [string, ModelConfig]),
  ];
}

function setFields(cfg: RunConfig): [string, SetConfig][] {
  return [
    ['train', cfg.train],
    ...cfg.test.map((s, i) => [`test[${i}]`, s] as [string, SetConfig]),
    ...cfg.ood.map((s, i) => [`ood[${i}]`, s] as [string, SetConfig]),
  ];
}

export interface ParseOptions {
  /** How errors name fields (default: config field names). */
  nameOf?: FieldNamer;
}

/**
 * Parses and validates an experiment config object (the JSON of schema/experiment.schema.json) into a
 * complete, frozen RunConfig; relative paths are resolved against `baseDir`; errors name fields by `o.nameOf`
 * (the CLI names the fields its flags gave by the flag). Files are not checked here (runExperiment does that first).
 *
 * @throws FcprobeError BAD_CONFIG (BAD_OPTION for a field named by a flag) naming the first field that is missing,
 *   unknown or of the wrong type or value (`Expected config field "teacher.path" to be a non-empty string, got
 *   nothing.`).
 */
export function parseRunConfig(raw: unknown, baseDir: string, o: ParseOptions = {}): RunConfig {
  try {
    return parseUnnamed(raw, baseDir);
  } catch (e) {
    if (e instanceof FieldProblem) throw userError(e, o.nameOf ?? configFieldName);
    throw e;
  }
}

function parseUnnamed(raw: unknown, baseDir: string): RunConfig {
  if (!isObj(raw)) fail('(top level)', 'a JSON object', raw);
  checkKeys(raw, '', TOP_KEYS);
  // First, before any model or folder is looked at: the caps (src/options.ts) bound what the run would start.
  for (const k of ['threads', 'seeds'] as const) {
    const c = CONFIG_TOP_FIELDS[k].check;
    if (raw[k] !== undefined && !satisfies(c, raw[k])) fail(k, describe(c, 'value'), raw[k]);
  }
  const workDir = pathOf(baseDir, str(raw, 'workDir', '', true));
  const cfg: RunConfig = {
    workDir,
    teacher: parseModel(raw.teacher, 'teacher', 'teacher', baseDir, workDir),
    ...parseModels(raw, baseDir, workDir),
    train:
      raw.train === undefined
        ? fail('train', 'the ID training set ({name, path} or a path)', undefined)
        : parseSet(raw.train, 'train', baseDir),
    test: parseSets(raw.test, 'test', baseDir),
    ood: parseSets(raw.ood, 'ood', baseDir),
    probe: parseProbe(raw.probe),
    baselines: parseBaselines(raw.baselines),
  };
  const title = str(raw, 'title', '');
  if (title) cfg.title = title;
  const providers = str(raw, 'providers', '');
  if (providers) cfg.providers = providers;
  const threads = posInt(raw, 'threads', '');
  if (threads) cfg.threads = threads;
  const batchSize = posInt(raw, 'batchSize', '');
  if (batchSize) cfg.batchSize = batchSize;
  if (raw.bootstrap !== undefined) {
    const b = raw.bootstrap;
    if (typeof b !== 'number' || !Number.isInteger(b) || b < 0 || b > 1_000_000)
      fail('bootstrap', 'a whole number of bootstrap replicates from 0 (off) to 1000000', b);
    cfg.bootstrap = b;
  }
  parseSplit(raw, cfg);
  if (raw.presentClassesOnly !== undefined) {
    if (typeof raw.presentClassesOnly !== 'boolean')
      fail('presentClassesOnly', 'true or false', raw.presentClassesOnly);
    if (raw.presentClassesOnly) cfg.presentClassesOnly = true;
  }
  // Features, probes and results are keyed by model name: two models of one name would overwrite each other,
  // also on a case-insensitive file system (names are compared by nameKey).
  const modelNames = new Map<string, string>();
  for (const [field, m] of modelFields(cfg, raw)) {
    checkName(`${field}.name`, m.name);
    const prev = modelNames.get(nameKey(m.name));
    if (prev !== undefined)
      throw new FieldProblem(
        [prev, field],
        `{} and {} are both named "${m.name}" (names are compared ignoring case); models need distinct names.`,
        'Give the files different names, or give each model a "name" in a config.',
      );
    modelNames.set(nameKey(m.name), field);
  }
  // A distilled student's backbone features are a model of their own in the work dir.
  for (const [field, m] of modelFields(cfg, raw)) {
    const bb = backboneModelName(m.name);
    const other = m.distill ? modelNames.get(bb) : undefined;
    if (other !== undefined)
      throw new FieldProblem(
        [other, field],
        `{} is named "${bb}", the name under which the backbone of {} is extracted.`,
        'Rename one of the two models.',
      );
  }
  const names = new Map<string, [string, SetConfig]>();
  for (const [field, s] of setFields(cfg)) {
    checkName(`${field}.name`, s.name);
    const prev = names.get(nameKey(s.name));
    if (prev) {
      const [prevField, prevSet] = prev;
      if (prevSet.path === s.path)
        throw new FieldProblem(
          [prevField, field],
          `{} and {} are the same folder (${s.path}).`,
          field.startsWith('test') && prevField === 'train'
            ? 'Testing on the training images measures nothing; give a separate test folder, or divide one folder ' +
                'with a split.'
            : 'Give each set its own folder (or distinct names, to use one folder twice on purpose).',
        );
      throw new FieldProblem(
        [prevField, field],
        `{} and {} are both named "${s.name}" (names are compared ignoring case); sets need distinct names.`,
        'Folders of the same name need a config with a "name" for each set.',
      );
    }
    names.set(nameKey(s.name), [field, s]);
  }
  // ID accuracy is the report's reference point: without an ID test set nothing can be compared.
  if (cfg.test.length === 0 && cfg.split === undefined)
    throw new FieldProblem(
      ['test', 'split'],
      'Expected an ID test set: give {}, or {} to hold out part of the training folder.',
      'e.g. a fraction of 0.3 holds out 30% of each class, stratified and seeded.',
    );
  if (cfg.test.length > 0 && cfg.split !== undefined)
    throw new FieldProblem(['test', 'split'], 'Give {} or {}, not both: the split is the ID test set.');
  return Object.freeze(cfg);
}

/**
 * Model and set names become folder names under the work folder (features/<model>/<set>, probes/<model>): a
 * name must be a plain file name of letters, digits, spaces, '.', '_', '+' and '-', start with a letter or digit
 * (no '.', '..' or hidden names), not end with a space, and be at most 64 characters. Spaces are allowed because
 * the suite's set names are display names ("ImageNet train"). Names derived from a path are held to the same
 * rule, so a folder named "photos/" needs an explicit "name".
 */
export const NAME_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9._+ -]{0,62}[A-Za-z0-9._+-])?$/;

function checkName(field: string, name: string): void {
  if (!NAME_PATTERN.test(name))
    fail(
      field,
      "a name of letters, digits, spaces, '.', '_', '+' or '-' starting with a letter or digit (it becomes a folder " +
        'name: no path separators, no dot names, at most 64 characters)',
      name,
    );
}

/** Names that differ only in case (or Unicode form) share a folder on case-insensitive file systems. */
function nameKey(name: string): string {
  return name.normalize('NFC').toLowerCase();
}

/**
 * The config file's JSON object, the folder its relative paths are resolved against, and warnings about it
 * (a key given twice in one object: JSON keeps the last one, which is rarely what the author meant).
 * @throws FcprobeError BAD_CONFIG (exit 2, as a bad --config value) when the file is missing, not a JSON object,
 *   or nested deeper than MAX_JSON_DEPTH.
 */
export function readRawConfig(path: string): { raw: Record<string, unknown>; baseDir: string; warnings: string[] } {
  if (!existsSync(path) || !statSync(path).isFile())
    throw new FcprobeError('BAD_CONFIG', `Config file ${path} does not exist.`);
  const { value: raw, duplicateKeys } = parseJsonText(
    readFileSync(path, 'utf8'),
    (why) => new FcprobeError('BAD_CONFIG', `Config file ${path} is not valid JSON: ${why}`),
  );
  if (!isObj(raw))
    throw new FcprobeError('BAD_CONFIG', `Config file ${path} holds ${JSON.stringify(raw)}, not a JSON object.`);
  const warnings = duplicateKeys.map(
    (k) => `warning: config file ${path} gives the key "${k}" more than once; the last one is used.`,
  );
  return { raw, baseDir: dirname(resolve(path)), warnings };
}

/**
 * Reads and validates a JSON experiment config file; relative paths in it are resolved against its folder.
 *
 * @throws FcprobeError BAD_CONFIG when the file does not exist, is not valid JSON or not a valid config (see
 *   parseRunConfig).
 */
export function readRunConfig(path: string): RunConfig {
  const { raw, baseDir } = readRawConfig(path);
  return parseRunConfig(raw, baseDir);
}

/**
 * Fails early (before any extraction) when a file or folder the config names is missing.
 * @throws FcprobeError NOT_FOUND naming the field (`nameOf`: in the user's terms).
 */
export function checkConfigPaths(cfg: RunConfig, nameOf: FieldNamer = configFieldName): void {
  const models: [string, ModelConfig][] = [
    ['teacher', cfg.teacher],
    ...cfg.students.map(
      (m, i) => [cfg.students.length === 1 ? 'student' : `students[${i}]`, m] as [string, ModelConfig],
    ),
    ...cfg.references.map((m, i) => [`references[${i}]`, m] as [string, ModelConfig]),
  ];
  for (const [field, m] of models) {
    if (m.distill) {
      const bb = m.distill.backbone;
      if (!existsSync(bb) || !statSync(bb).isFile())
        throw new FcprobeError(
          'NOT_FOUND',
          `${cap(nameOf(`${field}.distill.backbone`))}: model file ${bb} does not exist.`,
        );
      continue;
    }
    if (!existsSync(m.path) || !statSync(m.path).isFile())
      throw new FcprobeError('BAD_MODEL', `${cap(nameOf(`${field}.path`))}: model file ${m.path} does not exist.`);
  }
  for (const [field, s] of setFields(cfg)) {
    // Tar shards (a pattern, list file or .tar) are checked when listed.
    if (!isTarData(s.path) && (!existsSync(s.path) || !statSync(s.path).isDirectory()))
      throw new FcprobeError('NOT_FOUND', `${cap(nameOf(`${field}.path`))}: folder ${s.path} does not exist.`);
    if (s.classes && !existsSync(s.classes))
      throw new FcprobeError('NOT_FOUND', `${cap(nameOf(`${field}.classes`))}: file ${s.classes} does not exist.`);
  }
}
