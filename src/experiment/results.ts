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
import type { JsonValue, MachineInfo, RunResults } from './types.js';

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
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new FcprobeError('BAD_DATA', `${where} is not valid JSON: ${(e as Error).message}`);
  }
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
  return { ...r, baselines: r.baselines ?? null, config: (r.config ?? null) as JsonValue } as RunResults;
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
