/**
 * `run` with a `distill` student: the run's own distillation equals `fcprobe distill` followed by a run with
 * the composed student (head and student.onnx byte for byte; the student's features, which the run computes as
 * head(backbone features), to float tolerance, and the same accuracies), a rerun reuses everything, and new
 * settings re-distil and recompute the student's features.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { scanImageFolder } from '../../src/dataset/listing.js';
import { DISTILL_DEFAULTS, runDistill } from '../../src/distill/distill.js';
import { FcprobeError } from '../../src/errors.js';
import { parseRunConfig } from '../../src/experiment/config.js';
import { runExperiment } from '../../src/experiment/run.js';
import { extractFeatures } from '../../src/extract/extract.js';
import { readNpy } from '../../src/io/npy.js';
import { validateJson } from '../helpers/jsonSchema.js';
import { linearEncoder, makeNoiseFolder, slowEncoder, tempDir, writeModel } from '../helpers/fixtures.js';

const schema = JSON.parse(readFileSync(new URL('../../../schema/experiment.schema.json', import.meta.url), 'utf8'));

/** Train and test folders (different image sizes, so different pixels after the resize), teacher, backbone. */
async function setup(): Promise<string> {
  const dir = tempDir();
  await makeNoiseFolder(join(dir, 'train'), ['a', 'b'], 10, 16);
  await makeNoiseFolder(join(dir, 'test'), ['a', 'b'], 4, 20);
  writeModel(join(dir, 't.onnx'), slowEncoder(16, 1, 5));
  const W = Array.from({ length: 6 }, (_, k) => [Math.sin(k + 1), Math.cos(2 * k), 0.3 * k - 1]);
  writeModel(join(dir, 'bb.onnx'), linearEncoder(W, null, { extraOutput: true }));
  return dir;
}

const PRE = { resize: 16, crop: 16 };
const SETTINGS = { head: 'mlp', hidden: 8, layers: 2, activation: 'gelu', epochs: 3, batch: 8, seed: 2 };

function config(workDir: string, student: Record<string, unknown>): Record<string, unknown> {
  return {
    workDir,
    teacher: { path: 't.onnx', ...PRE },
    students: [student],
    train: 'train',
    test: ['test'],
    bootstrap: 0,
  };
}

const distilled = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  name: 'd',
  ...PRE,
  output: 'features',
  distill: { backbone: 'bb.onnx', ...SETTINGS, ...over },
});

/** Every file under `root` with its modification time (ns), to see what a run rewrote. */
function mtimes(root: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(p, statSync(p, { bigint: true }).mtimeNs);
    }
  };
  walk(root);
  return out;
}

describe('run with a distilled student', () => {
  it('equals distill + run by hand byte for byte; a rerun reuses everything; new settings re-distil', async () => {
    const dir = await setup();
    const raw = config('w', distilled());
    assert.deepEqual(validateJson(raw, schema), []);
    const stages: string[] = [];
    const a = await runExperiment({ config: parseRunConfig(raw, dir), onStage: (m) => stages.push(m) });
    const w = join(dir, 'w');
    assert.ok(stages.some((s) => s.startsWith('distill d: mlp head on d.backbone, 3 epochs')));
    const entry = a.results.models.find((m) => m.name === 'd')!;
    assert.equal(entry.path, join(w, 'distill', 'd', 'student.onnx'));
    assert.equal(entry.output, 'features');
    const dj = JSON.parse(readFileSync(join(w, 'distill', 'd', 'distill.json'), 'utf8'));
    assert.ok(entry.distill);
    assert.equal(entry.distill.reused, false);
    assert.equal(entry.distill.key, dj.key);
    assert.deepEqual(entry.distill.fit, dj.fit);
    assert.deepEqual(entry.distill.settings, {
      ...DISTILL_DEFAULTS,
      head: { kind: 'mlp', hidden: 8, layers: 2, activation: 'gelu' },
      epochs: 3,
      batchSize: 8,
      seed: 2,
    });
    // The backbone's features are a model of their own (on every set: the student's features are computed from
    // them); it is not probed.
    for (const set of ['train', 'test']) assert.ok(existsSync(join(w, 'features', 'd.backbone', set, 'features.npy')));
    assert.ok(!existsSync(join(w, 'probes', 'd.backbone')));
    const man = JSON.parse(readFileSync(join(w, 'features', 'd', 'test', 'manifest.json'), 'utf8'));
    const bbMan = JSON.parse(readFileSync(join(w, 'features', 'd.backbone', 'test', 'manifest.json'), 'utf8'));
    assert.deepEqual(man.derived, {
      from: 'head',
      backbone: {
        dir: join(w, 'features', 'd.backbone', 'test'),
        key: bbMan.key,
        featuresSha256: bbMan.checksums.features.sha256,
      },
      head: { path: join(w, 'distill', 'd', 'head.onnx'), sha256: dj.outputs.headSha256 },
    });

    // By hand: extract teacher and backbone on the training images, `distill`, then run with student.onnx.
    const listing = scanImageFolder(join(dir, 'train'));
    // As the run's config states it: no preset, so both sides record the assumed default (and student.onnx says so).
    const pre = { ...PRE };
    const bb = join(dir, 'bb.onnx');
    await extractFeatures({ modelPath: join(dir, 't.onnx'), listing, outDir: join(dir, 'h-t'), preprocess: pre });
    await extractFeatures({
      modelPath: bb,
      listing,
      outDir: join(dir, 'h-b'),
      preprocess: pre,
      outputName: 'features',
    });
    await runDistill({
      teacherFeatures: join(dir, 'h-t'),
      studentFeatures: join(dir, 'h-b'),
      backbone: bb,
      out: join(dir, 'h-d'),
      settings: entry.distill.settings,
    });
    assert.deepEqual(
      readFileSync(join(dir, 'h-d', 'student.onnx')),
      readFileSync(join(w, 'distill', 'd', 'student.onnx')),
    );
    const hand = await runExperiment({
      config: parseRunConfig(config('hand', { name: 'd', path: 'h-d/student.onnx', ...PRE }), dir),
    });
    // The hand run extracts student.onnx over the images; the run applied head.onnx to the backbone's stored
    // features. Same rows, same numbers to float tolerance (measured here: max |diff| 0, bit for bit; the
    // CIFAR-10 slice's ResNet-20 heads: see test/distill/headFeatures.test.ts), and the manifests agree on
    // everything downstream reads.
    for (const set of ['train', 'test']) {
      const f = (root: string): Float32Array =>
        readNpy(join(dir, root, 'features', 'd', set, 'features.npy')).data as Float32Array;
      const [x, y] = [f('w'), f('hand')];
      assert.equal(x.length, y.length);
      let maxDiff = 0;
      for (let i = 0; i < x.length; i++) maxDiff = Math.max(maxDiff, Math.abs(x[i]! - y[i]!));
      assert.ok(maxDiff <= 1e-5 * Math.max(1, ...Array.from(y, Math.abs)), `features of d on ${set}: ${maxDiff}`);
      const m = (root: string): Record<string, unknown> => {
        const j = JSON.parse(readFileSync(join(dir, root, 'features', 'd', set, 'manifest.json'), 'utf8'));
        const { model, preprocess, files, classes, classMap, listHash, rows, featureDim, skipped } = j;
        return {
          model: { ...model, path: null },
          preprocess,
          files,
          classes,
          classMap,
          listHash,
          rows,
          featureDim,
          skipped,
        };
      };
      assert.deepEqual(m('w'), m('hand'));
    }
    const accuracyOf = (r: typeof a): unknown[] => r.results.accuracy.filter((x) => x.model === 'd');
    assert.deepEqual(accuracyOf(a), accuracyOf(hand));

    // Rerun, nothing changed: no file is rewritten but results.json and the report.
    const before = mtimes(w);
    const again: string[] = [];
    const b = await runExperiment({ config: parseRunConfig(raw, dir), onStage: (m) => again.push(m) });
    assert.ok(again.includes(`distill d: cached (${join(w, 'distill', 'd')})`));
    assert.equal(b.results.models.find((m) => m.name === 'd')!.distill!.reused, true);
    const after = mtimes(w);
    const changed = [...after].filter(([p, t]) => before.get(p) !== t).map(([p]) => p);
    assert.deepEqual(
      changed.filter((p) => p.includes(`${join(w, 'features')}`) || p.includes(join(w, 'distill'))),
      [],
    );

    // Another epoch count: distilled again, the student's features recomputed (its manifest's key holds head.onnx's
    // sha256), the backbone's and the teacher's reused.
    const c = await runExperiment({ config: parseRunConfig(config('w', distilled({ epochs: 4 })), dir) });
    const ce = c.results.models.find((m) => m.name === 'd')!.distill!;
    assert.equal(ce.reused, false);
    assert.equal(ce.settings.epochs, 4);
    assert.notEqual(ce.key, entry.distill.key);
    const third = mtimes(w);
    const rewritten = (p: string): boolean => third.get(p) !== after.get(p);
    for (const set of ['train', 'test']) {
      assert.ok(rewritten(join(w, 'features', 'd', set, 'features.npy')), `d / ${set} not re-extracted`);
      assert.ok(!rewritten(join(w, 'features', 'teacher', set, 'features.npy')));
    }
    for (const set of ['train', 'test'])
      assert.ok(!rewritten(join(w, 'features', 'd.backbone', set, 'features.npy')), `d.backbone / ${set} redone`);
    assert.ok(rewritten(join(w, 'distill', 'd', 'student.onnx')));
  });

  it('shares the backbone features with a student that is the same model file, by key', async () => {
    const dir = await setup();
    const plain = { name: 'b', path: 'bb.onnx', ...PRE, output: 'features' };
    const both = { ...config('w', distilled()), students: [plain, distilled()] };
    const stages: string[] = [];
    const r = await runExperiment({ config: parseRunConfig(both, dir), onStage: (m) => stages.push(m) });
    const w = join(dir, 'w');
    // b is extracted first; the backbone of d is the same extraction, so it is not extracted again.
    assert.ok(!existsSync(join(w, 'features', 'd.backbone')), 'no folder is left for the shared backbone');
    assert.equal(stages.filter((m) => m.includes(': shared')).length, 2);
    const dj = JSON.parse(readFileSync(join(w, 'distill', 'd', 'distill.json'), 'utf8'));
    assert.equal(dj.student.dir, '../../features/b/train');
    // The same head and features as with a backbone extracted on its own.
    const alone = await runExperiment({ config: parseRunConfig(config('alone', distilled()), dir) });
    const entry = (x: typeof r): Record<string, unknown> => {
      const { fit: _f, reused: _r, ...rest } = x.results.models.find((m) => m.name === 'd')!.distill!;
      return rest;
    };
    assert.deepEqual(entry(r), { ...entry(alone), dir: join(w, 'distill', 'd') });
    for (const set of ['train', 'test']) {
      const f = (root: string): Buffer => readFileSync(join(dir, root, 'features', 'd', set, 'features.npy'));
      assert.ok(f('w').equals(f('alone')), `d / ${set}`);
    }
  });

  it('refuses bad distill fields before any extraction, naming the config field', async () => {
    const dir = await setup();
    const bad = (student: Record<string, unknown>, re: RegExp): void => {
      assert.throws(
        () => parseRunConfig(config('w', student), dir),
        (e: unknown) => e instanceof FcprobeError && e.code === 'BAD_CONFIG' && re.test(e.message),
      );
    };
    bad(
      distilled({ epochs: 0 }),
      /Expected config field "students\[0\]\.distill\.epochs" to be a positive integer, got 0/,
    );
    bad(distilled({ lr: '1e-3' }), /"students\[0\]\.distill\.lr" to be a positive number/);
    bad(distilled({ layers: 1 }), /"students\[0\]\.distill\.layers" to be an integer >= 2 for an mlp head/);
    bad(distilled({ activation: 'tanh' }), /"students\[0\]\.distill\.activation" to be one of/);
    bad(distilled({ standardizeTarget: 'yes' }), /"students\[0\]\.distill\.standardizeTarget" to be true or false/);
    bad(distilled({ epoch: 3 }), /"students\[0\]\.distill\.epoch" is not a known field/);
    bad({ ...distilled(), path: 'x.onnx' }, /"students\[0\]\.path" or .*"students\[0\]\.distill", not both/);
    bad({ ...distilled(), pool: 'mean' }, /"students\[0\]\.pool" cannot be used with "distill"/);
    bad({ ...distilled(), name: undefined }, /"students\[0\]\.name" to be a non-empty string/);
    assert.throws(
      () =>
        parseRunConfig({ ...config('w', distilled()), teacher: { name: 't', distill: { backbone: 'bb.onnx' } } }, dir),
      /"teacher\.distill" is for students only/,
    );
    const raw = config('w', distilled({ backbone: 'missing.onnx' }));
    await assert.rejects(
      runExperiment({ config: parseRunConfig(raw, dir) }),
      (e: unknown) => e instanceof FcprobeError && e.code === 'NOT_FOUND' && /distill\.backbone/.test(e.message),
    );
    assert.ok(!existsSync(join(dir, 'w', 'features')));
    // The schema agrees on what a distill student is.
    assert.notDeepEqual(validateJson({ ...config('w', { ...distilled(), path: 'x.onnx' }) }, schema), []);
    assert.notDeepEqual(validateJson(config('w', distilled({ head: 'deep' })), schema), []);
  });
});
