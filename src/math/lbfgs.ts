/**
 * Limited-memory BFGS for smooth unconstrained problems (Nocedal & Wright, Algorithms 7.4, 3.5 and 3.6):
 * two-loop recursion with the scaled identity H0 = (s'y / y'y) I and a strong-Wolfe line search with cubic
 * interpolation. Everything is float64 and sequential, so a run is reproducible bit for bit.
 *
 * Convergence is judged like scipy's L-BFGS-B as scikit-learn calls it: max |gradient| <= gtol, or a relative
 * decrease of f below ftol.
 */

/** Writes the gradient at x into `grad` and returns f(x). */
export type Objective = (x: Float64Array, grad: Float64Array) => Promise<number>;

export type StopReason = 'gtol' | 'ftol' | 'max-iter' | 'line-search';

export interface LbfgsOptions {
  /** Stop when max_i |g_i| <= gtol. */
  gtol: number;
  /** Stop when (f_prev - f) / max(|f_prev|, |f|, 1) <= ftol. */
  ftol: number;
  maxIter: number;
  /** Number of correction pairs kept (scipy's default is 10). */
  memory: number;
  /** Called after every accepted step (progress reporting). */
  onIteration?: (info: LbfgsIteration) => void;
}

export interface LbfgsIteration {
  iteration: number;
  f: number;
  gradMaxAbs: number;
  evaluations: number;
}

export interface LbfgsResult {
  x: Float64Array;
  f: number;
  gradMaxAbs: number;
  iterations: number;
  evaluations: number;
  converged: boolean;
  reason: StopReason;
}

/** scipy's L-BFGS-B defaults (ftol = factr 1e7 * eps), which scikit-learn 1.2 keeps for LogisticRegression. */
export const DEFAULT_LBFGS: LbfgsOptions = {
  gtol: 1e-5,
  ftol: 1e7 * 2.220446049250313e-16,
  maxIter: 15000,
  memory: 10,
};

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i]!);
    if (v > m) m = v;
  }
  return m;
}

export async function minimizeLbfgs(
  fn: Objective,
  x0: Float64Array,
  opts: Partial<LbfgsOptions> = {},
): Promise<LbfgsResult> {
  const o: LbfgsOptions = { ...DEFAULT_LBFGS, ...opts };
  const n = x0.length;
  const m = o.memory;
  let x = Float64Array.from(x0);
  let g = new Float64Array(n);
  let xNew = new Float64Array(n);
  let gNew = new Float64Array(n);
  const p = new Float64Array(n);
  const S = Array.from({ length: m }, () => new Float64Array(n));
  const Y = Array.from({ length: m }, () => new Float64Array(n));
  const rho = new Float64Array(m);
  const alphaBuf = new Float64Array(m);
  let stored = 0;
  let head = 0; // index of the next slot to overwrite
  let evaluations = 0;

  const evalAt = async (alpha: number): Promise<{ f: number; dg: number }> => {
    for (let i = 0; i < n; i++) xNew[i] = x[i]! + alpha * p[i]!;
    const f = await fn(xNew, gNew);
    evaluations++;
    return { f, dg: dot(gNew, p) };
  };

  let f = await fn(x, g);
  evaluations++;
  let gmax = maxAbs(g);
  let iterations = 0;
  let reason: StopReason = 'max-iter';
  if (gmax <= o.gtol) reason = 'gtol';

  while (reason === 'max-iter' && iterations < o.maxIter) {
    // Two-loop recursion: p = -H g.
    for (let i = 0; i < n; i++) p[i] = -g[i]!;
    for (let j = 0; j < stored; j++) {
      const idx = (head - 1 - j + m) % m;
      const a = rho[idx]! * dot(S[idx]!, p);
      alphaBuf[idx] = a;
      const y = Y[idx]!;
      for (let i = 0; i < n; i++) p[i]! -= a * y[i]!;
    }
    if (stored > 0) {
      const last = (head - 1 + m) % m;
      const gamma = dot(S[last]!, Y[last]!) / dot(Y[last]!, Y[last]!);
      for (let i = 0; i < n; i++) p[i]! *= gamma;
    }
    for (let j = stored - 1; j >= 0; j--) {
      const idx = (head - 1 - j + m) % m;
      const b = rho[idx]! * dot(Y[idx]!, p);
      const s = S[idx]!;
      const a = alphaBuf[idx]!;
      for (let i = 0; i < n; i++) p[i]! += (a - b) * s[i]!;
    }
    let dg0 = dot(g, p);
    if (!(dg0 < 0)) {
      // Not a descent direction (numerical noise in the curvature pairs): restart from steepest descent.
      stored = 0;
      for (let i = 0; i < n; i++) p[i] = -g[i]!;
      dg0 = dot(g, p);
    }
    const alpha0 = stored === 0 ? Math.min(1, 1 / Math.sqrt(-dg0)) : 1;
    const ls = await strongWolfe(evalAt, f, dg0, alpha0);
    if (!ls.ok) {
      reason = 'line-search';
      break;
    }
    if (ls.needsReeval) await evalAt(ls.alpha);
    // Curvature pair from the accepted step.
    const slot = head;
    const s = S[slot]!,
      y = Y[slot]!;
    for (let i = 0; i < n; i++) {
      s[i] = xNew[i]! - x[i]!;
      y[i] = gNew[i]! - g[i]!;
    }
    const sy = dot(s, y);
    if (sy > 1e-10 * Math.sqrt(dot(s, s) * dot(y, y))) {
      rho[slot] = 1 / sy;
      head = (head + 1) % m;
      stored = Math.min(stored + 1, m);
    }
    const fPrev = f;
    [x, xNew] = [xNew, x];
    [g, gNew] = [gNew, g];
    f = ls.f;
    gmax = maxAbs(g);
    iterations++;
    o.onIteration?.({ iteration: iterations, f, gradMaxAbs: gmax, evaluations });
    if (gmax <= o.gtol) reason = 'gtol';
    else {
      // A step accepted inside f's noise band may raise f slightly: that is not a sign of convergence.
      const rel = (fPrev - f) / Math.max(Math.abs(fPrev), Math.abs(f), 1);
      if (rel >= 0 && rel <= o.ftol) reason = 'ftol';
    }
  }
  return { x, f, gradMaxAbs: gmax, iterations, evaluations, converged: reason === 'gtol' || reason === 'ftol', reason };
}

interface LineSearchResult {
  ok: boolean;
  alpha: number;
  f: number;
  /** The accepted point is not the last one evaluated: xNew/gNew must be recomputed at alpha. */
  needsReeval: boolean;
}

const C1 = 1e-4;
const C2 = 0.9;
const MAX_LS = 40;
/**
 * Near the optimum the decrease that Armijo asks for drops below the rounding noise of f (float32 logits
 * here) long before the gradient is small. Like Hager & Zhang's approximate Wolfe conditions, a step is then
 * judged by its directional derivative, which stays accurate: f may exceed f0 by this relative amount.
 */
const EPS_F = 1e-6;
/** Approximate Wolfe: the slope at the step may not be more positive than this fraction of |dg0|. */
const APPROX_UPPER = 0.8;

interface Eval {
  f: number;
  dg: number;
}
type EvalAt = (alpha: number) => Promise<Eval>;

/** Strong-Wolfe line search with approximate-Wolfe acceptance; evalAt leaves x + alpha p in the caller's buffers. */
async function strongWolfe(evalAt: EvalAt, f0: number, dg0: number, alphaInit: number): Promise<LineSearchResult> {
  const epsF = EPS_F * Math.abs(f0);
  const accept = (a: number, e: Eval): boolean =>
    (e.f <= f0 + C1 * a * dg0 && Math.abs(e.dg) <= -C2 * dg0) ||
    (e.f <= f0 + epsF && e.dg >= C2 * dg0 && e.dg <= -APPROX_UPPER * dg0);
  let aPrev = 0,
    fPrev = f0,
    dgPrev = dg0;
  let a = alphaInit;
  for (let i = 0; i < MAX_LS; i++) {
    const e = await evalAt(a);
    if (!Number.isFinite(e.f)) {
      a = (aPrev + a) / 2;
      continue;
    }
    if (accept(a, e)) return { ok: true, alpha: a, f: e.f, needsReeval: false };
    const noisy = e.f <= f0 + epsF;
    if (!noisy && (e.f > f0 + C1 * a * dg0 || (i > 0 && e.f >= fPrev))) {
      return zoom(evalAt, f0, dg0, accept, aPrev, fPrev, dgPrev, a, e.f, e.dg, MAX_LS - i - 1);
    }
    if (e.dg >= 0) return zoom(evalAt, f0, dg0, accept, a, e.f, e.dg, aPrev, fPrev, dgPrev, MAX_LS - i - 1);
    aPrev = a;
    fPrev = e.f;
    dgPrev = e.dg;
    a *= 4;
  }
  return { ok: false, alpha: 0, f: f0, needsReeval: false };
}

/** Shrinks [lo, hi] (lo: the better end, its slope pointing toward hi) until a step is acceptable. */
async function zoom(
  evalAt: EvalAt,
  f0: number,
  dg0: number,
  accept: (a: number, e: Eval) => boolean,
  lo: number,
  fLo: number,
  dgLo: number,
  hi: number,
  fHi: number,
  dgHi: number,
  budget: number,
): Promise<LineSearchResult> {
  const epsF = EPS_F * Math.abs(f0);
  for (let j = 0; j < budget; j++) {
    const a = interpolate(lo, fLo, dgLo, hi, fHi, dgHi);
    const e = await evalAt(a);
    if (Number.isFinite(e.f) && accept(a, e)) return { ok: true, alpha: a, f: e.f, needsReeval: false };
    const noisy = Number.isFinite(e.f) && e.f <= f0 + epsF && Math.abs(fLo - f0) <= epsF;
    // In the noise band f cannot rank the points: the slope's sign says on which side the minimum lies.
    const worse = noisy ? e.dg * (hi - lo) > 0 : !Number.isFinite(e.f) || e.f > f0 + C1 * a * dg0 || e.f >= fLo;
    if (worse) {
      hi = a;
      fHi = e.f;
      dgHi = e.dg;
    } else {
      if (e.dg * (hi - lo) >= 0) {
        hi = lo;
        fHi = fLo;
        dgHi = dgLo;
      }
      lo = a;
      fLo = e.f;
      dgLo = e.dg;
    }
    if (Math.abs(hi - lo) <= 1e-12 * Math.max(1, Math.abs(lo))) break;
  }
  // Out of budget or the interval collapsed: keep the better end if it lowered f, still a valid step.
  if (lo > 0 && fLo < f0) return { ok: true, alpha: lo, f: fLo, needsReeval: true };
  return { ok: false, alpha: 0, f: f0, needsReeval: false };
}
/** Minimizer of the cubic through both end points, kept inside the middle 80% of the interval. */
function interpolate(a: number, fa: number, da: number, b: number, fb: number, db: number): number {
  const lo = Math.min(a, b),
    hi = Math.max(a, b);
  const w = hi - lo;
  const d1 = da + db - (3 * (fa - fb)) / (a - b);
  const disc = d1 * d1 - da * db;
  let t = (a + b) / 2;
  if (disc >= 0 && Number.isFinite(fb) && Number.isFinite(db)) {
    const d2 = Math.sign(b - a) * Math.sqrt(disc);
    const c = b - ((b - a) * (db + d2 - d1)) / (db - da + 2 * d2);
    if (Number.isFinite(c)) t = c;
  }
  return Math.min(Math.max(t, lo + 0.1 * w), hi - 0.1 * w);
}
