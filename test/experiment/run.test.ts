/**
 * `run` end to end on generated folders and encoders; every reported number is recomputed here from the
 * stored features and probe files, with code independent of src/ (plain float64 loops).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseRunConfig } from '../../src/experiment/config.js';
import { runExperiment } from '../../src/experiment/run.js';
import { writeReport } from '../../src/report/write.js';
import { readNpy } from '../../src/io/npy.js';
import { CLI, linearEncoder, makeColourSet, tempDir, writeColourPair, writeModel } from '../helpers/fixtures.js';
import { spawnSync } from 'node:child_process';
import { clopperPearson, mcnemarExactP } from '../../src/math/intervals.js';

type Matrix = { rows: number; cols: number; data: Float32Array };

function load(path: string): Matrix {
  const a = readNpy(path);
  assert.equal(a.dtype, '<f4');
  return { rows: a.shape[0]!, cols: a.shape[1]!, data: a.data as Float32Array };
}

function labelsOf(path: string): number[] {
  const a = readNpy(path);
  return Array.from(a.data as BigInt64Array, Number);
}

/** Class c's images lean to colour channel c, with noise; `shift` varies the background (OOD). */
const makeSet = (root: string, classes: string[], perClass: number, seed: number, shift: number) =>
  makeColourSet(root, classes, perClass, seed, shift, { lean: 80, noise: 60, size: 12 });

function predict(
  x: Matrix,
  weights: Matrix,
  mean: number[] | null,
  std: number[] | null,
  classCols: number[],
): number[] {
  const preds: number[] = [];
  for (let i = 0; i < x.rows; i++) {
    let best = -1;
    let bestScore = -Infinity;
    for (const k of classCols) {
      let z = weights.data[k * weights.cols + x.cols]!;
      for (let j = 0; j < x.cols; j++) {
        const v = mean && std ? (x.data[i * x.cols + j]! - mean[j]!) / std[j]! : x.data[i * x.cols + j]!;
        z += weights.data[k * weights.cols + j]! * v;
      }
      if (z > bestScore) {
        bestScore = z;
        best = k;
      }
    }
    preds.push(best);
  }
  return preds;
}

/** Linear CKA from the N x N Gram matrices (the textbook formula). */
function ckaDirect(a: Matrix, b: Matrix): number {
  const n = a.rows;
  const gram = (m: Matrix): number[][] => {
    const mu = Array.from({ length: m.cols }, (_, j) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += m.data[i * m.cols + j]!;
      return s / n;
    });
    return Array.from({ length: n }, (_, i) =>
      Array.from({ length: n }, (_, k) => {
        let s = 0;
        for (let j = 0; j < m.cols; j++) s += (m.data[i * m.cols + j]! - mu[j]!) * (m.data[k * m.cols + j]! - mu[j]!);
        return s;
      }),
    );
  };
  const K = gram(a),
    L = gram(b);
  let kl = 0,
    kk = 0,
    ll = 0;
  for (let i = 0; i < n; i++)
    for (let k = 0; k < n; k++) {
      kl += K[i]![k]! * L[i]![k]!;
      kk += K[i]![k]! ** 2;
      ll += L[i]![k]! ** 2;
    }
  return kl / Math.sqrt(kk * ll);
}

describe('run (end to end)', () => {
  it('reports accuracies and CKA that match an independent recomputation from the stored files', async () => {
    const dir = tempDir();
    const classes = ['blue', 'green', 'red'].reverse(); // red, green, blue: channel index = class index
    await makeSet(join(dir, 'train'), classes, 12, 1, 0.3);
    await makeSet(join(dir, 'test'), classes, 6, 2, 0.3);
    await makeSet(join(dir, 'shifted'), classes.slice(0, 2), 6, 3, 1.0);
    writeColourPair(dir);
    const config = parseRunConfig(
      {
        workDir: 'work',
        teacher: { path: 't.onnx', resize: 12, crop: 12 },
        student: { path: 's.onnx', resize: 12, crop: 12 },
        train: 'train',
        test: ['test'],
        ood: [{ name: 'shifted', path: 'shifted' }],
        probe: { C: 1 },
        baselines: [
          { id: 0.6, ood: 0.3 },
          { id: 0.8, ood: 0.5 },
          { id: 0.9, ood: 0.7 },
        ],
      },
      dir,
    );
    const stages: string[] = [];
    const out = await runExperiment({ config, onStage: (m) => stages.push(m) });
    writeReport(out.results, ['md', 'json', 'html'], out.workDir);
    const work = join(dir, 'work');
    const hits = new Map<string, boolean[]>();
    for (const model of ['teacher', 'student']) {
      const probe = JSON.parse(readFileSync(join(work, 'probes', model, 'probe.json'), 'utf8'));
      const w = load(join(work, 'probes', model, 'weights.npy'));
      assert.deepEqual(probe.classes, ['blue', 'green', 'red']);
      for (const set of ['test', 'shifted']) {
        const x = load(join(work, 'features', model, set, 'features.npy'));
        const manifest = JSON.parse(readFileSync(join(work, 'features', model, set, 'manifest.json'), 'utf8'));
        const y = labelsOf(join(work, 'features', model, set, 'labels.npy')).map((l) =>
          probe.classes.indexOf(manifest.classes[l]),
        );
        // Subset scoring: only the probe columns of the set's own classes compete.
        const cols = manifest.classes.map((c: string) => probe.classes.indexOf(c));
        const p = predict(x, w, probe.standardization?.mean ?? null, probe.standardization?.std ?? null, cols);
        const top1 = p.filter((v, i) => v === y[i]).length / y.length;
        hits.set(
          `${model}/${set}`,
          Array.from(p, (v, i) => v === y[i]),
        );
        const m = out.results.accuracy.find((a) => a.model === model && a.set === set)!;
        assert.ok(Math.abs(m.top1 - top1) < 1e-12, `${model}/${set}: reported ${m.top1}, recomputed ${top1}`);
        assert.equal(m.n, y.length);
        if (set === 'shifted') assert.match(m.scoring ?? '', /2/);
      }
    }
    for (const set of ['train', 'test', 'shifted']) {
      const t = load(join(work, 'features', 'teacher', set, 'features.npy'));
      const s = load(join(work, 'features', 'student', set, 'features.npy'));
      const fit = out.results.representationFit.find((f) => f.set === set && f.student === 'student')!.fit;
      assert.ok(Math.abs(fit.cka - ckaDirect(t, s)) < 1e-6, `${set}: CKA ${fit.cka} vs ${ckaDirect(t, s)}`);
      assert.equal(fit.cosine, null, 'dimensions differ (4 vs 3): no cosine');
    }
    // The statistics contract of results.json, against the predictions recomputed above.
    const saved = JSON.parse(readFileSync(join(work, 'results.json'), 'utf8'));
    assert.equal(saved.statistics.bootstrap, 2000);
    assert.equal(saved.statistics.level, 0.95);
    const gapOf = new Map<string, number>();
    for (const set of ['test', 'shifted']) {
      const t = hits.get(`teacher/${set}`)!,
        st = hits.get(`student/${set}`)!;
      const b = t.filter((v, i) => v && !st[i]).length,
        c = t.filter((v, i) => !v && st[i]).length;
      const g = saved.gaps.find((x: { set: string }) => x.set === set);
      assert.equal(g.teacher, 'teacher');
      assert.equal(g.student, 'student');
      assert.ok(Math.abs(g.top1Gap - (b - c) / t.length) < 1e-12);
      assert.ok(Math.abs(g.mcnemarP - mcnemarExactP(b, c)) < 1e-12);
      assert.ok(g.interval.low <= g.top1Gap && g.top1Gap <= g.interval.high, JSON.stringify(g));
      gapOf.set(set, g.top1Gap);
      for (const model of ['teacher', 'student']) {
        const a = saved.accuracy.find((x: { model: string; set: string }) => x.model === model && x.set === set);
        const k = hits.get(`${model}/${set}`)!.filter(Boolean).length;
        assert.deepEqual(a.top1Interval, clopperPearson(k, t.length));
      }
    }
    assert.equal(saved.contamination.length, 1);
    assert.ok(Math.abs(saved.contamination[0].estimate - (gapOf.get('shifted')! - gapOf.get('test')!)) < 1e-12);
    assert.ok(saved.contamination[0].interval.low <= saved.contamination[0].interval.high);
    for (const f of saved.representationFit) {
      assert.equal(f.linearCka, f.fit.cka);
      assert.equal(typeof f.linearCkaDebiased, 'number');
    }
    const report = JSON.parse(readFileSync(join(work, 'report.json'), 'utf8'));
    const acc = (model: string, set: string): number =>
      out.results.accuracy.find((a) => a.model === model && a.set === set)!.top1;
    assert.ok(Math.abs(report.summary.id.gap - (acc('teacher', 'test') - acc('student', 'test'))) < 1e-12);
    assert.ok(Math.abs(report.summary.oodAverage.teacher - acc('teacher', 'shifted')) < 1e-12);
    assert.equal(report.effectiveRobustness.status, 'computed');
    const md = readFileSync(join(work, 'report.md'), 'utf8');
    assert.match(md, /shifted/);
    // Every stage records the process's peak RSS so far: whole MiB, above the runtime's own footprint, never
    // falling (a peak), and no more than the peak this test process reads right after the run.
    const peaks = out.results.timings.map((t) => t.peakRssMiB!);
    assert.ok(peaks.length > 0 && peaks.every((m) => Number.isInteger(m) && m >= 20), `${peaks}`);
    assert.ok(
      peaks.every((m, i) => i === 0 || m >= peaks[i - 1]!),
      `not a running peak: ${peaks}`,
    );
    assert.ok(peaks.at(-1)! <= Math.round(process.resourceUsage().maxRSS / 1024));
    assert.match(md, /\| Stage \| Time \| Peak RSS so far \(MiB\) \|/);
    const html = readFileSync(join(work, 'report.html'), 'utf8');
    assert.match(html, /<svg/);
    assert.match(html, /ID vs OOD top-1 \(logit axes, 95% intervals\)/);
    assert.doesNotMatch(html, /<script[^>]+src=|https?:\/\/(?!www\.w3\.org)/);
    // A second run with nothing changed reuses every extraction and both probes, and writes the same results.json
    // but for when and how long it ran and on what.
    const stable = (): string => {
      const {
        createdAt: _c,
        timings: _t,
        machine: _m,
        ...rest
      } = JSON.parse(readFileSync(join(work, 'results.json'), 'utf8'));
      return JSON.stringify(rest);
    };
    const first = stable();
    const probeBytes = readFileSync(join(work, 'probes', 'student', 'weights.npy'));
    const again: string[] = [];
    await runExperiment({ config, onStage: (m) => again.push(m) });
    assert.equal(again.filter((m) => /^ {2}cached: \d+ x \d+$/.test(m)).length, 6);
    assert.equal(again.filter((m) => /^ {2}cached: .*probes.*verified\)$/.test(m)).length, 2);
    assert.equal(stable(), first);
    assert.ok(readFileSync(join(work, 'probes', 'student', 'weights.npy')).equals(probeBytes));
    // fcprobe report re-renders from results.json.
    const r = spawnSync(process.execPath, [CLI, 'report', work, '--format', 'terminal'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /shifted/);
  });

  it('several students and references: the numbers of separate single-student runs, every model kept', async () => {
    const dir = tempDir();
    const classes = ['red', 'green', 'blue'];
    await makeSet(join(dir, 'train'), classes, 6, 11, 0.3);
    await makeSet(join(dir, 'test'), classes, 4, 12, 0.3);
    await makeSet(join(dir, 'shifted'), classes, 4, 13, 1.0);
    const enc = (name: string, rows: number[][]): void => {
      writeModel(join(dir, `${name}.onnx`), linearEncoder(rows, null));
    };
    enc('t', [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
    enc('s1', [
      [1, 0.5, 0],
      [0, 1, 0.5],
    ]);
    enc('s2', [
      [1, 1, 0],
      [0, 0.2, 1],
      [0.3, 0, 0],
    ]);
    enc('r1', [
      [0.5, 1, 1],
      [1, 0, 0.1],
    ]);
    enc('r2', [[1, -1, 0.5]]);
    const model = (p: string): Record<string, unknown> => ({ path: p, resize: 12, crop: 12 });
    const common = {
      teacher: model('t.onnx'),
      train: 'train',
      test: ['test'],
      ood: ['shifted'],
      probe: { C: 0.5 },
    };
    const many = await runExperiment({
      config: parseRunConfig(
        {
          ...common,
          workDir: 'many',
          students: [model('s1.onnx'), model('s2.onnx')],
          references: [model('r1.onnx'), model('r2.onnx')],
        },
        dir,
      ),
    });
    const r = many.results;
    assert.deepEqual(
      r.models.map((m) => [m.name, m.role]),
      [
        ['teacher', 'teacher'],
        ['s1', 'student'],
        ['s2', 'student'],
        ['r1', 'reference'],
        ['r2', 'reference'],
      ],
    );
    assert.equal(r.accuracy.length, 5 * 2);
    // One fit per (student, set); references are not compared with the teacher.
    assert.deepEqual(
      r.representationFit.map((f) => `${f.student}/${f.set}`),
      ['s1/train', 's1/test', 's1/shifted', 's2/train', 's2/test', 's2/shifted'],
    );
    for (const student of ['s1', 's2']) {
      // A run of its own (its own probes, fitted again) on the features the first run left in the work dir.
      const single = await runExperiment({
        config: parseRunConfig(
          { ...common, workDir: 'many', student: { name: 'student', ...model(`${student}.onnx`) } },
          dir,
        ),
      });
      const s = single.results;
      for (const [name, singleName] of [
        ['teacher', 'teacher'],
        [student, 'student'],
      ] as const) {
        for (const set of ['test', 'shifted']) {
          const a = r.accuracy.find((x) => x.model === name && x.set === set)!;
          const b = s.accuracy.find((x) => x.model === singleName && x.set === set)!;
          assert.equal(a.top1, b.top1, `${name}/${set}`);
          assert.equal(a.n, b.n);
        }
      }
      for (const set of ['train', 'test', 'shifted']) {
        const a = r.representationFit.find((f) => f.student === student && f.set === set)!.fit;
        const b = s.representationFit.find((f) => f.set === set)!.fit;
        assert.equal(a.cka, b.cka, `${student}/${set} CKA`);
      }
    }
    // The report covers every model; the references form the effective-robustness baseline.
    writeReport(r, ['md', 'json', 'html'], many.workDir);
    const report = JSON.parse(readFileSync(join(many.workDir, 'report.json'), 'utf8'));
    assert.deepEqual(
      report.allModels.rows.map((x: { model: string }) => x.model),
      ['teacher', 's1', 's2', 'r1', 'r2'],
    );
    const acc = (m: string, set: string): number => r.accuracy.find((a) => a.model === m && a.set === set)!.top1;
    const s2Row = report.allModels.rows[2];
    assert.equal(s2Row.gapOod, acc('teacher', 'shifted') - acc('s2', 'shifted'));
    const usable = ['r1', 'r2'].filter((m) => [acc(m, 'test'), acc(m, 'shifted')].every((v) => v > 0 && v < 1));
    // A logit fit needs two usable references with different ID accuracies.
    if (new Set(usable.map((m) => acc(m, 'test'))).size >= 2) {
      assert.equal(report.effectiveRobustness.status, 'computed');
      assert.deepEqual(
        report.effectiveRobustness.entries[0].points.map((p: { name: string }) => p.name),
        ['r1', 'r2'],
      );
    } else assert.equal(report.effectiveRobustness.status, 'omitted');
    assert.match(readFileSync(join(many.workDir, 'report.md'), 'utf8'), /## All models/);
    // Adding a model to the work dir keeps the others' features: a run with one of them reuses everything.
    const again: string[] = [];
    await runExperiment({
      config: parseRunConfig(
        { ...common, workDir: 'many', students: [model('s2.onnx')], references: [model('r1.onnx')] },
        dir,
      ),
      onStage: (m) => again.push(m),
    });
    assert.equal(again.filter((m) => /^ {2}cached: \d+ x \d+$/.test(m)).length, 3 * 3);
    assert.equal(again.filter((m) => /^ {2}cached: .*probes/.test(m)).length, 3);
  });

  it('fails before any extraction when an OOD class is not a training class, or a model does not load', async () => {
    const dir = tempDir();
    await makeSet(join(dir, 'train'), ['a', 'b'], 2, 1, 0.3);
    await makeSet(join(dir, 'ood'), ['a', 'zebra'], 2, 1, 0.3);
    writeModel(join(dir, 'm.onnx'), linearEncoder([[1, 0, 0]], null));
    const base = {
      workDir: 'work',
      teacher: 'm.onnx',
      student: { path: 'm.onnx', name: 's' },
      train: 'train',
      test: [{ name: 'test', path: 'train' }],
      ood: ['ood'],
    };
    const stages: string[] = [];
    await assert.rejects(
      runExperiment({ config: parseRunConfig(base, dir), onStage: (s) => stages.push(s) }),
      /Set "ood".*zebra/,
    );
    assert.equal(stages.filter((s) => s.startsWith('extract')).length, 0);
    const bad = join(dir, 'bad.onnx');
    writeModel(bad, new Uint8Array([1, 2, 3]));
    await assert.rejects(
      runExperiment({
        config: parseRunConfig({ ...base, ood: [], student: 'bad.onnx' }, dir),
        onStage: (s) => stages.push(s),
      }),
      /Cannot load model/,
    );
    assert.equal(stages.filter((s) => s.startsWith('extract')).length, 0);
  });
});
