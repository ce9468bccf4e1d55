/**
 * The model catalog, models/catalog.json (schema: schema/models-catalog.schema.json): the paper's teachers
 * and common students with where an ONNX export is published or how to make one, the preprocessing and the
 * output the protocol uses. Read once, checked field by field before it is trusted.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FcprobeError } from '../errors.js';
import { INTERPOLATIONS, POOLS, PRESET_NAMES, type PoolName } from '../options.js';
import { parseJsonText } from '../io/json.js';
import { hubRefProblem } from './reference.js';

export interface CatalogPreset {
  preset: (typeof PRESET_NAMES)[number];
  resize: number;
  crop: number;
  interpolation: (typeof INTERPOLATIONS)[number];
  mean: [number, number, number];
  std: [number, number, number];
}

export type CatalogExport =
  | { kind: 'hub'; repo: string; path: string; revision: string; sha256: string | null; note: string }
  | { kind: 'script'; script: string; command: string; note: string };

export interface CatalogEntry {
  name: string;
  title: string;
  weights: string;
  license: string;
  export: CatalogExport;
  input: { name: string; layout: 'NCHW'; size: number };
  preset: CatalogPreset;
  output: { name: string; pool: 'none' | PoolName; featureDim: number; why: string };
}

export interface Catalog {
  version: 1;
  models: CatalogEntry[];
}

/** Field names at each level; test/models/catalog.test.ts checks the schema's lists agree. */
export const CATALOG_FIELDS = {
  entry: ['name', 'title', 'weights', 'license', 'export', 'input', 'preset', 'output'],
  hub: ['kind', 'repo', 'path', 'revision', 'sha256', 'note'],
  script: ['kind', 'script', 'command', 'note'],
  input: ['name', 'layout', 'size'],
  preset: ['preset', 'resize', 'crop', 'interpolation', 'mean', 'std'],
  output: ['name', 'pool', 'featureDim', 'why'],
} as const;

const CATALOG_MARKER = join('models', 'catalog.json');

/** Absolute path of models/catalog.json, searched upwards from this module (dist/src/models or src/models). */
export function catalogPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 6; up++) {
    if (existsSync(join(dir, CATALOG_MARKER))) return join(dir, CATALOG_MARKER);
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new FcprobeError(
    'IO',
    `fcprobe's model catalog (${CATALOG_MARKER}) was not found above ${dirname(fileURLToPath(import.meta.url))}.`,
    'The package is incomplete: reinstall fcprobe, or run it from a checkout that has models/.',
  );
}

/**
 * Where the export scripts are: models/export/ beside the catalog, shipped in the npm package too. Relative to
 * the current folder when inside it (`models/export` in a checkout's root), else absolute: a hint names a file
 * the user has, not the repository's path.
 */
export function exportScriptsDir(): string {
  const dir = join(dirname(catalogPath()), 'export');
  const rel = relative(process.cwd(), dir);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : dir;
}

/** A text naming `models/export/...` (a catalog export command, a hint) with the scripts' real location. */
export function withExportScripts(text: string): string {
  return text.replace(/(^|[\s(])models\/export\//g, (_, pre: string) => `${pre}${join(exportScriptsDir(), '/')}`);
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks a parsed catalog; returns it typed, or throws IO naming the first bad field (`models[2].preset.crop`).
 * Exported for the tests, which also feed it broken catalogs.
 */
export function validateCatalog(raw: unknown, source = 'models/catalog.json'): Catalog {
  const err = (field: string, expected: string): FcprobeError =>
    new FcprobeError('IO', `${source}: field ${field} should be ${expected}.`, 'Reinstall fcprobe.');
  const fail = (field: string, expected: string): never => {
    throw err(field, expected);
  };
  const keys = (o: Obj, field: string, allowed: readonly string[]): void => {
    for (const k of allowed) if (!(k in o)) fail(`${field}.${k}`, 'present');
    for (const k of Object.keys(o)) if (!allowed.includes(k)) fail(`${field}.${k}`, 'absent (unknown field)');
  };
  const str = (o: Obj, k: string, field: string): void => {
    if (typeof o[k] !== 'string' || o[k] === '') fail(`${field}.${k}`, 'a non-empty string');
  };
  const posInt = (o: Obj, k: string, field: string): void => {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) fail(`${field}.${k}`, 'a positive integer');
  };
  const triple = (o: Obj, k: string, field: string, positive: boolean): void => {
    const v = o[k];
    if (!Array.isArray(v) || v.length !== 3 || !v.every((x) => typeof x === 'number' && (positive ? x > 0 : x >= 0)))
      fail(`${field}.${k}`, `three ${positive ? 'positive' : 'non-negative'} numbers`);
  };
  const oneOf = (o: Obj, k: string, field: string, values: readonly string[]): void => {
    if (!values.includes(o[k] as string)) fail(`${field}.${k}`, `one of ${values.join(', ')}`);
  };
  if (!isObj(raw) || raw.version !== 1 || !Array.isArray(raw.models))
    fail('(top level)', '{"version": 1, "models": [...]}');
  const names = new Set<string>();
  for (const [i, m] of (raw as { models: unknown[] }).models.entries()) {
    const f = `models[${i}]`;
    if (!isObj(m)) throw err(f, 'an object');
    keys(m, f, CATALOG_FIELDS.entry);
    for (const k of ['name', 'title', 'weights', 'license']) str(m, k, f);
    const name = m.name as string;
    if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) fail(`${f}.name`, 'lower-case letters, digits and dashes');
    if (names.has(name)) fail(`${f}.name`, `unique (${name} appears twice)`);
    names.add(name);
    const ex = m.export;
    if (!isObj(ex)) throw err(`${f}.export`, 'an object');
    if (ex.kind === 'hub') {
      keys(ex, `${f}.export`, CATALOG_FIELDS.hub);
      for (const k of ['repo', 'path', 'revision', 'note']) str(ex, k, `${f}.export`);
      if (!/^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*$/.test(ex.repo as string)) fail(`${f}.export.repo`, 'owner/name');
      if (!(ex.path as string).endsWith('.onnx')) fail(`${f}.export.path`, 'a .onnx file');
      // The same check as an hf: reference on the command line: a catalog entry must not be able to make
      // `models pull` write outside the cache (export.path "../../x.onnx", revision "..").
      const problem = hubRefProblem({
        repo: ex.repo as string,
        path: ex.path as string,
        revision: ex.revision as string,
      });
      if (problem !== null) fail(`${f}.export`, `a safe hub reference (${problem})`);
      if (ex.sha256 !== null && !(typeof ex.sha256 === 'string' && /^[0-9a-f]{64}$/.test(ex.sha256)))
        fail(`${f}.export.sha256`, 'null or 64 lower-case hex digits');
    } else if (ex.kind === 'script') {
      keys(ex, `${f}.export`, CATALOG_FIELDS.script);
      for (const k of ['script', 'command', 'note']) str(ex, k, `${f}.export`);
    } else fail(`${f}.export.kind`, 'hub or script');
    const inp = m.input;
    if (!isObj(inp)) throw err(`${f}.input`, 'an object');
    keys(inp, `${f}.input`, CATALOG_FIELDS.input);
    str(inp, 'name', `${f}.input`);
    oneOf(inp, 'layout', `${f}.input`, ['NCHW']);
    posInt(inp, 'size', `${f}.input`);
    const p = m.preset;
    if (!isObj(p)) throw err(`${f}.preset`, 'an object');
    keys(p, `${f}.preset`, CATALOG_FIELDS.preset);
    oneOf(p, 'preset', `${f}.preset`, PRESET_NAMES);
    posInt(p, 'resize', `${f}.preset`);
    posInt(p, 'crop', `${f}.preset`);
    if ((p.resize as number) < (p.crop as number)) fail(`${f}.preset.resize`, 'at least the crop');
    if (p.crop !== inp.size) fail(`${f}.preset.crop`, `the input size ${String(inp.size)}`);
    oneOf(p, 'interpolation', `${f}.preset`, INTERPOLATIONS);
    triple(p, 'mean', `${f}.preset`, false);
    triple(p, 'std', `${f}.preset`, true);
    const o = m.output;
    if (!isObj(o)) throw err(`${f}.output`, 'an object');
    keys(o, `${f}.output`, CATALOG_FIELDS.output);
    str(o, 'name', `${f}.output`);
    oneOf(o, 'pool', `${f}.output`, ['none', ...POOLS]);
    posInt(o, 'featureDim', `${f}.output`);
    str(o, 'why', `${f}.output`);
  }
  return raw as unknown as Catalog;
}

let cached: Catalog | null = null;

/** The shipped catalog, read and validated once. Throws IO when it is missing or corrupt. */
export function loadCatalog(): Catalog {
  if (cached) return cached;
  const path = catalogPath();
  const raw = parseJsonText(
    readFileSync(path, 'utf8'),
    (why) => new FcprobeError('IO', `${path} is not valid JSON: ${why}`, 'Reinstall fcprobe.'),
  ).value;
  cached = validateCatalog(raw, path);
  return cached;
}

export function findCatalogEntry(name: string, catalog: Catalog = loadCatalog()): CatalogEntry | null {
  return catalog.models.find((m) => m.name === name) ?? null;
}
