/**
 * `fcprobe run` flags as config fields: which field each flag fills, how flags and a config file combine
 * (a flag overrides its field and says so; a flag that cannot combine is an error), and how errors name a
 * field in the terms the user used (`--student-pool` for a flag, `config field "student.pool"` for a file).
 */
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { FcprobeError } from '../errors.js';
import { configFieldName, type FieldNamer } from '../experiment/config.js';

/** The preprocessing fields a model takes from `--teacher-*` / `--student-*` flags. */
export const MODEL_FLAG_FIELDS = [
  'output',
  'pool',
  'preset',
  'resize',
  'crop',
  'interpolation',
  'mean',
  'std',
] as const;
type ModelFlagField = (typeof MODEL_FLAG_FIELDS)[number];
type ModelFlags = { [K in ModelFlagField as `teacher${Capitalize<K>}` | `student${Capitalize<K>}`]?: unknown };

export interface RunFlags extends ModelFlags {
  config?: string;
  teacher?: string;
  student?: string[];
  reference?: string[];
  train?: string;
  test?: string[];
  ood?: string[];
  work?: string;
  preset?: string;
  C?: number;
  /** commander names the --C-sweep switch CSweep (camel case of "C-sweep"). */
  CSweep?: boolean;
  solver?: string;
  recipe?: string;
  weightDecay?: number;
  suite?: string;
  dataRoot?: string;
  trainPerClass?: number;
  ep?: string;
  threads?: number;
  batch?: number;
  split?: number;
  seed?: number;
  seeds?: number[];
  bootstrap?: number;
  presentClassesOnly?: boolean;
}

/** One config field a flag gives: `path` into the raw config ('*' = every student), the value, the flag. */
export interface FlagField {
  path: (string | '*')[];
  value: unknown;
  flag: string;
}

const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
const kebab = (s: string): string => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

const TOP_FLAGS: Record<string, string> = {
  workDir: '--work',
  providers: '--ep',
  threads: '--threads',
  batchSize: '--batch',
  train: '--train',
  test: '--test',
  ood: '--ood',
  teacher: '--teacher',
  student: '--student',
  students: '--student',
  references: '--reference',
  split: '--split',
  seeds: '--seeds',
  bootstrap: '--bootstrap',
  presentClassesOnly: '--present-classes-only',
};
const PROBE_FLAGS: Record<string, string> = {
  C: '--C',
  sweep: '--C-sweep',
  solver: '--solver',
  recipe: '--recipe',
  weightDecay: '--weight-decay',
  seed: '--seed',
};

/**
 * The flag that fills a config field (`students[1].crop` -> `--student-crop`), or undefined when no flag does.
 */
export function flagOfField(field: string): string | undefined {
  const parts = field.replace(/\[\d+\]/g, '').split('.');
  const [top, sub] = parts;
  if (top === undefined) return undefined;
  if (top === 'probe') return sub === undefined ? undefined : PROBE_FLAGS[sub];
  const flag = TOP_FLAGS[top];
  if (!flag || sub === undefined || sub === 'path' || sub === 'name') return flag;
  if (top === 'teacher' || top === 'student' || top === 'students')
    return (MODEL_FLAG_FIELDS as readonly string[]).includes(sub) ? `${flag}-${kebab(sub)}` : undefined;
  return flag;
}

const abs = (p: string): string => resolve(p);

/** The config fields the flags give (paths made absolute: they are relative to the working directory). */
export function flagFields(f: RunFlags): FlagField[] {
  const out: FlagField[] = [];
  const add = (path: (string | '*')[], value: unknown, flag: string): void => {
    if (value !== undefined) out.push({ path, value, flag });
  };
  add(['workDir'], f.work && abs(f.work), '--work');
  add(['teacher', 'path'], f.teacher && abs(f.teacher), '--teacher');
  // Students given by flag are named by their files, so another run in the same work dir adds to it.
  add(
    ['students'],
    f.student?.map((p) => ({ path: abs(p) })),
    '--student',
  );
  add(
    ['references'],
    f.reference?.map((p) => ({ path: abs(p) })),
    '--reference',
  );
  for (const k of MODEL_FLAG_FIELDS) {
    const shared = k === 'preset' ? f.preset : undefined;
    const t = f[`teacher${cap(k)}` as keyof ModelFlags] ?? shared;
    const s = f[`student${cap(k)}` as keyof ModelFlags] ?? shared;
    const flag = (who: string): string =>
      f[`${who}${cap(k)}` as keyof ModelFlags] !== undefined ? `--${who}-${kebab(k)}` : '--preset';
    add(['teacher', k], t, flag('teacher'));
    add(['students', '*', k], s, flag('student'));
  }
  if (f.preset !== undefined) add(['references', '*', 'preset'], f.preset, '--preset');
  add(['train'], f.train && abs(f.train), '--train');
  add(['test'], f.test?.map(abs), '--test');
  add(['ood'], f.ood?.map(abs), '--ood');
  add(['probe', 'C'], f.C, '--C');
  add(['probe', 'sweep'], f.CSweep ? true : undefined, '--C-sweep');
  add(['probe', 'solver'], f.solver, '--solver');
  add(['probe', 'recipe'], f.recipe, '--recipe');
  add(['probe', 'weightDecay'], f.weightDecay, '--weight-decay');
  add(['providers'], f.ep, '--ep');
  add(['threads'], f.threads, '--threads');
  add(['batchSize'], f.batch, '--batch');
  add(['split'], f.split, '--split');
  add(['probe', 'seed'], f.seed, '--seed');
  add(['bootstrap'], f.bootstrap, '--bootstrap');
  add(['seeds'], f.seeds, '--seeds');
  add(['presentClassesOnly'], f.presentClassesOnly, '--present-classes-only');
  return out;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `student` (one) becomes `students` so that '*' paths and --student apply the same way to both forms. */
function normalizeStudents(raw: Obj): void {
  if (raw.student !== undefined && raw.students === undefined) {
    raw.students = [raw.student];
    delete raw.student;
  }
}

/** Sets `value` at `path` in `raw` (a model given as a path string becomes {path}); returns what was there. */
function setField(raw: Obj, path: (string | '*')[], value: unknown): unknown[] {
  const [head, ...rest] = path;
  if (head === undefined) return [];
  if (head === '*') {
    if (!Array.isArray(raw)) return [];
    return (raw as unknown[]).flatMap((item, i) => {
      const o = typeof item === 'string' ? { path: item } : item;
      (raw as unknown[])[i] = o;
      return isObj(o) ? setField(o, rest, value) : [];
    });
  }
  if (rest.length === 0) {
    const before = raw[head];
    raw[head] = value;
    return [before];
  }
  let next = raw[head];
  if (typeof next === 'string') next = { path: next };
  if (next === undefined) next = rest[0] === '*' ? [] : {};
  raw[head] = next;
  return setField(next as Obj, rest, value);
}

/** A model's name when it has none: its file name without .onnx (as config.ts names students). */
const stemOf = (path: string): string => basename(path).replace(/\.onnx$/i, '');

/**
 * A teacher given by --teacher is named after its file, as students are, so that runs with different teachers
 * are told apart in reports and in `compare`. Two exceptions keep the old name "teacher": a work dir that
 * already holds `features/teacher/` (made by an earlier fcprobe, which named every flag teacher so; renaming
 * would extract hours of features again under the new name) and a file name a student or reference also has
 * (the models would collide, where "teacher" did not).
 */
function nameFlagTeacher(raw: Obj, baseDir: string): void {
  const t = raw.teacher;
  if (!isObj(t) || t.name !== undefined || typeof t.path !== 'string') return;
  const stem = stemOf(t.path);
  const work = typeof raw.workDir === 'string' ? resolve(baseDir, raw.workDir) : undefined;
  if (work && existsSync(join(work, 'features', 'teacher')) && !existsSync(join(work, 'features', stem))) return;
  const others = ['student', 'students', 'references'].flatMap((k) => {
    const v = raw[k];
    return (Array.isArray(v) ? v : v === undefined ? [] : [v]) as unknown[];
  });
  const names = others.map((m) =>
    typeof m === 'string' ? stemOf(m) : isObj(m) ? String(m.name ?? stemOf(String(m.path ?? ''))) : '',
  );
  if (names.some((n) => n.toLowerCase() === stem.toLowerCase())) return;
  t.name = stem;
}

export interface MergedConfig {
  raw: Obj;
  /** Names config fields in the user's terms. */
  nameOf: FieldNamer;
  /** "--C 0.01 overrides probe.C (was 1)" for each flag that replaced a field of the config file. */
  overrides: string[];
}

/**
 * Raw config from the flags alone (`config` undefined) or the config file's object with the flags laid over
 * it. Paths in `config` are relative to the file's folder, `baseDir`.
 * @throws FcprobeError BAD_OPTION when a flag cannot combine with the config (--suite with sets in the file).
 */
export function mergeFlags(f: RunFlags, config: Obj | undefined, baseDir?: string): MergedConfig {
  const fields = flagFields(f);
  if (!config) {
    const raw: Obj = {};
    for (const x of fields) setField(raw, x.path, x.value);
    if (f.student?.length === 0) delete raw.students;
    if (f.teacher !== undefined) nameFlagTeacher(raw, process.cwd());
    return { raw, nameOf: (field) => flagOfField(field) ?? configFieldName(field), overrides: [] };
  }
  const raw: Obj = structuredClone(config);
  // Only when a flag sets students: otherwise errors keep naming "student" as the file does.
  if (fields.some((x) => x.path[0] === 'students')) normalizeStudents(raw);
  if (f.suite && ['train', 'test', 'ood'].some((k) => raw[k] !== undefined))
    throw new FcprobeError(
      'BAD_OPTION',
      `--suite cannot combine with a config that lists sets ` +
        `(${['train', 'test', 'ood'].filter((k) => raw[k] !== undefined).join(', ')}).`,
      'Leave the sets out of the config to take them from the suite, or leave out --suite.',
    );
  const overrides: string[] = [];
  const byFlag: { prefix: string; flag: string }[] = [];
  for (const x of fields) {
    const before = setField(raw, x.path, x.value);
    const field = x.path.join('.').replace('.*', '[*]');
    const prefix = x.path[1] === '*' ? `${String(x.path[0])}.${String(x.path[2])}` : field;
    byFlag.push({ prefix, flag: x.flag });
    const was = before.filter((b) => b !== undefined);
    if (was.length > 0)
      overrides.push(
        `${x.flag} ${JSON.stringify(x.value)} overrides ${field} (was ` +
          `${[...new Set(was.map((w) => JSON.stringify(w)))].join(', ')})`,
      );
  }
  if (f.teacher !== undefined) nameFlagTeacher(raw, baseDir ?? process.cwd());
  const nameOf: FieldNamer = (field) => {
    const plain = field.replace(/\[\d+\]/g, '');
    const hit = byFlag.find((b) => plain === b.prefix || plain.startsWith(`${b.prefix}.`));
    return hit ? hit.flag : configFieldName(field);
  };
  return { raw, nameOf, overrides };
}
