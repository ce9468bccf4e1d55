/**
 * `run`: the whole experiment. Validate everything first (config, folders, class spaces, both models), then
 * extract every (model, set) pair into the work directory (cached and resumable), fit one probe per model on
 * the ID training features, score every set, compute the diagnostics, and write results + report.
 */
import { join } from 'node:path';
import { createOrtGemm, type Gemm } from '../compute/gemm.js';
import { buildLabelSpace } from '../probe/labelSpace.js';
import { FcprobeError } from '../errors.js';
import { readClassFile, type DatasetListing } from '../dataset/listing.js';
import { listDataset, parseLayout } from '../dataset/layouts.js';
import { selectPerClass } from '../dataset/suite.js';
import type {
  AccuracyMeasurement,
  AsymmetryMeasurement,
  ModelEntry,
  ProbeSummary,
  RepresentationFitMeasurement,
  RunResults,
  SetEntry,
  SetRole,
  StageTiming,
  JsonValue,
} from './types.js';
import { FCPROBE_VERSION } from '../version.js';
import { computeActivationAsymmetry, computeRepresentationFit } from './diagnostics.js';
import { extractFeatures, type ExtractProgress } from '../extract/extract.js';
import { inspectModel } from '../extract/modelCheck.js';
import { runProbe, type ProbeOptions } from '../probe/probe.js';
import { describeMachine, writeResults } from './results.js';
import { checkConfigPaths, type ModelConfig, type RunConfig, type SetConfig } from './config.js';

export interface RunOptions {
  config: RunConfig;
  /** Stage headlines ("extract teacher / photo-train"). */
  onStage?: (message: string) => void;
  onExtractProgress?: (label: string, p: ExtractProgress) => void;
  onNotice?: (message: string) => void;
  shouldStop?: () => boolean;
}

export interface RunOutcome {
  results: RunResults;
  workDir: string;
}

interface PlannedSet {
  config: SetConfig;
  role: SetRole;
  listing: DatasetListing;
}

const SEED = 0;

/** Evaluation sets keep their own class lists: the probe maps them to training classes by name. */
function listSet(s: SetConfig): DatasetListing {
  const classes = s.classes ? readClassFile(s.classes) : undefined;
  let listing = listDataset(s.path, {
    ...(s.layout ? { layout: parseLayout(s.layout, `layout of set "${s.name}"`) } : {}),
    ...(classes ? { classes } : {}),
  });
  if (s.perClass) listing = selectPerClass(listing, s.perClass, SEED);
  if (s.borderCrop !== undefined) listing = { ...listing, borderCrop: s.borderCrop };
  return listing;
}

function featureDir(workDir: string, model: ModelConfig, set: SetConfig): string {
  return join(workDir, 'features', model.name, set.name);
}

function extractOptionsOf(m: ModelConfig, cfg: RunConfig): Parameters<typeof inspectModel>[0] {
  return {
    modelPath: m.path,
    ...(m.output ? { outputName: m.output } : {}),
    ...(m.pool ? { pool: m.pool } : {}),
    ...(cfg.providers ? { providers: cfg.providers } : {}),
    ...(cfg.threads ? { threads: cfg.threads } : {}),
    preprocess: {
      ...(m.preset ? { preset: m.preset } : {}),
      ...(m.resize ? { resize: m.resize } : {}),
      ...(m.crop ? { crop: m.crop } : {}),
      ...(m.interpolation ? { interpolation: m.interpolation } : {}),
      ...(m.mean ? { mean: m.mean } : {}),
      ...(m.std ? { std: m.std } : {}),
    },
  };
}

function probeOptionsOf(cfg: RunConfig, train: string, evalDirs: string[], out: string): ProbeOptions {
  const p = cfg.probe;
  return {
    train,
    eval: evalDirs,
    out,
    ...(p.solver ? { solver: p.solver } : {}),
    ...(p.recipe ? { recipe: p.recipe } : {}),
    ...(p.C !== undefined ? { C: p.C } : {}),
    ...(p.sweep ? { cSweep: true } : {}),
    ...(p.maxIter ? { maxIter: p.maxIter } : {}),
    ...(p.seed !== undefined ? { seed: p.seed } : {}),
    ...(p.weightDecay !== undefined ? { sgd: { weightDecay: p.weightDecay } } : {}),
    ...(cfg.threads ? { threads: cfg.threads } : {}),
  };
}

export async function runExperiment(o: RunOptions): Promise<RunOutcome> {
  const cfg = o.config;
  const stage = o.onStage ?? (() => {});
  const timings: StageTiming[] = [];
  const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await f();
    } finally {
      timings.push({ stage: name, seconds: (performance.now() - t0) / 1000 });
    }
  };

  // 1. Validate everything before long work: paths, listings, class spaces, both models.
  checkConfigPaths(cfg);
  const train: PlannedSet = { config: cfg.train, role: 'id-train', listing: listSet(cfg.train) };
  const trainClasses = train.listing.classes;
  const evals: PlannedSet[] = [
    ...cfg.test.map((s) => ({ config: s, role: 'id-test' as const, listing: listSet(s) })),
    ...cfg.ood.map((s) => ({ config: s, role: 'ood' as const, listing: listSet(s) })),
  ];
  for (const e of evals) {
    try {
      buildLabelSpace(trainClasses, e.listing.classes, e.listing.classMap);
    } catch (err) {
      if (err instanceof FcprobeError)
        throw new FcprobeError(
          'BAD_DATA',
          `Set "${e.config.name}" (${e.config.path}): ${err.message}`,
          `Its classes must be among the training set's ${trainClasses.length} classes (${trainClasses.slice(0, 5).join(', ')}${trainClasses.length > 5 ? ', ...' : ''}).`,
        );
      throw err;
    }
  }
  const models = [cfg.teacher, cfg.student];
  const checks = [];
  for (const m of models) {
    stage(`check model ${m.name}: ${m.path}`);
    checks.push(await inspectModel(extractOptionsOf(m, cfg)));
  }

  // 2. Features (cached: a finished (model, set) pair is not recomputed).
  const sets = [train, ...evals];
  const manifests = new Map<string, Awaited<ReturnType<typeof extractFeatures>>>();
  const resumeHint = 'Rerun the same command: finished extractions are reused and an interrupted one resumes.';
  for (const m of models) {
    for (const s of sets) {
      const label = `${m.name} / ${s.config.name}`;
      stage(`extract ${label} (${s.listing.items.length} images)`);
      try {
        const r = await timed(`extract ${label}`, () =>
          extractFeatures({
            ...extractOptionsOf(m, cfg),
            listing: s.listing,
            outDir: featureDir(cfg.workDir, m, s.config),
            ...(cfg.batchSize ? { batchSize: cfg.batchSize } : {}),
            onStale: 'replace',
            ...(o.onNotice ? { onNotice: o.onNotice } : {}),
            ...(o.onExtractProgress ? { onProgress: (p: ExtractProgress) => o.onExtractProgress!(label, p) } : {}),
            ...(o.shouldStop ? { shouldStop: o.shouldStop } : {}),
          }),
        );
        if (r.status === 'already-done') stage(`  cached: ${r.rows} x ${r.manifest.featureDim}`);
        manifests.set(`${m.name}\u0000${s.config.name}`, r);
      } catch (err) {
        if (err instanceof FcprobeError && err.code !== 'INTERRUPTED') {
          throw new FcprobeError(err.code, `While extracting ${label}: ${err.message}`, err.hint ?? resumeHint);
        }
        throw err;
      }
    }
  }

  // 3. Probes, 4. diagnostics.
  const gemm: Gemm = await createOrtGemm(cfg.threads ? { threads: cfg.threads } : {});
  try {
    const accuracy: AccuracyMeasurement[] = [];
    const probes: ProbeSummary[] = [];
    for (const m of models) {
      stage(`probe ${m.name}: fit on ${train.config.name}, score ${evals.length} set(s)`);
      const r = await timed(`probe ${m.name}`, () =>
        runProbe({
          ...probeOptionsOf(
            cfg,
            featureDir(cfg.workDir, m, train.config),
            evals.map((e) => featureDir(cfg.workDir, m, e.config)),
            join(cfg.workDir, 'probes', m.name),
          ),
          gemm,
        }),
      );
      const conv = r.probe.convergence as unknown as Record<string, unknown> | undefined;
      const details: Record<string, number | string> = {};
      if (conv)
        for (const [k, v] of Object.entries(conv)) if (typeof v === 'number' || typeof v === 'string') details[k] = v;
      probes.push({ model: m.name, C: r.probe.C ?? NaN, solver: r.probe.solver, details });
      r.evaluations.forEach((ev, i) => {
        const e = evals[i]!;
        accuracy.push({
          model: m.name,
          set: e.config.name,
          n: ev.n,
          top1: ev.top1,
          top5: ev.labelSpace.scoredClasses > 5 ? ev.top5 : null,
          ...(ev.labelSpace.kind !== 'identity' ? { scoring: ev.labelSpace.description } : {}),
        });
      });
    }
    const representationFit: RepresentationFitMeasurement[] = [];
    for (const s of sets) {
      stage(`representation fit on ${s.config.name}`);
      const fit = await timed(`fit ${s.config.name}`, () =>
        computeRepresentationFit(
          featureDir(cfg.workDir, cfg.teacher, s.config),
          featureDir(cfg.workDir, cfg.student, s.config),
          gemm,
        ),
      );
      representationFit.push({ set: s.config.name, fit });
    }
    const asymmetry: AsymmetryMeasurement[] = models.map((m) => ({
      model: m.name,
      set: train.config.name,
      result: computeActivationAsymmetry(featureDir(cfg.workDir, m, train.config)),
    }));

    const modelEntries: ModelEntry[] = models.map((m, i) => {
      const man = manifests.get(`${m.name}\u0000${train.config.name}`)!.manifest;
      return {
        role: i === 0 ? 'teacher' : 'student',
        name: m.name,
        path: m.path,
        sha256: man.model.sha256,
        featureDim: man.featureDim,
        preset: man.preprocess.preset,
        output: man.model.outputName,
        pool: man.model.pool,
      };
    });
    const setEntries: SetEntry[] = sets.map((s) => ({
      name: s.config.name,
      role: s.role,
      path: s.config.path,
      n: manifests.get(`${cfg.teacher.name}\u0000${s.config.name}`)!.rows,
    }));
    const results: RunResults = {
      format: 'fcprobe-results',
      formatVersion: 1,
      fcprobeVersion: FCPROBE_VERSION,
      createdAt: new Date().toISOString(),
      ...(cfg.title ? { title: cfg.title } : {}),
      config: JSON.parse(JSON.stringify(cfg)) as JsonValue,
      machine: describeMachine([...new Set(checks.map((c) => c.provider))]),
      models: modelEntries,
      sets: setEntries,
      accuracy,
      probes,
      representationFit,
      asymmetry,
      baselines: cfg.baselines,
      timings,
    };
    writeResults(cfg.workDir, results);
    return { results, workDir: cfg.workDir };
  } finally {
    await gemm.dispose();
  }
}
