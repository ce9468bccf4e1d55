/**
 * The paper probe's optimizer state and step: float32 parameters, gradient and AdamW moments in one
 * WebAssembly memory, updated by the SIMD kernels of adamw.wat (bit-identical to math/adamw.ts's float32
 * reference, which runs instead where the runtime has no WebAssembly SIMD).
 *
 * Why one memory: the views `params` and `grad` are handed to onnxruntime as GEMM operands and outputs, so the
 * forward product reads the weights and the backward product writes the gradient where the kernel works, with
 * no copy and no allocation per step.
 */
import { readFileSync } from 'node:fs';
import {
  ADAMW_DEFAULTS,
  adamwF32Constants,
  adamwF32Reference,
  sumSquaresF32Reference,
  type AdamWOptions,
} from '../math/adamw.js';

interface Kernels {
  memory: WebAssembly.Memory;
  sumsq(g: number, n: number): number;
  adamw(
    p: number,
    m: number,
    v: number,
    g: number,
    n: number,
    gs: number,
    decay: number,
    step: number,
    b1: number,
    omb1: number,
    b2: number,
    omb2: number,
    isb2: number,
    eps: number,
  ): void;
}

let compiled: WebAssembly.Module | null | undefined;
function wasmModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(readFileSync(new URL('./adamw.wasm', import.meta.url)));
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** Whether the WebAssembly kernels load in this runtime (else the float32 TypeScript reference runs). */
export function adamwWasmAvailable(): boolean {
  return wasmModule() !== null;
}

export interface FusedAdamWOptions extends Partial<AdamWOptions> {
  /** Force the TypeScript reference (tests; runtimes without SIMD use it anyway). */
  reference?: boolean;
}

export class FusedAdamW {
  /** The float32 parameters (length `size`); callers initialize them and may read them at any time. */
  readonly params: Float32Array;
  /** Where the caller writes the gradient before each `step` (length `size`). */
  readonly grad: Float32Array;
  readonly o: AdamWOptions;
  /** 'wasm' or 'js' (the reference). */
  readonly backend: 'wasm' | 'js';
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private readonly padded: number;
  /** params and grad including the zero padding (what the kernels see). */
  private readonly pAll: Float32Array;
  private readonly gAll: Float32Array;
  private readonly k: Kernels | null;
  private readonly offsets: { p: number; m: number; v: number; g: number };
  private t = 0;

  /** `size` parameters, all zero until the caller sets them; throws RangeError for a size below 1. */
  constructor(
    readonly size: number,
    options: FusedAdamWOptions = {},
  ) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`FusedAdamW: size must be >= 1, got ${size}`);
    const { reference, ...adam } = options;
    this.o = { ...ADAMW_DEFAULTS, ...adam };
    // Padding to whole vectors: the padded parameters have zero gradient and stay exactly zero.
    const n = (size + 3) & ~3;
    this.padded = n;
    const bytes = n * 4;
    this.offsets = { p: 0, m: bytes, v: 2 * bytes, g: 3 * bytes };
    const mod = reference ? null : wasmModule();
    let buf: ArrayBuffer;
    if (mod) {
      const k = new WebAssembly.Instance(mod, {}).exports as unknown as Kernels;
      const need = 4 * bytes;
      const have = k.memory.buffer.byteLength;
      // Grown once here: growing later would detach the views below.
      if (need > have) k.memory.grow(Math.ceil((need - have) / 65536));
      buf = k.memory.buffer;
      this.k = k;
      this.backend = 'wasm';
    } else {
      buf = new ArrayBuffer(4 * bytes);
      this.k = null;
      this.backend = 'js';
    }
    this.params = new Float32Array(buf, this.offsets.p, size);
    this.m = new Float32Array(buf, this.offsets.m, n);
    this.v = new Float32Array(buf, this.offsets.v, n);
    this.grad = new Float32Array(buf, this.offsets.g, size);
    this.pAll = new Float32Array(buf, this.offsets.p, n);
    this.gAll = new Float32Array(buf, this.offsets.g, n);
  }

  get steps(): number {
    return this.t;
  }

  /**
   * Clips `grad` to global L2 norm `clipNorm` (torch's clip_grad_norm_: factor maxNorm / (norm + 1e-6) when
   * below 1; null: no clipping) and applies one AdamW update at learning rate `lr`. Returns the gradient norm
   * before clipping (computed in float64). `grad` is left as written (the clipping factor is applied on the fly).
   */
  step(lr: number, clipNorm: number | null): number {
    this.t++;
    const n = this.padded;
    const norm = Math.sqrt(this.k ? this.k.sumsq(this.offsets.g, n) : sumSquaresF32Reference(this.gAll, n));
    let gs = 1;
    if (clipNorm !== null) {
      const coef = clipNorm / (norm + 1e-6);
      if (coef < 1) gs = coef;
    }
    const c = adamwF32Constants(this.o, this.t, lr, gs);
    if (this.k) {
      const f = this.offsets;
      this.k.adamw(f.p, f.m, f.v, f.g, n, c.gs, c.decay, c.step, c.b1, c.omb1, c.b2, c.omb2, c.isb2, c.eps);
    } else {
      adamwF32Reference(this.pAll, this.m, this.v, this.gAll, n, c);
    }
    return norm;
  }
}
