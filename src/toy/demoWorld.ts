/**
 * The demo world: the paper's structured feature model rendered as images, so that the real pipeline
 * (PNG files -> ONNX encoders -> probes -> report) runs on it.
 *
 * Latent z = [core; background] (32 + 32 dims, as the paper's synthetic experiment). The core determines the
 * class: class k's core is r u_k + N(0, sigma^2 I) with u_k a random unit vector. The background is independent
 * of the class: U[0,1]^32 in distribution (non-zero mean, as in the paper), shifted for the OOD sets
 * (U[-1,0]^32 is the paper's shift). A fixed matrix T with orthonormal rows (64 x 768) mixes z into a 16x16 RGB
 * image: pixel = 127.5 + scale * (T^T z), rounded, scale chosen so that no pixel clips.
 *
 * The teacher reads only the core subspace: features = ReLU(A P_core(x) + b), robust to any background shift
 * by construction. Pure: no I/O.
 */
import type { Mat } from '../compute/gemm.js';
import { Rng } from '../math/rng.js';
import { randomOrthonormalRows } from './structuredData.js';
import { DEMO_DEFAULTS } from '../options.js';

export interface DemoWorldSpec {
  classes: number;
  coreDim: number;
  backgroundDim: number;
  /** Images are side x side RGB; input dimension 3 side^2. */
  side: number;
  /** Distance of the class means from the origin, and the per-dimension noise around them. */
  coreRadius: number;
  coreNoise: number;
  teacherDim: number;
  seed: number;
}

export const DEMO_WORLD_DEFAULTS: DemoWorldSpec = {
  classes: 6,
  coreDim: 32,
  backgroundDim: 32,
  side: 16,
  coreRadius: 1.5,
  coreNoise: 0.5,
  teacherDim: 64,
  seed: DEMO_DEFAULTS.seed,
};

/** Background distribution of a set: U[lo, hi]^d per coordinate. */
export interface BackgroundRange {
  lo: number;
  hi: number;
}

export interface DemoSetSpec {
  name: string;
  role: 'train' | 'test' | 'ood';
  perClass: number;
  background: BackgroundRange;
  /** Description for the README and the manifest. */
  description: string;
}

export const DEMO_SETS: readonly DemoSetSpec[] = [
  {
    name: 'train',
    role: 'train',
    perClass: 200,
    background: { lo: 0, hi: 1 },
    description: 'ID training set, background U[0,1]^32',
  },
  {
    name: 'test',
    role: 'test',
    perClass: 100,
    background: { lo: 0, hi: 1 },
    description: 'ID test set, background U[0,1]^32',
  },
  {
    name: 'ood-shift',
    role: 'ood',
    perClass: 100,
    background: { lo: -0.5, hi: 0.5 },
    description: "OOD, background U[-0.5,0.5]^32 (half the paper's shift)",
  },
  {
    name: 'ood-flip',
    role: 'ood',
    perClass: 100,
    background: { lo: -1, hi: 0 },
    description: "OOD, background U[-1,0]^32 (the paper's shift)",
  },
];

export interface DemoWorld {
  spec: DemoWorldSpec;
  /** [coreDim + backgroundDim, 3 side^2], orthonormal rows: latent -> pixel offsets. */
  mixing: Mat;
  /** [classes, coreDim] class directions (unit vectors). */
  classDirections: Float64Array;
  /** Teacher's map on the core: [teacherDim, coreDim] and bias [teacherDim]. */
  teacherA: Float32Array;
  teacherB: Float32Array;
  className: (k: number) => string;
}

export function createDemoWorld(spec: DemoWorldSpec = DEMO_WORLD_DEFAULTS): DemoWorld {
  const rng = new Rng(spec.seed);
  const d = 3 * spec.side * spec.side;
  const mixing = randomOrthonormalRows(spec.coreDim + spec.backgroundDim, d, rng);
  const classDirections = new Float64Array(spec.classes * spec.coreDim);
  for (let k = 0; k < spec.classes; k++) {
    let norm = 0;
    for (let j = 0; j < spec.coreDim; j++) {
      const v = rng.normal();
      classDirections[k * spec.coreDim + j] = v;
      norm += v * v;
    }
    for (let j = 0; j < spec.coreDim; j++) classDirections[k * spec.coreDim + j]! /= Math.sqrt(norm);
  }
  // Random ReLU features of the core (He-style scale); a small bias keeps about half the units active.
  const teacherA = new Float32Array(spec.teacherDim * spec.coreDim);
  for (let i = 0; i < teacherA.length; i++) teacherA[i] = rng.normal() * Math.sqrt(2 / spec.coreDim);
  const teacherB = new Float32Array(spec.teacherDim);
  for (let i = 0; i < teacherB.length; i++) teacherB[i] = rng.normal() * 0.1;
  const names = ['amber', 'basalt', 'cobalt', 'dune', 'ember', 'fern', 'glacier', 'heather', 'indigo', 'jade'];
  return { spec, mixing, classDirections, teacherA, teacherB, className: (k) => names[k] ?? `class${k}` };
}

export interface DemoSample {
  /** [n, coreDim + backgroundDim] latents. */
  latent: Float64Array;
  labels: Int32Array;
  n: number;
}

/** Samples a set: perClass images of each class, class-major order. */
export function sampleDemoSet(world: DemoWorld, set: DemoSetSpec, seed: number): DemoSample {
  const { classes, coreDim, backgroundDim, coreRadius, coreNoise } = world.spec;
  const rng = new Rng(seed);
  const z = coreDim + backgroundDim;
  const n = classes * set.perClass;
  const latent = new Float64Array(n * z);
  const labels = new Int32Array(n);
  for (let k = 0, i = 0; k < classes; k++) {
    for (let r = 0; r < set.perClass; r++, i++) {
      labels[i] = k;
      for (let j = 0; j < coreDim; j++)
        latent[i * z + j] = coreRadius * world.classDirections[k * coreDim + j]! + coreNoise * rng.normal();
      const { lo, hi } = set.background;
      for (let j = 0; j < backgroundDim; j++) latent[i * z + coreDim + j] = lo + (hi - lo) * rng.uniform();
    }
  }
  return { latent, labels, n };
}

/** Pixel offsets x = z T (before scaling), [n, 3 side^2]. */
export function latentToOffsets(world: DemoWorld, s: DemoSample): Float64Array {
  const T = world.mixing;
  const out = new Float64Array(s.n * T.cols);
  for (let i = 0; i < s.n; i++) {
    for (let k = 0; k < T.rows; k++) {
      const a = s.latent[i * T.rows + k]!;
      if (a === 0) continue;
      const off = k * T.cols;
      for (let j = 0; j < T.cols; j++) out[i * T.cols + j]! += a * T.data[off + j]!;
    }
  }
  return out;
}

/** The scale that maps the largest |offset| of all sets to 127 grey levels: no pixel clips. */
export function pixelScale(offsets: readonly Float64Array[]): number {
  let m = 0;
  for (const o of offsets) for (let i = 0; i < o.length; i++) m = Math.max(m, Math.abs(o[i]!));
  return 127 / m;
}

/**
 * Offsets -> RGB bytes in HWC order (PNG layout). The pixel vector is indexed CHW (the ONNX input layout), so
 * element c*side^2 + y*side + x of the offsets is channel c at (x, y).
 */
export function offsetsToImage(offsets: Float64Array, row: number, side: number, scale: number): Uint8Array {
  const hw = side * side;
  const d = 3 * hw;
  const img = new Uint8Array(d);
  for (let c = 0; c < 3; c++) {
    for (let p = 0; p < hw; p++) {
      const v = Math.round(127.5 + scale * offsets[row * d + c * hw + p]!);
      img[p * 3 + c] = Math.max(0, Math.min(255, v));
    }
  }
  return img;
}

/**
 * The encoders' input for an image, as `extract` computes it with mean = std = 0.5 and no resampling:
 * v = (pixel / 255 - 0.5) / 0.5, CHW.
 */
export function imageToInput(img: Uint8Array, side: number, out: Float32Array, offset: number): void {
  const hw = side * side;
  for (let c = 0; c < 3; c++)
    for (let p = 0; p < hw; p++) out[offset + c * hw + p] = (img[p * 3 + c]! / 255 - 0.5) / 0.5;
}

/**
 * The teacher as one affine map then ReLU on the encoder input v: z_core ~= P_core T v / (scale/127.5) up to
 * the half-grey-level offset of 127.5 vs 255/2 (zero here) and rounding. Returns W [teacherDim, d] and bias.
 */
export function teacherWeights(world: DemoWorld, scale: number): { weight: Float32Array; bias: Float32Array } {
  const { coreDim, teacherDim } = world.spec;
  const T = world.mixing;
  const d = T.cols;
  // v = (p/255 - 0.5)/0.5 = (p - 127.5)/127.5 and p - 127.5 = scale * x, so x = v * 127.5 / scale.
  const k = 127.5 / scale;
  const weight = new Float32Array(teacherDim * d);
  for (let o = 0; o < teacherDim; o++) {
    for (let j = 0; j < coreDim; j++) {
      const a = world.teacherA[o * coreDim + j]! * k;
      const off = j * d;
      for (let i = 0; i < d; i++) weight[o * d + i]! += a * T.data[off + i]!;
    }
  }
  return { weight, bias: world.teacherB.slice() };
}
