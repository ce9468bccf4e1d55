/**
 * AdamW as PyTorch's torch.optim.AdamW (decoupled weight decay applied to every parameter, bias-corrected
 * moments, eps added after the square root), the warmup + cosine schedule of the paper's code (wise-ft's
 * `cosine_lr`: lr (step+1)/warmup during warmup, then 0.5 (1 + cos(pi e / es)) lr), and global-norm gradient
 * clipping as torch.nn.utils.clip_grad_norm_. `AdamW` keeps float64 state; one optimizer owns one flat parameter
 * vector. The float32 functions at the end are the reference of compute/adamw.wat (the paper probe's fused
 * step), written so that each operation rounds to float32 exactly as the WebAssembly instruction does.
 */

export interface AdamWOptions {
  lr: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
}

export const ADAMW_DEFAULTS: AdamWOptions = { lr: 1e-3, weightDecay: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8 };

export class AdamW {
  private readonly m: Float64Array;
  private readonly v: Float64Array;
  private t = 0;
  readonly o: AdamWOptions;
  constructor(size: number, options: Partial<AdamWOptions> = {}) {
    this.o = { ...ADAMW_DEFAULTS, ...options };
    this.m = new Float64Array(size);
    this.v = new Float64Array(size);
  }

  get steps(): number {
    return this.t;
  }

  /** One update of `params` with `grad` at learning rate `lr` (the schedule's value for this step). */
  step(params: Float64Array, grad: Float64Array, lr: number): void {
    const { beta1, beta2, eps, weightDecay } = this.o;
    this.t++;
    const bc1 = 1 - beta1 ** this.t;
    const bc2 = 1 - beta2 ** this.t;
    const stepSize = lr / bc1;
    const sqrtBc2 = Math.sqrt(bc2);
    const decay = 1 - lr * weightDecay;
    const m = this.m,
      v = this.v;
    for (let i = 0; i < params.length; i++) {
      const g = grad[i]!;
      params[i] = params[i]! * decay;
      const mi = beta1 * m[i]! + (1 - beta1) * g;
      const vi = beta2 * v[i]! + (1 - beta2) * g * g;
      m[i] = mi;
      v[i] = vi;
      params[i] = params[i]! - (stepSize * mi) / (Math.sqrt(vi) / sqrtBc2 + eps);
    }
  }
}

/** Learning rate at 0-based `step` of `totalSteps` with linear warmup then cosine decay to 0. */
export function cosineLr(baseLr: number, warmupSteps: number, totalSteps: number, step: number): number {
  if (step < warmupSteps) return (baseLr * (step + 1)) / warmupSteps;
  const e = step - warmupSteps;
  const es = totalSteps - warmupSteps;
  if (es <= 0) return 0;
  return 0.5 * (1 + Math.cos((Math.PI * e) / es)) * baseLr;
}

/** Scales grad in place so that its L2 norm is at most maxNorm; returns the norm before clipping. */
export function clipGradNorm(grad: Float64Array, maxNorm: number): number {
  let s = 0;
  for (let i = 0; i < grad.length; i++) s += grad[i]! * grad[i]!;
  const norm = Math.sqrt(s);
  // torch: clip_coef = max_norm / (total_norm + 1e-6), applied when < 1.
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) for (let i = 0; i < grad.length; i++) grad[i] = grad[i]! * coef;
  return norm;
}

/** The float32 constants of one fused AdamW step (adamwF32Reference, compute/adamw.wat's `adamw`). */
export interface AdamWF32Constants {
  /** Gradient scale: the clipping factor, or 1. */
  gs: number;
  /** 1 - lr weightDecay. */
  decay: number;
  /** lr / (1 - beta1^t). */
  step: number;
  b1: number;
  omb1: number;
  b2: number;
  omb2: number;
  /** 1 / sqrt(1 - beta2^t). */
  isb2: number;
  eps: number;
}

/**
 * The constants of step `t` (1-based) at learning rate `lr`, computed in float64 as AdamW.step does and then
 * rounded once to float32. `gradScale` is the clipping factor (1: no clipping).
 */
export function adamwF32Constants(o: AdamWOptions, t: number, lr: number, gradScale: number): AdamWF32Constants {
  const f = Math.fround;
  return {
    gs: f(gradScale),
    decay: f(1 - lr * o.weightDecay),
    step: f(lr / (1 - o.beta1 ** t)),
    b1: f(o.beta1),
    omb1: f(1 - o.beta1),
    b2: f(o.beta2),
    omb2: f(1 - o.beta2),
    isb2: f(1 / Math.sqrt(1 - o.beta2 ** t)),
    eps: f(o.eps),
  };
}

/**
 * One AdamW update over the first n float32 values of p, m, v with gradient g, in place, every operation
 * rounded to float32 (a float64 result of one +, -, *, / or sqrt of float32 operands, rounded to float32, is
 * the correctly rounded float32 result). Reference of compute/adamw.wat's `adamw`.
 */
export function adamwF32Reference(
  p: Float32Array,
  m: Float32Array,
  v: Float32Array,
  g: Float32Array,
  n: number,
  c: AdamWF32Constants,
): void {
  const f = Math.fround;
  for (let i = 0; i < n; i++) {
    const gi = f(g[i]! * c.gs);
    const pi = f(p[i]! * c.decay);
    const mi = f(f(c.b1 * m[i]!) + f(c.omb1 * gi));
    const vi = f(f(c.b2 * v[i]!) + f(c.omb2 * f(gi * gi)));
    m[i] = mi;
    v[i] = vi;
    p[i] = f(pi - f(f(c.step * mi) / f(f(f(Math.sqrt(vi)) * c.isb2) + c.eps)));
  }
}

/**
 * Sum of squares of g[0, n) (n a multiple of 4) in float64, in compute/adamw.wat's order: two two-lane
 * accumulators, a over elements 4i, 4i+1 and b over 4i+2, 4i+3, combined as (a0 + a1) + (b0 + b1).
 */
export function sumSquaresF32Reference(g: Float32Array, n: number): number {
  let a0 = 0,
    a1 = 0,
    b0 = 0,
    b1 = 0;
  for (let i = 0; i < n; i += 4) {
    const x0 = g[i]!,
      x1 = g[i + 1]!,
      x2 = g[i + 2]!,
      x3 = g[i + 3]!;
    a0 += x0 * x0;
    a1 += x1 * x1;
    b0 += x2 * x2;
    b1 += x3 * x3;
  }
  return a0 + a1 + (b0 + b1);
}
