/**
 * Preprocessing presets and the torchvision geometry they imply. Pure: no decoding here.
 */
import { badOption } from '../errors.js';
import { EXTRACT_OPTIONS, type INTERPOLATIONS, type PRESET_NAMES } from '../options.js';
import { optionValue } from '../validate.js';

export type Interpolation = (typeof INTERPOLATIONS)[number];

/** Every resolved preprocessing parameter; two feature sets are comparable only if these are equal. */
export interface PreprocessSpec {
  preset: string;
  /** Shorter side is resized to this many pixels before the crop. */
  resize: number;
  crop: number;
  interpolation: Interpolation;
  mean: [number, number, number];
  std: [number, number, number];
  /** Pixels removed from every border of the decoded image first (ObjectNet uses 2). */
  borderCrop: number;
  autoOrient: boolean;
}

export type PresetName = (typeof PRESET_NAMES)[number];

type PresetValues = Omit<PreprocessSpec, 'preset' | 'borderCrop' | 'autoOrient'> & { resizeRatio: number | null };

/**
 * resizeRatio: when set, the resize side follows the crop (resize = round(crop / ratio)) unless --resize is
 * given, so that `--crop 288` with the clip preset resizes to 288 as CLIP does.
 */
export const PRESETS: Readonly<Record<PresetName, PresetValues>> = {
  // torchvision/timm eval: Resize(256, bilinear, antialias) -> CenterCrop(224), ImageNet statistics.
  torchvision: {
    resize: 256,
    crop: 224,
    interpolation: 'bilinear',
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
    resizeRatio: 0.875,
  },
  // OpenAI CLIP: Resize(res, bicubic) -> CenterCrop(res), CLIP statistics.
  clip: {
    resize: 224,
    crop: 224,
    interpolation: 'bicubic',
    mean: [0.48145466, 0.4578275, 0.40821073],
    std: [0.26862954, 0.26130258, 0.27577711],
    resizeRatio: 1,
  },
  // TF-slim / MobileNet style: [-1, 1] inputs, shorter side to crop / 0.875 (bilinear).
  inception: {
    resize: 256,
    crop: 224,
    interpolation: 'bilinear',
    mean: [0.5, 0.5, 0.5],
    std: [0.5, 0.5, 0.5],
    resizeRatio: 0.875,
  },
};

export interface PreprocessOverrides {
  preset?: string | undefined;
  resize?: number | undefined;
  crop?: number | undefined;
  interpolation?: string | undefined;
  mean?: [number, number, number] | undefined;
  std?: [number, number, number] | undefined;
  borderCrop?: number | undefined;
  autoOrient?: boolean | undefined;
}

/** `inception: resize 256, crop 224, bilinear, mean [0.5, 0.5, 0.5], std [0.5, 0.5, 0.5]` (and a border crop). */
export function describePreprocess(s: PreprocessSpec): string {
  const t = (v: readonly number[]): string => `[${v.join(', ')}]`;
  return (
    `${s.preset}: resize ${s.resize}, crop ${s.crop}, ${s.interpolation}, mean ${t(s.mean)}, std ` +
    `${t(s.std)}${s.borderCrop ? `, border crop ${s.borderCrop} px` : ''}`
  );
}

export function isPresetName(s: string): s is PresetName {
  return Object.hasOwn(PRESETS, s);
}

/**
 * Resolves a preset plus overrides into a complete spec. `modelSize` (the graph's static input side, when it
 * states one) supplies the crop if none was given.
 */
export function resolvePreprocess(o: PreprocessOverrides, modelSize: number | null): PreprocessSpec {
  const presetName = optionValue(EXTRACT_OPTIONS, 'preset', o.preset) as PresetName;
  const p = PRESETS[presetName];
  const crop = o.crop ?? modelSize ?? p.crop;
  const resize = o.resize ?? (p.resizeRatio === null ? p.resize : Math.round(crop / p.resizeRatio));
  const interpolation = (optionValue(EXTRACT_OPTIONS, 'interpolation', o.interpolation) ??
    p.interpolation) as Interpolation;
  optionValue(EXTRACT_OPTIONS, 'crop', crop);
  optionValue(EXTRACT_OPTIONS, 'resize', resize);
  if (resize < crop)
    throw badOption(
      '--resize',
      `at least the crop size (${crop})`,
      resize,
      'The shorter side is resized before the center crop, so it must be >= --crop.',
    );
  const borderCrop = optionValue(EXTRACT_OPTIONS, 'borderCrop', o.borderCrop);
  const std = o.std ?? p.std;
  if (std.some((s) => !(s > 0))) throw badOption('--std', 'three positive numbers', std.join(','));
  if (modelSize !== null && crop !== modelSize) {
    throw badOption(
      '--crop',
      `the model's input size ${modelSize} (the graph declares ${modelSize}x${modelSize})`,
      crop,
      "Leave --crop out to use the model's size, or export the model with a dynamic input size.",
    );
  }
  return Object.freeze({
    preset: presetName,
    resize,
    crop,
    interpolation,
    mean: o.mean ?? p.mean,
    std,
    borderCrop,
    autoOrient: o.autoOrient ?? false,
  });
}

/** Python's round(): half to even, as torchvision's center crop uses. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** torchvision Resize(s) with an int: shorter side = s, longer side = int(s * long / short). */
export function resizedSize(width: number, height: number, shorter: number): { width: number; height: number } {
  if (width <= height) return { width: shorter, height: Math.trunc((shorter * height) / width) };
  return { width: Math.trunc((shorter * width) / height), height: shorter };
}

/** torchvision CenterCrop offsets: round((dim - crop) / 2) with Python's rounding. */
export function centerCropOffset(dim: number, crop: number): number {
  return roundHalfEven((dim - crop) / 2);
}
