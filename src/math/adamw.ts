/**
 * AdamW as PyTorch's torch.optim.AdamW (decoupled weight decay applied to every parameter, bias-corrected
 * moments, eps added after the square root), the warmup + cosine schedule of the paper's code (wise-ft's
 * `cosine_lr`: lr (step+1)/warmup during warmup, then 0.5 (1 + cos(pi e / es)) lr), and global-norm gradient
 * clipping as torch.nn.utils.clip_grad_norm_. float64 state; one optimizer owns one flat parameter vector.
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
