/**
 * The hint fcprobe prints before a mini-batch probe fit on Linux (docs/scale.md, "Memory churn").
 *
 * Why a hint and not a setting: onnxruntime-node returns every output of a run as a new buffer, and where glibc
 * hands freed memory back to the kernel each step's 8 MB gradient costs ~2,000 page faults (measured up to 4x
 * the products' time on a 2-core VM, bench/output-copy.ts). glibc reads GLIBC_TUNABLES only at process start,
 * so fcprobe cannot set it for itself without re-executing, which would change how signals reach it.
 */

/** The GLIBC_TUNABLES value measured in docs/scale.md: keep up to 64 MiB chunks and 512 MiB of freed memory. */
export const TUNED_MALLOC = 'glibc.malloc.mmap_threshold=67108864:glibc.malloc.trim_threshold=536870912';

/** One line to print before a long mini-batch fit, or null where it does not apply (not Linux, or already set). */
export function mallocHint(env: NodeJS.ProcessEnv = process.env, platform: string = process.platform): string | null {
  if (platform !== 'linux' || env.GLIBC_TUNABLES !== undefined) return null;
  return (
    `hint: mini-batch fits on Linux run faster (same results) with GLIBC_TUNABLES=${TUNED_MALLOC} ` +
    'in the environment; see docs/scale.md'
  );
}
