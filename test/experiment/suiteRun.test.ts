/**
 * `run --suite imagenet-ood` end to end on a partial ImageNet-style tree with real wnids: the protocol scores
 * ImageNet val over the probe's classes among all 1000 and ImageNet-R over those among its 200 although some
 * class folders are missing; --present-classes-only scores over the folders present. Every accuracy is
 * recomputed here from the stored features and probe weights with plain float64 loops.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { imagenetRWnids } from '../../src/dataset/imagenetMeta.js';
import { runExperiment } from '../../src/experiment/run.js';
import { suiteRun } from '../../src/experiment/suiteConfig.js';
import { readNpy } from '../../src/io/npy.js';
import { renderTerminal } from '../../src/report/terminal.js';
import { buildReport } from '../../src/report/build.js';
import { lcgUniform, tempDir, writeColourPair } from '../helpers/fixtures.js';

// Four ImageNet-R classes (so they are ImageNet classes too); A, B, C have a dominant colour channel, D none.
const [A, B, C, D] = imagenetRWnids().slice(0, 4) as [string, string, string, string];
const CHANNEL = new Map([
  [A, 0],
  [B, 1],
  [C, 2],
  [D, -1],
]);

async function makeClasses(root: string, classes: string[], perClass: number, seed: number, shift: number) {
  const rnd = lcgUniform(seed);
  for (const cls of classes) {
    mkdirSync(join(root, cls), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const base = 60 + shift * rnd() * 120;
      const rgb = [0, 1, 2].map((ch) =>
        Math.min(255, Math.round(base + (ch === CHANNEL.get(cls) ? 60 : 0) + (rnd() - 0.5) * 80)),
      );
      await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: rgb[0]!, g: rgb[1]!, b: rgb[2]! } } })
        .png()
        .toFile(join(root, cls, `${i}.png`));
    }
  }
}

type Matrix = { rows: number; cols: number; data: Float32Array };
function load(path: string): Matrix {
  const a = readNpy(path);
  return { rows: a.shape[0]!, cols: a.shape[1]!, data: a.data as Float32Array };
}

/** Top-1 of the probe on a feature dir, with only the probe columns `cols` competing (float64, first max wins). */
function top1Over(work: string, model: string, set: string, colNames: string[]): number {
  const probe = JSON.parse(readFileSync(join(work, 'probes', model, 'probe.json'), 'utf8'));
  const w = load(join(work, 'probes', model, 'weights.npy'));
  const x = load(join(work, 'features', model, set, 'features.npy'));
  const manifest = JSON.parse(readFileSync(join(work, 'features', model, set, 'manifest.json'), 'utf8'));
  const labels = Array.from(readNpy(join(work, 'features', model, set, 'labels.npy')).data as BigInt64Array, Number);
  const mean: number[] | null = probe.standardization?.mean ?? null;
  const std: number[] | null = probe.standardization?.std ?? null;
  const cols = colNames.map((c) => probe.classes.indexOf(c) as number);
  assert.ok(cols.every((c) => c >= 0));
  let right = 0;
  for (let i = 0; i < x.rows; i++) {
    let best = -1;
    let bestZ = -Infinity;
    for (const k of cols) {
      let z = w.data[k * w.cols + x.cols]!;
      for (let j = 0; j < x.cols; j++) {
        const v = x.data[i * x.cols + j]!;
        z += w.data[k * w.cols + j]! * (mean && std ? (v - mean[j]!) / std[j]! : v);
      }
      if (z > bestZ) {
        bestZ = z;
        best = k;
      }
    }
    if (probe.classes[best] === manifest.classes[labels[i]!]) right++;
  }
  return right / x.rows;
}

describe('run --suite on a partial tree', () => {
  it('scores over protocol label spaces, records missing sets, classes; --present-classes-only differs', async () => {
    const dir = tempDir('fcprobe-suite-run-');
    const data = join(dir, 'data');
    await makeClasses(join(data, 'imagenet', 'train'), [A, B, C, D], 8, 1, 0.3);
    await makeClasses(join(data, 'imagenet', 'val'), [A, B], 6, 2, 0.3);
    await makeClasses(join(data, 'imagenet-r'), [A, C], 8, 3, 1.0);
    writeColourPair(dir);
    const model = (p: string) => ({ path: p, resize: 8, crop: 8 });
    const run = async (presentOnly: boolean) => {
      const { config, suite } = suiteRun({
        suite: 'imagenet-ood',
        dataRoot: data,
        raw: {
          workDir: presentOnly ? 'work-present' : 'work',
          teacher: model('t.onnx'),
          student: model('s.onnx'),
          probe: { C: 1 },
          bootstrap: 0,
          ...(presentOnly ? { presentClassesOnly: true } : {}),
        },
        baseDir: dir,
        onNotice: () => {},
      });
      return { ...(await runExperiment({ config, suite })), config };
    };
    const protocol = await run(false);
    const present = await run(true);

    const acc = (r: typeof protocol, m: string, set: string) =>
      r.results.accuracy.find((a) => a.model === m && a.set === set)!;
    for (const m of ['teacher', 'student']) {
      // Protocol: val over the probe's classes among all 1000 (A, B, C, D), ImageNet-R over those among its 200
      // (also A, B, C, D: all four are ImageNet-R classes). Present: val over {A, B}, ImageNet-R over {A, C}.
      const p = protocol.workDir;
      assert.equal(acc(protocol, m, 'ImageNet').top1, top1Over(p, m, 'ImageNet', [A, B, C, D]));
      assert.equal(acc(protocol, m, 'ImageNet-R').top1, top1Over(p, m, 'ImageNet-R', [A, B, C, D]));
      assert.equal(acc(protocol, m, 'ImageNet-R').classes, 4);
      const q = present.workDir;
      assert.equal(acc(present, m, 'ImageNet').top1, top1Over(q, m, 'ImageNet', [A, B]));
      assert.equal(acc(present, m, 'ImageNet-R').top1, top1Over(q, m, 'ImageNet-R', [A, C]));
      assert.equal(acc(present, m, 'ImageNet-R').classes, 2);
    }
    // The two scorings differ on these images (checked on the recomputation, so the test is not vacuous).
    assert.ok(
      ['teacher', 'student'].some(
        (m) =>
          acc(protocol, m, 'ImageNet-R').top1 < acc(present, m, 'ImageNet-R').top1 ||
          acc(protocol, m, 'ImageNet').top1 < acc(present, m, 'ImageNet').top1,
      ),
    );

    // results.json: sets[] says how each set is scored and which classes are missing; suite lists every set.
    const saved = JSON.parse(readFileSync(join(protocol.workDir, 'results.json'), 'utf8'));
    const r = saved.sets.find((s: { name: string }) => s.name === 'ImageNet-R');
    assert.equal(r.scoredOver, 'protocol');
    assert.equal(r.classes.present, 2);
    assert.equal(r.classes.expected, 200);
    assert.deepEqual(
      r.classes.missing,
      imagenetRWnids().filter((w) => w !== A && w !== C),
    );
    assert.deepEqual(r.leftOut, { images: 0, entries: [] });
    assert.equal(saved.sets.find((s: { name: string }) => s.name === 'ImageNet').classes.present, 2);
    assert.equal(saved.suite.presentClassesOnly, false);
    // Missing sets are entries of sets[] (results.json has no suite.sets any more).
    const missing = saved.sets.filter((s: { found: boolean }) => !s.found).map((s: { suiteId: string }) => s.suiteId);
    assert.deepEqual(missing, ['imagenet-v2', 'imagenet-sketch', 'imagenet-a', 'objectnet']);
    assert.deepEqual(saved.sets.find((s: { suiteId: string }) => s.suiteId === 'imagenet-a').foldersTried, [
      'imagenet-a',
    ]);
    assert.equal(saved.suite.sets, undefined);
    const presentSaved = JSON.parse(readFileSync(join(present.workDir, 'results.json'), 'utf8'));
    assert.equal(presentSaved.sets.find((s: { name: string }) => s.name === 'ImageNet-R').scoredOver, 'present');
    assert.equal(presentSaved.suite.presentClassesOnly, true);

    // The report shows the missing sets and marks --present-classes-only.
    const text = renderTerminal(buildReport(protocol.results));
    assert.match(text, /ImageNet-Sketch +ood +missing/);
    assert.match(text, /ImageNet-R +ood +found +16 .* 2\/200/);
    assert.match(text, /ImageNet-A was not found under/);
    assert.doesNotMatch(text, /present-classes-only: sets are scored/);
    assert.match(renderTerminal(buildReport(present.results)), /--present-classes-only: sets are scored/);
  });
});
