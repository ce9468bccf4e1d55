/**
 * Cluster plans: the extraction of a run as independent `fcprobe extract --shard k/n` jobs (one per model,
 * set and shard) that a scheduler runs (Slurm array, Kubernetes Indexed Job; docs/cluster.md), and the merge
 * of the shards such jobs left in the work directory when `run` reaches that (model, set).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FcprobeError } from '../errors.js';
import { MAX_PLAN_SHARDS } from '../options.js';
import { checkValue, is } from '../validate.js';
import { mergeShards } from '../extract/merge.js';
import { MANIFEST_FILE } from '../features/manifest.js';
import type { ModelConfig, RunConfig, SetConfig } from './config.js';

export interface ExtractJob {
  /** Position in the plan: the array task index that runs this job. */
  index: number;
  model: string;
  set: string;
  shard: { index: number; count: number };
  /** The shard's output folder: `<work>/features/<model>/<set>/shard-k-of-n`. */
  out: string;
  /** `fcprobe extract` arguments (without the program name). */
  args: string[];
  /** The same as one shell-quoted command line. */
  command: string;
}

export interface ExtractPlan {
  format: 'fcprobe-plan';
  formatVersion: 1;
  workDir: string;
  shards: number;
  jobs: ExtractJob[];
}

const SHARD_DIR = /^shard-(\d+)-of-(\d+)$/;

/** The folder of shard k of n under a (model, set) feature folder. */
export function shardDirName(index: number, count: number): string {
  return `shard-${index}-of-${count}`;
}

function quote(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`;
}

function modelArgs(m: ModelConfig): string[] {
  const a = ['--model', m.path];
  if (m.preset) a.push('--preset', m.preset);
  if (m.output) a.push('--output', m.output);
  if (m.pool) a.push('--pool', m.pool);
  if (m.resize !== undefined) a.push('--resize', String(m.resize));
  if (m.crop !== undefined) a.push('--crop', String(m.crop));
  if (m.interpolation) a.push('--interpolation', m.interpolation);
  if (m.mean) a.push('--mean', m.mean.join(','));
  if (m.std) a.push('--std', m.std.join(','));
  return a;
}

function setArgs(s: SetConfig): string[] {
  const a = ['--data', s.path];
  if (s.layout) a.push('--layout', s.layout);
  if (s.classes) a.push('--classes', s.classes);
  if (s.borderCrop !== undefined) a.push('--border-crop', String(s.borderCrop));
  return a;
}

/**
 * The extraction jobs of a run: for every model (teacher, students, references), every set (train, test, OOD)
 * and every shard k of `shards`, the `fcprobe extract` command that writes exactly the features `run` would
 * extract there (same model, preprocessing, listing and batch size), into `<work>/features/<model>/<set>/
 * shard-k-of-n`. Jobs are ordered model, set, shard; `index` is the array task index.
 *
 * @throws FcprobeError BAD_OPTION when `shards` is not a positive integer, a student is distilled by the run
 *   (its encoder does not exist before the run), or a set is drawn in a way `extract` cannot repeat (`perClass`
 *   subsampling). A seeded split of the ID folder plans as the whole folder (run selects the rows).
 */
export function planExtractJobs(cfg: RunConfig, shards: number): ExtractPlan {
  // The API's own check, as the option table's for the CLI: a job object is built per shard.
  checkValue('--shards', is.intBetween(1, MAX_PLAN_SHARDS), shards);
  // A split (--split, --seeds) needs no job of its own: run extracts the whole ID folder and selects each
  // seed's rows from it, so the ID folder's jobs below are the ones it merges.
  const distilled = cfg.students.find((m) => m.distill);
  if (distilled)
    throw new FcprobeError(
      'BAD_OPTION',
      `--plan cannot plan student "${distilled.name}": run distils it, so its encoder does not exist yet.`,
      'Distil it first (fcprobe distill) and give its student.onnx, or run without --plan.',
    );
  const sets = [cfg.train, ...cfg.test, ...cfg.ood];
  const sub = sets.find((s) => s.perClass !== undefined);
  if (sub)
    throw new FcprobeError(
      'BAD_OPTION',
      `--plan cannot plan set "${sub.name}": it uses ${sub.perClass} images per class, drawn by run, not by extract.`,
      'Run without --plan, or give the subset as its own folder.',
    );
  const jobs: ExtractJob[] = [];
  for (const m of [cfg.teacher, ...cfg.students, ...cfg.references]) {
    for (const s of sets) {
      for (let k = 0; k < shards; k++) {
        const out = join(cfg.workDir, 'features', m.name, s.name, shardDirName(k, shards));
        const args = ['extract', ...modelArgs(m), ...setArgs(s), '--batch', String(cfg.batchSize ?? 32)];
        if (cfg.providers) args.push('--ep', cfg.providers);
        args.push('--shard', `${k}/${shards}`, '--out', out);
        jobs.push({
          index: jobs.length,
          model: m.name,
          set: s.name,
          shard: { index: k, count: shards },
          out,
          args,
          command: ['fcprobe', ...args].map(quote).join(' '),
        });
      }
    }
  }
  return { format: 'fcprobe-plan', formatVersion: 1, workDir: cfg.workDir, shards, jobs };
}

/**
 * Merges the shard folders (`shard-k-of-n`) that cluster jobs wrote under `featureDir` into `featureDir`
 * itself, unless it already holds finished features. Returns the number of shards merged (0: none found or
 * nothing to do).
 *
 * @throws FcprobeError MISMATCH when the shard folders are incomplete (a job has not finished), of different
 *   counts, or do not belong together (see mergeShards).
 */
export function mergeFoundShards(featureDir: string): number {
  if (!existsSync(featureDir) || existsSync(join(featureDir, MANIFEST_FILE))) return 0;
  const found = readdirSync(featureDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && SHARD_DIR.test(e.name))
    .map((e) => e.name);
  if (found.length === 0) return 0;
  const counts = new Set(found.map((n) => (SHARD_DIR.exec(n) as RegExpExecArray)[2]));
  if (counts.size > 1)
    throw new FcprobeError(
      'MISMATCH',
      `${featureDir} holds shards of different counts (${[...counts].map((c) => `of-${c}`).join(', ')}).`,
      'Remove the shard folders of the old plan.',
    );
  const count = Number([...counts][0]);
  const unfinished: string[] = [];
  for (let k = 0; k < count; k++) {
    const d = shardDirName(k, count);
    if (!existsSync(join(featureDir, d, MANIFEST_FILE))) unfinished.push(`${k}/${count}`);
  }
  if (unfinished.length)
    throw new FcprobeError(
      'MISMATCH',
      `${featureDir}: shard(s) ${unfinished.join(', ')} of the cluster plan are not finished.`,
      'Wait for (or rerun) those jobs, or remove the shard folders to extract here.',
    );
  const dirs = Array.from({ length: count }, (_, k) => join(featureDir, shardDirName(k, count)));
  mergeShards(dirs, featureDir, true);
  return count;
}
