/**
 * A hub repository's `preprocessor_config.json` (the Hugging Face image-processor convention) as a preprocessing
 * layer of source 'hub'. Only what fcprobe's geometry reproduces exactly is taken (shorter side resized, then a
 * square center crop, 1/255 rescale, per-channel normalisation); anything else is kept as `unsupported`, so that
 * a model whose processor fcprobe cannot follow fails with a message instead of being fed a guess.
 */
import { PRESETS, type PreprocessLayer, type PreprocessOverrides } from '../image/preprocessSpec.js';
import { PRESET_NAMES } from '../options.js';

/** The file's name at the repository root (the processor of every model file in the repository). */
export const HUB_PREPROCESS_FILE = 'preprocessor_config.json';

/** PIL resampling codes, as `resample` stores them: the two fcprobe reproduces bit-exactly. */
const RESAMPLE: Record<number, 'bilinear' | 'bicubic'> = { 2: 'bilinear', 3: 'bicubic' };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isTriple = (v: unknown): v is [number, number, number] =>
  Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x));
const isSide = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;
const close = (a: readonly number[], b: readonly number[]): boolean => a.every((x, i) => Math.abs(x - b[i]!) < 1e-7);

/** `size` / `crop_size` as one side: an int, {shortest_edge}, or a square {height, width}. */
function side(v: unknown, what: string, processor: string): { side: number } | { problem: string } {
  if (isSide(v)) {
    // A bare int means "shorter side" for CLIP-style processors but a square resize for ViT-style ones.
    if (what === 'crop_size' || /clip/i.test(processor)) return { side: v };
    return { problem: `size ${v} of ${processor || 'an unnamed processor'} may mean a square resize` };
  }
  if (isObj(v)) {
    if (what === 'size' && isSide(v.shortest_edge) && v.longest_edge === undefined) return { side: v.shortest_edge };
    if (isSide(v.height) && isSide(v.width) && v.height === v.width && what === 'crop_size') return { side: v.height };
    if (isSide(v.height) && isSide(v.width))
      return { problem: `${what} ${v.height}x${v.width} resizes without keeping the aspect ratio` };
  }
  return { problem: `${what} ${JSON.stringify(v)} is not a size fcprobe understands` };
}

/**
 * The layer a parsed preprocessor_config.json states. `unsupported` says why when the processor does something
 * fcprobe's preprocessing cannot reproduce (then the values are not used unless flags replace them).
 */
export function hubPreprocessLayer(json: unknown): PreprocessLayer {
  if (!isObj(json)) return { source: 'hub', values: {}, unsupported: `${HUB_PREPROCESS_FILE} is not a JSON object` };
  const processor = String(json.image_processor_type ?? json.feature_extractor_type ?? '');
  const problems: string[] = [];
  const values: PreprocessOverrides = {};
  if (json.do_resize === false) problems.push('do_resize is false (fcprobe always resizes the shorter side)');
  else if (json.size !== undefined) {
    const r = side(json.size, 'size', processor);
    if ('side' in r) values.resize = r.side;
    else problems.push(r.problem);
  }
  if (json.do_center_crop === false) problems.push('do_center_crop is false (fcprobe always center-crops a square)');
  else if (json.crop_size !== undefined) {
    const r = side(json.crop_size, 'crop_size', processor);
    if ('side' in r) values.crop = r.side;
    else problems.push(r.problem);
  }
  if (json.resample !== undefined) {
    const kind = typeof json.resample === 'number' ? RESAMPLE[json.resample] : undefined;
    if (kind) values.interpolation = kind;
    else problems.push(`resample ${JSON.stringify(json.resample)} (fcprobe reproduces 2 bilinear and 3 bicubic)`);
  }
  const factor = json.rescale_factor;
  if (
    json.do_rescale === false ||
    (factor !== undefined && (typeof factor !== 'number' || Math.abs(factor - 1 / 255) > 1e-9))
  )
    problems.push('pixels are not rescaled by 1/255');
  if (json.do_normalize === false) {
    values.mean = [0, 0, 0];
    values.std = [1, 1, 1];
  } else {
    if (json.image_mean !== undefined) {
      if (isTriple(json.image_mean)) values.mean = json.image_mean;
      else problems.push(`image_mean ${JSON.stringify(json.image_mean)} is not three numbers`);
    }
    if (json.image_std !== undefined) {
      if (isTriple(json.image_std) && json.image_std.every((x) => x > 0)) values.std = json.image_std;
      else problems.push(`image_std ${JSON.stringify(json.image_std)} is not three positive numbers`);
    }
  }
  // Named after the preset with the same statistics, so that the spec (and its cache key) equals the flags' one.
  const { mean, std } = values;
  const preset =
    mean && std ? PRESET_NAMES.find((p) => close(PRESETS[p].mean, mean) && close(PRESETS[p].std, std)) : undefined;
  if (preset) {
    values.preset = preset;
    values.mean = [...PRESETS[preset].mean];
    values.std = [...PRESETS[preset].std];
  }
  return { source: 'hub', values, ...(problems.length > 0 ? { unsupported: problems.join('; ') } : {}) };
}
