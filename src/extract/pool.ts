/** Reduces an encoder output to one vector per image: [N,D], [N,D,1,1] (flattened) or [N,T,D] (cls/mean). */
import type { PoolName } from '../options.js';

export interface PooledOutput {
  data: Float32Array;
  dim: number;
}

export function poolOutput(data: Float32Array, dims: readonly number[], pool: PoolName | null): PooledOutput {
  const n = dims[0]!;
  if (dims.length === 2) return { data, dim: dims[1]! };
  if (dims.length === 4 && dims[2] === 1 && dims[3] === 1) return { data, dim: dims[1]! };
  if (dims.length === 3) {
    const t = dims[1]!;
    const d = dims[2]!;
    if (pool === null) throw new Error(`token output [${dims.join(', ')}] needs --pool cls or --pool mean`);
    const out = new Float32Array(n * d);
    for (let i = 0; i < n; i++) {
      const base = i * t * d;
      if (pool === 'cls') {
        out.set(data.subarray(base, base + d), i * d);
      } else {
        const acc = new Float64Array(d);
        for (let k = 0; k < t; k++) for (let j = 0; j < d; j++) acc[j]! += data[base + k * d + j]!;
        for (let j = 0; j < d; j++) out[i * d + j] = acc[j]! / t;
      }
    }
    return { data: out, dim: d };
  }
  throw new Error(`unsupported output shape [${dims.join(', ')}]: expected [N, D], [N, D, 1, 1] or [N, T, D]`);
}
