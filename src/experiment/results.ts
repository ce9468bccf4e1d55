/**
 * <work-dir>/results.json: everything `run` measured (the inputs of report/build.ts), so that
 * `fcprobe report <work-dir>` re-renders without touching models or features.
 *
 * JSON has no NaN: undefined measures (CKA of a constant matrix, say) are stored as the strings "NaN",
 * "Infinity", "-Infinity" and read back as numbers, except inside the config echo, which is kept verbatim.
 */
import { existsSync, readFileSync } from 'node:fs';
import { cpus, totalmem, platform, arch } from 'node:os';
import { join } from 'node:path';
import { FcprobeError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { parseJsonText } from '../io/json.js';
import { checkResultsNumbers } from './resultsCheck.js';
import type { JsonValue, MachineInfo, MissingSetEntry, RunResults, SetRecord, SuiteSetRecord } from './types.js';

export const RESULTS_FILE = 'results.json';

const NON_FINITE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };
/** Keys whose values are names chosen by the user, never encoded numbers. */
const TEXT_KEYS = new Set([
  'name',
  'set',
  'model',
  'label',
  'against',
  'stage',
  'path',
  'reason',
  'scoring',
  'title',
  'solver',
  'teacher',
  'student',
  'accuracyInterval',
  'gapInterval',
  'gapTest',
  'idSets',
  'oodSets',
  'files',
  'folder',
  'foldersTried',
  'notes',
  'missing',
  'what',
  'suiteId',
  'dataRoot',
]);

export function resultsPath(workDir: string): string {
  return join(workDir, RESULTS_FILE);
}

export function serializeResults(results: RunResults): string {
  return `${JSON.stringify(
    results,
    (key, value: unknown) => {
      if (key === 'config') return value;
      if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
      return value;
    },
    2,
  )}\n`;
}

function revive(value: unknown, key: string): unknown {
  if (key === 'config') return value;
  if (typeof value === 'string') return !TEXT_KEYS.has(key) && value in NON_FINITE ? NON_FINITE[value] : value;
  if (Array.isArray(value)) return value.map((v) => revive(v, key));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = revive(v, k);
    return out;
  }
  return value;
}

export function parseResults(text: string, where = RESULTS_FILE): RunResults {
  // Depth-capped: a deeply nested file would overflow revive's recursion (an "internal error").
  const raw = parseJsonText(text, (why) => new FcprobeError('BAD_DATA', `${where} is not valid JSON: ${why}`)).value;
  const r = revive(raw, '') as Partial<RunResults> | null;
  if (!r || typeof r !== 'object' || r.format !== 'fcprobe-results') {
    throw new FcprobeError(
      'BAD_DATA',
      `${where} is not an fcprobe results file (expected "format": "fcprobe-results").`,
    );
  }
  if (r.formatVersion !== 2) {
    throw new FcprobeError(
      'BAD_DATA',
      `${where} has results format version ${JSON.stringify(r.formatVersion)}; this fcprobe reads version 2.`,
      'Re-run `fcprobe run` with this version (extracted features are reused).',
    );
  }
  for (const k of [
    'models',
    'sets',
    'accuracy',
    'gaps',
    'contamination',
    'probes',
    'representationFit',
    'asymmetry',
    'timings',
  ] as const) {
    if (!Array.isArray(r[k]))
      throw new FcprobeError(
        'BAD_DATA',
        `${where}: expected "${k}" to be an array, got ${JSON.stringify(r[k] ?? null)}.`,
      );
  }
  if (!r.statistics || typeof r.statistics !== 'object')
    throw new FcprobeError('BAD_DATA', `${where}: expected "statistics" (how the intervals were made).`);
  if (r.baselines !== null && r.baselines !== undefined && !Array.isArray(r.baselines)) {
    throw new FcprobeError('BAD_DATA', `${where}: expected "baselines" to be an array or null.`);
  }
  // The sets' own shape first (its messages are the more specific), then every number.
  const shaped = suiteSets(r as { sets: unknown[]; suite?: unknown }, where);
  checkResultsNumbers(r as Record<string, unknown>, where);
  return {
    ...r,
    ...shaped,
    baselines: r.baselines ?? null,
    config: (r.config ?? null) as JsonValue,
  } as RunResults;
}

const ROLES = new Set(['id-train', 'id-test', 'ood']);

/**
 * `sets` and `suite` checked and in this version's shape: every entry found (`found: true`, also where results
 * of earlier versions have no `found`) or missing (`found: false` with the folders tried); a suite's missing
 * sets that earlier versions kept only in `suite.sets` become entries of `sets`, and `suite` keeps its name,
 * data root and presentClassesOnly.
 */
function suiteSets(r: { sets: unknown[]; suite?: unknown }, where: string): Pick<RunResults, 'sets' | 'suite'> {
  const bad = (what: string): FcprobeError => new FcprobeError('BAD_DATA', `${where}: ${what}.`);
  const sets: SetRecord[] = r.sets.map((x, i) => {
    const e = x as Partial<SetRecord> | null;
    if (!e || typeof e !== 'object' || typeof e.name !== 'string' || !ROLES.has(e.role as string))
      throw bad(`sets[${i}] is not a set (expected a name and a role id-train, id-test or ood)`);
    if (e.found === false) {
      if (!Array.isArray(e.foldersTried) || !e.foldersTried.every((f) => typeof f === 'string'))
        throw bad(`sets[${i}] ("${e.name}") is missing but has no list of the folders tried`);
      if (e.role === 'id-train')
        throw bad(`sets[${i}] ("${e.name}") is the training set and missing: such a run cannot have results`);
      return e as MissingSetEntry;
    }
    if (e.found !== undefined && e.found !== true)
      throw bad(`sets[${i}] ("${e.name}") has found ${JSON.stringify(e.found)}`);
    if (!Number.isSafeInteger((e as { n?: unknown }).n) || typeof (e as { path?: unknown }).path !== 'string')
      throw bad(`sets[${i}] ("${e.name}") is found but has no image count n or no path`);
    return { ...e, found: true } as SetRecord;
  });
  if (r.suite === undefined || r.suite === null) return { sets };
  const s = r.suite as { name?: unknown; dataRoot?: unknown; presentClassesOnly?: unknown; sets?: unknown };
  if (typeof s.name !== 'string' || typeof s.dataRoot !== 'string')
    throw bad('expected "suite" to name the suite and its data root');
  // Results of earlier versions: missing sets only in suite.sets.
  if (Array.isArray(s.sets)) {
    const names = new Set(sets.map((x) => x.name));
    for (const x of s.sets as Partial<SuiteSetRecord>[])
      if (x && x.found === false && typeof x.title === 'string' && !names.has(x.title) && Array.isArray(x.foldersTried))
        sets.push({
          found: false,
          name: x.title,
          role: x.role === 'id' ? 'id-test' : 'ood',
          suiteId: String(x.id),
          foldersTried: x.foldersTried.map(String),
          scoring: String(x.scoring ?? ''),
          notes: Array.isArray(x.notes) ? x.notes.map(String) : [],
        });
  }
  return { sets, suite: { name: s.name, dataRoot: s.dataRoot, presentClassesOnly: s.presentClassesOnly === true } };
}

export function writeResults(workDir: string, results: RunResults): string {
  const path = resultsPath(workDir);
  writeFileAtomic(path, serializeResults(results));
  return path;
}

/**
 * Reads and checks `<workDir>/results.json` (written by runExperiment).
 *
 * @throws FcprobeError NOT_FOUND when the file is missing; BAD_DATA when it is not valid fcprobe results.
 */
export function readResults(workDir: string): RunResults {
  const path = resultsPath(workDir);
  if (!existsSync(path)) {
    throw new FcprobeError(
      'NOT_FOUND',
      `${workDir} holds no ${RESULTS_FILE}.`,
      'Create it with `fcprobe run --config <experiment.json>`, whose work directory this should be.',
    );
  }
  return parseResults(readFileSync(path, 'utf8'), path);
}

/** The machine facts the report shows; `run` passes the execution providers it actually used. */
export function describeMachine(executionProviders: string[]): MachineInfo {
  const c = cpus();
  return {
    platform: platform(),
    arch: arch(),
    cpuModel: c[0]?.model.trim() ?? 'unknown CPU',
    cpus: c.length,
    memoryGiB: totalmem() / 1024 ** 3,
    node: process.versions.node,
    executionProviders,
  };
}
