/**
 * SGD (momentum), Adam and AdamW over a list of float32 parameter tensors, step for step as torch.optim
 * (PyTorch 1.13+, default flags):
 *   sgd    g += wd p;  buf = g (first step) | momentum buf + g;  p -= lr buf
 *   adam   g += wd p (L2 coupled into the gradient); bias-corrected moments; p -= lr/bc1 m / (sqrt(v)/sqrt(bc2) + eps)
 *   adamw  p *= 1 - lr wd (decoupled decay), then the Adam step on the raw gradient
 * The state is float32 like PyTorch's, so a run tracks the reference to float rounding, not just in
 * expectation. Frozen tensors are simply not handed to the optimizer (as toy.py's requires_grad=False).
 */
import { OPTIMIZERS } from '../options.js';
export { OPTIMIZERS };
export type OptimizerKind = (typeof OPTIMIZERS)[number];

export interface OptimizerOptions {
  lr: number;
  weightDecay: number;
  /** SGD only (toy.py: 0.9). */
  momentum: number;
  beta1: number;
  beta2: number;
  eps: number;
}

export const OPTIMIZER_DEFAULTS: OptimizerOptions = {
  lr: 1e-3,
  weightDecay: 1e-3,
  momentum: 0.9,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
};

/** A trainable tensor and its gradient buffer (same length), both owned by the model. */
export interface ParamTensor {
  name: string;
  data: Float32Array;
  grad: Float32Array;
}

export class Optimizer {
  readonly options: OptimizerOptions;
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  private t = 0;

  constructor(
    readonly kind: OptimizerKind,
    private readonly params: ParamTensor[],
    options: Partial<OptimizerOptions> = {},
  ) {
    this.options = { ...OPTIMIZER_DEFAULTS, ...options };
    for (const p of params) {
      if (p.grad.length !== p.data.length)
        throw new RangeError(`Optimizer: ${p.name} has ${p.data.length} values but ${p.grad.length} gradients`);
    }
    this.m = params.map((p) => new Float32Array(p.data.length));
    this.v = kind === 'sgd' ? [] : params.map((p) => new Float32Array(p.data.length));
  }

  get steps(): number {
    return this.t;
  }

  /**
   * One update of every tensor from its current `grad`, at learning rate `lr` (default options.lr; a schedule
   * passes its value for this step, as PyTorch's LR schedulers overwrite the group's lr).
   */
  step(lr = this.options.lr): void {
    this.t++;
    const { weightDecay: wd, momentum, beta1, beta2, eps } = this.options;
    for (let k = 0; k < this.params.length; k++) {
      const { data: p, grad: g } = this.params[k]!;
      const m = this.m[k]!;
      const n = p.length;
      if (this.kind === 'sgd') {
        const first = this.t === 1;
        for (let i = 0; i < n; i++) {
          const gi = g[i]! + wd * p[i]!;
          const b = first ? gi : momentum * m[i]! + gi;
          m[i] = b;
          p[i] = p[i]! - lr * m[i]!;
        }
        continue;
      }
      const v = this.v[k]!;
      const bc1 = 1 - beta1 ** this.t;
      const sqrtBc2 = Math.sqrt(1 - beta2 ** this.t);
      const stepSize = lr / bc1;
      const decoupled = this.kind === 'adamw';
      const decay = decoupled ? 1 - lr * wd : 1;
      const coupled = decoupled ? 0 : wd;
      for (let i = 0; i < n; i++) {
        const pi = p[i]! * decay;
        const gi = g[i]! + coupled * p[i]!;
        m[i] = beta1 * m[i]! + (1 - beta1) * gi;
        v[i] = beta2 * v[i]! + (1 - beta2) * gi * gi;
        p[i] = pi - (stepSize * m[i]!) / (Math.sqrt(v[i]!) / sqrtBc2 + eps);
      }
    }
  }

  /** The optimizer's state (step count and moment buffers, views, not copies), for a checkpoint. */
  state(): OptimizerState {
    return { steps: this.t, m: this.m, v: this.v };
  }

  /**
   * Restores a state saved by `state()` from an optimizer over tensors of the same sizes; a resumed run then
   * continues with the same bytes as an uninterrupted one. Throws RangeError when the sizes differ.
   */
  restore(s: OptimizerState): void {
    const same = (a: Float32Array[], b: Float32Array[]): boolean =>
      a.length === b.length && a.every((x, k) => x.length === b[k]!.length);
    if (!Number.isInteger(s.steps) || s.steps < 0 || !same(this.m, s.m) || !same(this.v, s.v))
      throw new RangeError('Optimizer.restore: the saved state does not match this optimizer');
    this.t = s.steps;
    for (let k = 0; k < this.m.length; k++) this.m[k]!.set(s.m[k]!);
    for (let k = 0; k < this.v.length; k++) this.v[k]!.set(s.v[k]!);
  }
}

export interface OptimizerState {
  steps: number;
  /** First moments (SGD: momentum buffers), one per tensor. */
  m: Float32Array[];
  /** Second moments, one per tensor (empty for SGD). */
  v: Float32Array[];
}
