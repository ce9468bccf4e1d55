/**
 * Probe solver benchmark: fcprobe's L-BFGS vs ml-logistic-regression vs scikit-learn on generated problems.
 *
 *   npx tsc -p . && node dist/bench/probe.js [--size small|large|all] [--C 1] [--tol 1e-7] [--ml-steps auto|N|0]
 *     [--sk-max-iter 1000] [--tight] [--repeat 1] [--rounds 0] [--sweep] [--aniso]
 *   --ml-steps auto: give ml-logistic-regression 100x fcprobe's time; a list (2,5,25) runs each step count.
 *
 * Problems: K Gaussian classes in D dimensions (class means ~ N(0, sep^2/D I), unit noise), then each
 * feature scaled and shifted at random so that standardization matters. Features are standardized with the
 * training statistics (fcprobe's code) and written as .npy; /usr/bin/python3 with scikit-learn (Debian's
 * python3-sklearn) fits the same standardized float32 features and scores both solutions' objective
 *   C * sum_i CE + 0.5 ||W||^2   (sklearn's, intercept unpenalized)
 * in float64, so the comparison does not depend on either side's own loss code.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { createOrtGemm } from '../src/compute/gemm.js';
import { computeLogits, fitSoftmaxRegression, splitWeights, thetaToWeights } from '../src/probe/logreg.js';
import { MetricsAccumulator } from '../src/probe/metrics.js';
import { fitMlLogisticRegression } from '../src/probe/mlBaseline.js';
import { Rng } from '../src/math/rng.js';
import { applyStandardization, computeStandardization } from '../src/math/standardize.js';
import { encodeNpy } from '../src/io/npy.js';
import { DEFAULT_C_GRID, sweepC } from '../src/probe/sweep.js';

interface Size {
  name: string;
  n: number;
  nTest: number;
  d: number;
  k: number;
  sep: number;
}
const SIZES: Size[] = [
  { name: '2000x512x10', n: 2000, nTest: 2000, d: 512, k: 10, sep: 2.5 },
  { name: '10000x2048x100', n: 10000, nTest: 5000, d: 2048, k: 100, sep: 4 },
];

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function generate(s: Size, seed: number): { x: Float32Array; y: Int32Array; xt: Float32Array; yt: Int32Array } {
  const rng = new Rng(seed);
  const { d, k } = s;
  const mu = new Float64Array(k * d);
  for (let i = 0; i < mu.length; i++) mu[i] = (rng.normal() * s.sep) / Math.sqrt(d);
  const scale = new Float64Array(d),
    shift = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    scale[j] = Math.exp(rng.normal());
    shift[j] = 3 * rng.normal();
  }
  // --aniso: add 16 strong shared noise directions (as real embeddings have), so that the nearest-centroid
  // rule (what a few gradient steps from zero give) is no longer near-optimal.
  const r = process.argv.includes('--aniso') ? 16 : 0;
  const U = new Float64Array(r * d);
  for (let i = 0; i < U.length; i++) U[i] = ((rng.normal() * 4) / Math.sqrt(d)) * Math.sqrt(d / 16);
  const draw = (n: number): { x: Float32Array; y: Int32Array } => {
    const x = new Float32Array(n * d),
      y = new Int32Array(n);
    const e = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      const c = i % k;
      y[i] = c;
      for (let j = 0; j < d; j++) e[j] = mu[c * d + j]! + rng.normal();
      for (let q = 0; q < r; q++) {
        const zq = rng.normal();
        for (let j = 0; j < d; j++) e[j]! += zq * U[q * d + j]!;
      }
      for (let j = 0; j < d; j++) x[i * d + j] = e[j]! * scale[j]! + shift[j]!;
    }
    return { x, y };
  };
  const tr = draw(s.n),
    te = draw(s.nTest);
  return { x: tr.x, y: tr.y, xt: te.x, yt: te.y };
}

async function accuracy(
  gemm: Awaited<ReturnType<typeof createOrtGemm>>,
  w: Float32Array,
  k: number,
  d: number,
  x: Float32Array,
  y: Int32Array,
): Promise<number> {
  const n = y.length;
  const logits = new Float32Array(n * k);
  await computeLogits(gemm, w, k, d, x, n, logits, splitWeights(w, k, d));
  const acc = new MetricsAccumulator(k, 1);
  acc.add(logits, n, y);
  return acc.result().top1;
}

const PY = `
import json, sys, time, numpy as np
from sklearn.linear_model import LogisticRegression
from scipy.special import logsumexp
d = sys.argv[1]; C = float(sys.argv[2]); max_iter = int(sys.argv[3])
X = np.load(d + '/xtrain.npy').astype(np.float64); y = np.load(d + '/ytrain.npy')
Xt = np.load(d + '/xtest.npy').astype(np.float64); yt = np.load(d + '/ytest.npy')
def objective(W, b):
    Z = X @ W.T + b
    ce = logsumexp(Z, axis=1) - Z[np.arange(len(y)), y]
    return C * ce.sum() + 0.5 * (W ** 2).sum()
secs = float('inf')
for _ in range(int(sys.argv[4])):
    t = time.perf_counter()
    clf = LogisticRegression(C=C, solver='lbfgs', multi_class='multinomial', max_iter=max_iter).fit(X, y)
    secs = min(secs, time.perf_counter() - t)
ours = np.load(d + '/weights.npy').astype(np.float64)
out = dict(seconds=secs, iterations=int(clf.n_iter_[0]), top1=float((clf.predict(Xt) == yt).mean()),
           objective=float(objective(clf.coef_, clf.intercept_)),
           ours_objective=float(objective(ours[:, :-1], ours[:, -1])))
if len(sys.argv) > 5:
    t = time.perf_counter()
    tight = LogisticRegression(C=C, solver='lbfgs', multi_class='multinomial', max_iter=10000, tol=1e-10).fit(X, y)
    out['tight_seconds'] = time.perf_counter() - t
    out['tight_objective'] = float(objective(tight.coef_, tight.intercept_))
    out['tight_iterations'] = int(tight.n_iter_[0])
print(json.dumps(out))
`;

async function main(): Promise<void> {
  const which = arg('size') ?? 'all';
  const C = Number(arg('C') ?? 1);
  const tol = Number(arg('tol') ?? 1e-7);
  const sizes = SIZES.filter((s) => which === 'all' || (which === 'small' ? s.n === 2000 : s.n === 10000));
  const python = '/usr/bin/python3';
  const haveSklearn =
    existsSync(python) &&
    (() => {
      try {
        execFileSync(python, ['-c', 'import sklearn'], { stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    })();
  console.log(
    `machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; node ` +
      `${process.version}; sklearn: ${haveSklearn ? 'yes' : 'absent'}`,
  );
  console.log(`C=${C}, fcprobe tol=${tol} (max |grad| of the mean-form objective)`);
  const gemm = await createOrtGemm();
  for (const s of sizes) {
    const dir = mkdtempSync(join(tmpdir(), 'fcprobe-bench-'));
    const { x, y, xt, yt } = generate(s, 7);
    const st = computeStandardization(x, s.n, s.d);
    applyStandardization(x, s.n, st);
    applyStandardization(xt, s.nTest, st);
    const repeat = Number(arg('repeat') ?? 1);
    let secs = Infinity;
    let fit: Awaited<ReturnType<typeof fitSoftmaxRegression>> | undefined;
    for (let r = 0; r < repeat; r++) {
      const t0 = performance.now();
      fit = await fitSoftmaxRegression(gemm, { x, n: s.n, d: s.d, labels: y, k: s.k }, { C, tol, maxIter: 5000 });
      secs = Math.min(secs, (performance.now() - t0) / 1000);
    }
    if (!fit) throw new Error('--repeat must be >= 1');
    const w = thetaToWeights(fit.theta);
    const top1 = await accuracy(gemm, w, s.k, s.d, xt, yt);
    console.log(`\n== ${s.name} ==${repeat > 1 ? ` (times: best of ${repeat})` : ''}`);
    console.log(
      `fcprobe lbfgs: ${secs.toFixed(2)} s, ${fit.iterations} it / ${fit.evaluations} evals (${fit.reason}), max|g| ` +
        `${fit.gradMaxAbs.toExponential(2)}, test top-1 ${(100 * top1).toFixed(2)}%`,
    );
    if (process.argv.includes('--sweep')) {
      // The realistic use: choose C on a held-out split (default grid), refit on all rows. Copies x because
      // the sweep reorders rows in place and the comparisons below use the original order.
      const xs = Float32Array.from(x),
        ys = Int32Array.from(y);
      const t0 = performance.now();
      const sw = await sweepC(
        gemm,
        { x: xs, n: s.n, d: s.d, labels: ys, k: s.k },
        { grid: DEFAULT_C_GRID, holdout: 0.2, rng: new Rng(0), tol, maxIter: 5000 },
      );
      const refit = await fitSoftmaxRegression(
        gemm,
        { x: xs, n: s.n, d: s.d, labels: ys, k: s.k },
        { C: sw.bestC, tol, maxIter: 5000, init: sw.bestTheta },
      );
      const swSecs = (performance.now() - t0) / 1000;
      const swTop1 = await accuracy(gemm, thetaToWeights(refit.theta), s.k, s.d, xt, yt);
      console.log(
        `fcprobe --C-sweep (${DEFAULT_C_GRID.length} values + refit): ${swSecs.toFixed(2)} s, chosen C ${sw.bestC}, ` +
          `test top-1 ${(100 * swTop1).toFixed(2)}%`,
      );
    }
    // ml-logistic-regression: time one step, then give it 100x fcprobe's time (or --ml-steps N) and
    // compare accuracies: if it is still less accurate, fcprobe is more than 100x faster at equal accuracy.
    const mlArg = arg('ml-steps') ?? 'auto';
    if (mlArg !== '0') {
      const t1 = performance.now();
      fitMlLogisticRegression(x, s.n, s.d, y, s.k, { numSteps: 1, learningRate: 5e-4 });
      const perStep = (performance.now() - t1) / 1000;
      const stepList =
        mlArg === 'auto' ? [Math.max(1, Math.ceil((100 * secs) / perStep))] : mlArg.split(',').map(Number);
      console.log(`ml-logistic-regression: ${perStep.toFixed(2)} s per step (all ${s.k} one-vs-all classifiers)`);
      for (const mlSteps of stepList) {
        const t2 = performance.now();
        const ml = fitMlLogisticRegression(x, s.n, s.d, y, s.k, { numSteps: mlSteps, learningRate: 5e-4 });
        const mlSecs = (performance.now() - t2) / 1000;
        const mlTop1 = await accuracy(gemm, ml.weights, s.k, s.d, xt, yt);
        console.log(
          `ml-logistic-regression (${mlSteps} steps, lr 5e-4): ${mlSecs.toFixed(2)} s, test top-1 ` +
            `${(100 * mlTop1).toFixed(2)}% ` +
            `-> ${(mlSecs / secs).toFixed(1)}x fcprobe's (C=${C}) time, ` +
            `${mlTop1 <= top1 ? 'less or equally accurate' : 'MORE accurate'}`,
        );
      }
    }
    if (haveSklearn) {
      writeFileSync(join(dir, 'xtrain.npy'), encodeNpy('<f4', [s.n, s.d], x));
      writeFileSync(join(dir, 'ytrain.npy'), encodeNpy('<i4', [s.n], y));
      writeFileSync(join(dir, 'xtest.npy'), encodeNpy('<f4', [s.nTest, s.d], xt));
      writeFileSync(join(dir, 'ytest.npy'), encodeNpy('<i4', [s.nTest], yt));
      writeFileSync(join(dir, 'weights.npy'), encodeNpy('<f4', [s.k, s.d + 1], w));
      writeFileSync(join(dir, 'bench.py'), PY);
      const pyArgs = [
        join(dir, 'bench.py'),
        dir,
        String(C),
        arg('sk-max-iter') ?? '1000',
        String(repeat),
        ...(process.argv.includes('--tight') ? ['tight'] : []),
      ];
      const r = JSON.parse(
        execFileSync(python, pyArgs, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }),
      ) as Record<string, number>;
      const rel = (r.ours_objective! - r.objective!) / Math.abs(r.objective!);
      console.log(
        `sklearn lbfgs (tol 1e-4, max_iter ${arg('sk-max-iter') ?? 1000}): ${r.seconds!.toFixed(2)} s, ` +
          `${r.iterations} it, test top-1 ${(100 * r.top1!).toFixed(2)}%`,
      );
      console.log(
        `objective C*sum CE + ||W||^2/2: sklearn ${r.objective!.toPrecision(10)}, fcprobe ` +
          `${r.ours_objective!.toPrecision(10)} (relative ${rel.toExponential(2)})`,
      );
      console.log(
        `top-1 difference fcprobe - sklearn: ${(100 * (top1 - r.top1!)).toFixed(2)} points; time ratio ` +
          `fcprobe/sklearn ${(secs / r.seconds!).toFixed(2)}`,
      );
      // --rounds R: alternate fcprobe and sklearn fits R times, so that both see the same background load.
      const rounds = Number(arg('rounds') ?? 0);
      const pairs: [number, number][] = [];
      for (let q = 0; q < rounds; q++) {
        const t0 = performance.now();
        await fitSoftmaxRegression(gemm, { x, n: s.n, d: s.d, labels: y, k: s.k }, { C, tol, maxIter: 5000 });
        const ours = (performance.now() - t0) / 1000;
        const rr = JSON.parse(
          execFileSync(python, [join(dir, 'bench.py'), dir, String(C), arg('sk-max-iter') ?? '1000', '1'], {
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'inherit'],
          }),
        ) as Record<string, number>;
        pairs.push([ours, rr.seconds!]);
        console.log(
          `round ${q + 1}: fcprobe ${ours.toFixed(2)} s, sklearn ${rr.seconds!.toFixed(2)} s (ratio ` +
            `${(ours / rr.seconds!).toFixed(2)})`,
        );
      }
      if (pairs.length > 0) {
        const med = (v: number[]): number => {
          const a = [...v].sort((p, q) => p - q);
          return a[Math.floor(a.length / 2)]!;
        };
        console.log(
          `median over ${pairs.length} alternating rounds: fcprobe ${med(pairs.map((p) => p[0])).toFixed(2)} s, ` +
            `sklearn ${med(pairs.map((p) => p[1])).toFixed(2)} s, median ratio ` +
            `${med(pairs.map((p) => p[0] / p[1])).toFixed(2)}`,
        );
      }
      if (r.tight_objective !== undefined) {
        console.log(
          `sklearn tol 1e-10: ${r.tight_seconds!.toFixed(2)} s, ${r.tight_iterations} it, objective ` +
            `${r.tight_objective!.toPrecision(10)}; fcprobe relative to it ` +
            `${((r.ours_objective! - r.tight_objective!) / Math.abs(r.tight_objective!)).toExponential(2)}, sklearn ` +
            `default relative to it ` +
            `${((r.objective! - r.tight_objective!) / Math.abs(r.tight_objective!)).toExponential(2)}`,
        );
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
  await gemm.dispose();
}

await main();
