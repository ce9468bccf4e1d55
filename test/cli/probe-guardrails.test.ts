/**
 * `fcprobe probe` states what decided its fit when the user did not (issue 23): a C sweep that could not tell
 * its values apart, a paper schedule that cannot finish its warm-up, a probe that ends at chance.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readNpy } from '../../src/io/npy.js';
import type { ProbeFile } from '../../src/probe/probe.js';
import { gaussianClasses, writeFeatureDir } from '../helpers/featureDir.js';
import { tempDir, runCli as cli } from '../helpers/fixtures.js';

/** k classes, one-hot means `sep` apart along their own axis, `perClass` rows each. */
function classesDir(root: string, name: string, k: number, perClass: number, sep: number, seed: number, d = k) {
  const means = Array.from({ length: k }, (_, c) => Array.from({ length: d }, (_, j) => (j === c ? sep : 0)));
  const g = gaussianClasses(means, k * perClass, seed, 1);
  const classes = Array.from({ length: k }, (_, c) => `c${c}`);
  return writeFeatureDir(join(root, name), { x: g.x, d: g.d, labels: g.labels, classes });
}

/** Top-1 of a saved probe on a feature directory, scored here in float64 from weights.npy (raw features). */
function scoreSaved(probeDir: string, featureDir: string): { correct: number; n: number; counts: number[] } {
  const w = readNpy(join(probeDir, 'weights.npy'));
  const x = readNpy(join(featureDir, 'features.npy'));
  const y = readNpy(join(featureDir, 'labels.npy'));
  const [k, d1] = w.shape as [number, number];
  const n = x.shape[0]!;
  const counts = Array<number>(k).fill(0);
  let correct = 0;
  for (let i = 0; i < n; i++) {
    let best = -1,
      arg = -1;
    for (let c = 0; c < k; c++) {
      let z = Number(w.data[c * d1 + d1 - 1]);
      for (let j = 0; j < d1 - 1; j++) z += Number(w.data[c * d1 + j]) * Number(x.data[i * (d1 - 1) + j]);
      if (z > best || arg < 0) [best, arg] = [z, c];
    }
    const label = Number(y.data[i]);
    counts[label]!++;
    if (arg === label) correct++;
  }
  return { correct, n, counts };
}

/** P[Binomial(n, p) >= k], summed term by term (the exact one-sided test behind "near chance"). */
function binomialUpperTail(k: number, n: number, p: number): number {
  let term = (1 - p) ** n; // P[X = 0]
  let tail = k <= 0 ? term : 0;
  for (let i = 1; i <= n; i++) {
    term *= ((n - i + 1) / i) * (p / (1 - p));
    if (i >= k) tail += term;
  }
  return tail;
}

describe('probe --C-sweep (command line)', () => {
  it('breaks a tie over all 13 values toward the smallest C, says so and does not advise a wider grid', () => {
    const root = tempDir('fcprobe-sweep-tie-');
    // 7 classes x 5 rows, holdout 0.2: one held-out row per class, 7 rows. Means 40 noise-sd apart: every
    // C of the grid classifies all 7 rows, so the split has nothing to choose with.
    const train = classesDir(root, 'train', 7, 5, 40, 1);
    const out = join(root, 'probe');
    const r = cli(['probe', '--train', train, '--out', out, '--C-sweep', '--quiet']);
    assert.equal(r.status, 0, r.stderr);
    const file = JSON.parse(readFileSync(join(out, 'probe.json'), 'utf8')) as ProbeFile;
    const sw = file.sweep!;
    assert.equal(sw.nVal, 7);
    assert.equal(sw.grid.length, 13);
    // The expectation from the points themselves: every value scored 7/7, so all tie and the smallest wins.
    assert.ok(sw.points.every((p) => p.valTop1 === 1));
    assert.equal(sw.tied, 13);
    assert.equal(file.C, Math.min(...sw.grid));
    assert.equal(file.C, 1e-4);
    assert.equal(sw.atGridEdge, false);
    assert.match(r.stdout, /13 of 13 C values tied at 100\.0% held-out top-1 on 7 rows: chose C=0\.0001 \(smallest\)/);
    assert.match(r.stdout, /the sweep carried no information/);
    assert.doesNotMatch(r.stdout + r.stderr, /extend --C-grid/);
  });

  it('keeps the edge advice when the edge value wins outright', () => {
    const root = tempDir('fcprobe-sweep-edge-');
    // Overlapping classes with many held-out rows: the held-out top-1 separates the grid's values.
    const train = classesDir(root, 'train', 3, 200, 1.5, 2);
    const out = join(root, 'probe');
    const r = cli(['probe', '--train', train, '--out', out, '--C-sweep', '--C-grid', '1e-6,1e-5', '--quiet']);
    assert.equal(r.status, 0, r.stderr);
    const sw = (JSON.parse(readFileSync(join(out, 'probe.json'), 'utf8')) as ProbeFile).sweep!;
    const best = Math.max(...sw.points.map((p) => p.valTop1));
    // The larger C wins outright on these 120 held-out rows (the points say so), and it is the grid's edge.
    assert.deepEqual(
      sw.points.filter((p) => p.valTop1 === best).map((p) => p.C),
      [1e-5],
    );
    assert.equal(sw.tied, 1);
    assert.equal(sw.atGridEdge, true);
    assert.match(r.stdout, /extend --C-grid/);
    assert.doesNotMatch(r.stdout, /tied/);
  });

  it('refuses --C together with --C-sweep (exit 2) instead of ignoring --C', () => {
    const root = tempDir('fcprobe-sweep-c-');
    const train = classesDir(root, 'train', 3, 10, 5, 3);
    const r = cli(['probe', '--train', train, '--out', join(root, 'p'), '--C', '1', '--C-sweep']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /Give either a fixed C \(--C 1, config probe\.C\) or a C sweep/);
    assert.equal(r.stderr.trim().split('\n').length, 2, r.stderr);
  });
});

describe('probe --recipe paper on a small set (command line)', () => {
  // 7 classes x 6 rows = 42 rows, 16 features: 10 epochs of one batch of 256 are 10 steps, all inside the
  // default 500-step warm-up.
  const root = tempDir('fcprobe-paper-small-');
  const train = classesDir(root, 'train', 7, 6, 3, 2, 16);

  it('scales the default warm-up to 1% of the steps, says so and records it', () => {
    const out = join(root, 'paper');
    const r = cli(['probe', '--train', train, '--out', out, '--recipe', 'paper', '--weight-decay', '1e-3', '--quiet']);
    assert.equal(r.status, 0, r.stderr);
    const file = JSON.parse(readFileSync(join(out, 'probe.json'), 'utf8')) as ProbeFile;
    const total = 10 * Math.ceil(42 / 256);
    assert.equal(file.convergence.iterations, total);
    assert.equal(file.settings.warmupSteps, Math.floor(0.01 * total));
    assert.deepEqual(
      file.decided?.map((x) => [x.setting, x.value]),
      [['warmup', 0]],
    );
    assert.match(file.decided![0]!.from, /scaled from the default 500, which is not below the 10 optimizer steps/);
    assert.match(r.stdout, /note: --warmup 0: scaled from the default 500/);
  });

  it('refuses a given --warmup that the steps never get past (exit 2), saying how to fix it', () => {
    const r = cli(
      ['probe', '--train', train, '--out', join(root, 'p500'), '--recipe', 'paper'].concat([
        '--weight-decay',
        '1e-3',
        '--warmup',
        '500',
      ]),
    );
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--warmup 500 is not below the 10 optimizer steps \(10 epochs x 1 batch of 256 rows\)/);
    assert.match(r.stderr, /hint: Give --warmup below 10/);
  });

  it('warns when the fitted probe is at chance on its own training rows, and not when it learned', () => {
    const paper = join(root, 'paper-chance');
    const r = cli(['probe', '--train', train, '--out', paper, '--recipe', 'paper', '--weight-decay', '1e-3']);
    assert.equal(r.status, 0, r.stderr);
    const file = JSON.parse(readFileSync(join(paper, 'probe.json'), 'utf8')) as ProbeFile;
    const s = scoreSaved(paper, train);
    const chance = Math.max(...s.counts) / s.n;
    assert.equal(chance, 6 / 42);
    assert.ok(Math.abs(file.trainFit!.top1 - s.correct / s.n) < 1e-12);
    assert.equal(file.trainFit!.chance, chance);
    // Near chance <=> the exact one-sided binomial test at 1% does not reject "top-1 = chance".
    const p = binomialUpperTail(s.correct, s.n, chance);
    assert.equal(file.trainFit!.nearChance, p > 0.01);
    assert.equal(file.trainFit!.nearChance, true, `${s.correct}/42 correct, p = ${p}`);
    assert.equal(file.warnings?.length, 1);
    assert.match(file.warnings![0]!, /not above chance \(14\.3%, the largest class's share\) at one-sided 99%/);
    assert.match(r.stdout, /warning: the probe scores [\d.]+% top-1 on its own 42 training rows, not above chance/);

    const lbfgs = join(root, 'lbfgs');
    const q = cli(['probe', '--train', train, '--out', lbfgs, '--no-standardize', '--quiet']);
    assert.equal(q.status, 0, q.stderr);
    const good = JSON.parse(readFileSync(join(lbfgs, 'probe.json'), 'utf8')) as ProbeFile;
    const t = scoreSaved(lbfgs, train);
    assert.ok(binomialUpperTail(t.correct, t.n, chance) < 0.01, `${t.correct}/42`);
    assert.equal(good.trainFit!.nearChance, false);
    assert.equal(good.warnings, undefined);
    assert.doesNotMatch(q.stdout, /warning:/);
  });
});

describe('probe top-5 with few classes (command line)', () => {
  it('prints chance@5 beside top-5 and says top-5 says little at 10 classes or fewer', () => {
    const root = tempDir('fcprobe-top5-');
    const train = classesDir(root, 'train', 7, 10, 3, 4);
    const val = classesDir(root, 'val', 7, 4, 3, 5);
    const many = classesDir(root, 'train12', 12, 5, 3, 6);
    const r = cli(['probe', '--train', train, '--eval', val, '--out', join(root, 'p'), '--quiet']);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.split('\n');
    const header = lines
      .find((l) => l.startsWith('set '))!
      .trim()
      .split(/\s{2,}/);
    const row = lines
      .find((l) => l.startsWith('val '))!
      .trim()
      .split(/\s{2,}/);
    assert.equal(header[header.indexOf('top-5 %') + 1], 'chance@5 %');
    assert.equal(row[header.indexOf('chance@5 %')], ((100 * 5) / 7).toFixed(2));
    assert.match(r.stdout, /top-5 on val \(7 classes\): chance@5 is 50% or more, so top-5 says little there/);
    // 12 classes: chance@5 = 5/12 = 41.67%, below one half, so no such line.
    const q = cli(['probe', '--train', many, '--eval', many, '--out', join(root, 'q'), '--quiet']);
    assert.equal(q.status, 0, q.stderr);
    assert.match(q.stdout, /41\.67/);
    assert.doesNotMatch(q.stdout, /says little/);
  });
});
