/**
 * The machine's measured GEMM rate: onnxruntime's Gemm (src/compute/gemm.ts, MLAS) on large square float32
 * matrices, all cores. It is the practical peak that the model-only ceiling is compared with.
 *
 *   node dist/bench/gemm.js [--size 2048] [--repeats 3]
 */
import { fileURLToPath } from 'node:url';
import { createOrtGemm, type Mat } from '../src/compute/gemm.js';
import { summarize, type Stats } from '../src/bench/bench.js';

export interface GemmRate {
  size: number;
  /** GFLOP/s, 2*n^3 FLOPs per product. */
  gflops: Stats;
}

export async function measureGemmRate(size = 2048, repeats = 5, threads?: number): Promise<GemmRate> {
  const gemm = await createOrtGemm(threads ? { threads } : {});
  const mat = (seed: number): Mat => {
    const data = new Float32Array(size * size);
    let s = seed;
    for (let i = 0; i < data.length; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      data[i] = s / 4294967296 - 0.5;
    }
    return { data, rows: size, cols: size };
  };
  const a = mat(1),
    b = mat(2),
    out = { data: new Float32Array(size * size), rows: size, cols: size };
  try {
    await gemm.matmul(a, false, b, false, out);
    // About two seconds per repeat at ~100 GFLOP/s for 2048.
    const products = Math.max(1, Math.round(2e11 / (2 * size ** 3)));
    const runs: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const t = performance.now();
      for (let p = 0; p < products; p++) await gemm.matmul(a, false, b, false, out);
      runs.push((products * 2 * size ** 3) / ((performance.now() - t) / 1000) / 1e9);
    }
    return { size, gflops: summarize(runs) };
  } finally {
    await gemm.dispose();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const opt = (n: string, d: number): number => {
    const i = process.argv.indexOf(`--${n}`);
    return i >= 0 ? Number(process.argv[i + 1]) : d;
  };
  const r = await measureGemmRate(opt('size', 2048), opt('repeats', 3));
  process.stdout.write(
    `GEMM ${r.size}^3: ${r.gflops.median.toFixed(1)} GFLOP/s (min ${r.gflops.min.toFixed(1)}, max ` +
      `${r.gflops.max.toFixed(1)})\n`,
  );
}
