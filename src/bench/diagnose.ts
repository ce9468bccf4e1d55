/**
 * Why end-to-end extraction falls short of min(model-only ceiling, decode-only rate), and which flag to try:
 * pure, from the benchmark's own figures, so the advice follows what was measured rather than a guess.
 */

/** Below this fraction of min(ceiling, decode), the benchmark explains and suggests a flag. */
export const SHORTFALL_RATIO = 0.7;

export interface ShortfallInput {
  /** Model-only images/s (medians) per batch size. */
  ceiling: { batch: number; imagesPerSecond: number }[];
  /** Decode-only images/s (median) at `decodeConcurrency` images in flight. */
  decode: number;
  decodeConcurrency: number;
  /** End to end: images/s (median) at `batch`. */
  endToEnd: number;
  batch: number;
  /** Cores of the machine; the intra-op threads used (null: onnxruntime's default, one per core). */
  cores: number;
  threads: number | null;
  /** The provider ran on a GPU (inference does not compete with decoding for cores). */
  gpu: boolean;
}

export interface Suggestion {
  /** Extra `fcprobe extract` arguments to try, e.g. ['--threads', '1']. */
  args: string[];
  /** Why, citing the figures it rests on. */
  why: string;
}

export interface Shortfall {
  /** endToEnd / min(ceiling at batch, decode). */
  ratio: number;
  /** Which stage bounds the pipeline when both run alone. */
  bound: 'model' | 'decode';
  cause: string;
  suggestions: Suggestion[];
}

const r1 = (x: number): string => x.toFixed(1);

/**
 * null when end to end reaches SHORTFALL_RATIO of min(ceiling, decode) or a figure is missing; else the bound,
 * the likely cause and up to three flags to try (the best-measured batch size first when it differs).
 */
export function diagnoseShortfall(s: ShortfallInput): Shortfall | null {
  const atBatch = s.ceiling.find((c) => c.batch === s.batch)?.imagesPerSecond;
  if (atBatch === undefined || !(atBatch > 0) || !(s.decode > 0) || !(s.endToEnd >= 0)) return null;
  const limit = Math.min(atBatch, s.decode);
  const ratio = s.endToEnd / limit;
  if (ratio >= SHORTFALL_RATIO) return null;
  const bound = atBatch <= s.decode ? 'model' : 'decode';
  const suggestions: Suggestion[] = [];
  const best = s.ceiling.reduce((a, b) => (b.imagesPerSecond > a.imagesPerSecond ? b : a));
  if (best.batch !== s.batch && best.imagesPerSecond > 1.1 * atBatch)
    suggestions.push({
      args: ['--batch', String(best.batch)],
      why:
        `the model alone runs ${r1(best.imagesPerSecond)} img/s at batch ${best.batch} against ` +
        `${r1(atBatch)} at ${s.batch}`,
    });
  let cause: string;
  if (s.gpu) {
    cause = `the GPU waits for images: decoding (${r1(s.decode)} img/s alone) does not keep up inside extract`;
    suggestions.push({
      args: ['--decode-concurrency', String(2 * s.decodeConcurrency)],
      why: `${s.decodeConcurrency} images are decoded at once now; more in flight hide file and decode latency`,
    });
  } else {
    // On a CPU, inference threads and decode workers share the cores: each alone is fast, together they contend.
    const threads = s.threads ?? s.cores;
    const fewer = Math.max(1, threads - Math.max(1, Math.round(s.cores / 4)));
    cause =
      `inference (${threads} intra-op thread${threads === 1 ? '' : 's'}) and decoding compete for ${s.cores} ` +
      `core${s.cores === 1 ? '' : 's'}: ` +
      `model alone ${r1(atBatch)} img/s, decode alone ${r1(s.decode)} img/s, together ${r1(s.endToEnd)} img/s`;
    if (fewer < threads)
      suggestions.push({
        args: ['--threads', String(fewer)],
        why: `leaves ${threads - fewer} core${threads - fewer === 1 ? '' : 's'} to the decode workers`,
      });
    if (bound === 'model')
      suggestions.push({
        args: ['--decode-concurrency', String(Math.max(2, Math.floor(s.decodeConcurrency / 2)))],
        why: `the model is the bound; ${s.decodeConcurrency} decodes in flight take cores it could use`,
      });
    else
      suggestions.push({
        args: ['--decode-concurrency', String(2 * s.decodeConcurrency)],
        why: `decoding is the bound; ${s.decodeConcurrency} images in flight may leave cores idle`,
      });
  }
  return { ratio, bound, cause, suggestions: suggestions.slice(0, 3) };
}

/** What an end-to-end ratio to min(ceiling, decode) says. */
export type RatioVerdict = 'meets' | 'below' | 'disturbed' | 'unmeasured';

/**
 * The verdict on end to end / min(ceiling, decode). A pipeline cannot run faster than its slowest stage run
 * alone, so a ratio above 1 means a limit was measured low (load during the ceiling or decode run): it is a
 * disturbed measurement, never a pass, whatever the target. Otherwise it meets the target or falls below it.
 */
export function ratioVerdict(ratio: number, target: number): { verdict: RatioVerdict; text: string } {
  const r = ratio.toFixed(2);
  if (!Number.isFinite(ratio) || !(ratio >= 0)) return { verdict: 'unmeasured', text: 'ratio not measured' };
  if (ratio > 1)
    return {
      verdict: 'disturbed',
      text: `${r} of min(ceiling, decode): DISTURBED (above 1, a limit was measured low; not a pass, rerun)`,
    };
  if (ratio >= target) return { verdict: 'meets', text: `${r} of min(ceiling, decode) (meets target ${target})` };
  return { verdict: 'below', text: `${r} of min(ceiling, decode) (BELOW target ${target})` };
}

/**
 * The ceiling after one rerun: load only ever lowers a rate, so the higher of the two medians is the better
 * estimate of what the model alone can do.
 */
export function rerunCeiling(first: number, rerun: number): number {
  return Number.isFinite(rerun) ? Math.max(first, rerun) : first;
}
