/**
 * Preprocessing presets and the torchvision geometry they imply. Pure: no decoding here.
 */
import { badOption, FcprobeError } from '../errors.js';
import { DEFAULT_PRESET, EXTRACT_OPTIONS, type INTERPOLATIONS, type PRESET_NAMES } from '../options.js';
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
  const presetName = (
    o.preset === undefined ? DEFAULT_PRESET : optionValue(EXTRACT_OPTIONS, 'preset', o.preset)
  ) as PresetName;
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

/**
 * Where a model's preprocessing came from, highest precedence first: flags the user typed (or a library
 * caller's options), the run config, the model's own `fcprobe.preprocess` metadata, the catalog entry it was
 * pulled by, the hub repository's `preprocessor_config.json`, and last fcprobe's default preset.
 */
export const PREPROCESS_SOURCES = ['flag', 'config', 'metadata', 'catalog', 'hub', 'default'] as const;
export type PreprocessSource = (typeof PREPROCESS_SOURCES)[number];

/** The preprocessing fields one source states (`label` names it in messages: "--preset", "model metadata"). */
export interface PreprocessLayer {
  source: Exclude<PreprocessSource, 'default'>;
  values: PreprocessOverrides;
  /** Set when the source describes a preprocessing fcprobe cannot reproduce; used only if nothing above it. */
  unsupported?: string | undefined;
  /** The source only passes on an earlier assumption (a distilled student's metadata from default-preset features). */
  assumed?: boolean | undefined;
}

/** Just the model's preprocessing fields of a command's flags (what the user typed; undefined when not). */
export function typedPreprocess(flags: PreprocessOverrides): PreprocessOverrides {
  const { preset, resize, crop, interpolation, mean, std } = flags;
  return { preset, resize, crop, interpolation, mean, std };
}

/** The fields whose provenance is recorded (borderCrop and autoOrient belong to the data set, not the model). */
export const PREPROCESS_FIELDS = ['preset', 'resize', 'crop', 'interpolation', 'mean', 'std'] as const;
export type PreprocessField = (typeof PREPROCESS_FIELDS)[number];

/** A resolved spec with the source of each value: what manifests and results.json record. */
export interface PreprocessProvenance {
  /**
   * The source the result rests on: where the preset (or, without one, the explicit values) came from;
   * 'default' when any of resize, crop, interpolation, mean or std was taken from the default preset unasked.
   */
  source: PreprocessSource;
  /** Per field: the source that gave it; 'model' for a crop taken from the graph's input size. */
  fields: Record<PreprocessField, PreprocessSource | 'model'>;
  /** Lower sources set aside: "metadata preset inception (preset clip given by flag)". */
  setAside: string[];
  /** Values a higher source changed from what a lower one stated: "mean [0.5,0.5,0.5] -> [0.4,0.4,0.4]". */
  overridden: string[];
}

export interface PreprocessResolution {
  spec: PreprocessSpec;
  provenance: PreprocessProvenance;
}

const SOURCE_RANK = (s: PreprocessSource): number => PREPROCESS_SOURCES.indexOf(s);
const sameValue = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * Resolves the stated layers (any order; ranked by PREPROCESS_SOURCES) into a spec and its provenance: the one
 * order every command uses. The highest layer that names a preset fixes it; a lower layer naming another preset
 * is set aside whole (its numbers belong to that preset); every other field comes from the highest layer that
 * states it, else from the preset (crop: the model's input size first). A layer marked unsupported that would
 * be used is an error, so that a preprocessing fcprobe cannot reproduce is never replaced by a guess.
 * @throws FcprobeError BAD_OPTION as resolvePreprocess; BAD_MODEL for a used unsupported layer.
 */
export function resolvePreprocessLayers(
  layers: readonly PreprocessLayer[],
  modelSize: number | null,
  data: Pick<PreprocessOverrides, 'borderCrop' | 'autoOrient'> = {},
): PreprocessResolution {
  const ranked = [...layers].sort((a, b) => SOURCE_RANK(a.source) - SOURCE_RANK(b.source));
  const withPreset = ranked.find((l) => l.values.preset !== undefined);
  const setAside: string[] = [];
  const used = ranked.filter((l) => {
    const p = l.values.preset;
    if (withPreset && l !== withPreset && p !== undefined && p !== withPreset.values.preset) {
      setAside.push(`${l.source} preset ${p} (preset ${withPreset.values.preset} from ${withPreset.source})`);
      return false;
    }
    return true;
  });
  const fields = {} as Record<PreprocessField, PreprocessSource | 'model'>;
  const merged: PreprocessOverrides = {};
  const overridden: string[] = [];
  for (const k of PREPROCESS_FIELDS) {
    const from = used.find((l) => l.values[k] !== undefined);
    if (from) {
      Object.assign(merged, { [k]: from.values[k] });
      fields[k] = from.source;
      for (const lower of used.slice(used.indexOf(from) + 1)) {
        const v = lower.values[k];
        if (v !== undefined && !sameValue(v, from.values[k]))
          overridden.push(
            `${k} ${JSON.stringify(v)} (${lower.source}) -> ${JSON.stringify(from.values[k])} (${from.source})`,
          );
      }
    } else fields[k] = k === 'crop' && modelSize !== null ? 'model' : (withPreset?.source ?? 'default');
  }
  const unsupported = used.find((l) => l.unsupported !== undefined);
  if (unsupported && PREPROCESS_FIELDS.some((k) => fields[k] === unsupported.source))
    throw new FcprobeError(
      'BAD_MODEL',
      `The model's ${unsupported.source} preprocessing cannot be reproduced by fcprobe: ${unsupported.unsupported}.`,
      'Give the preprocessing with flags (--preset, --resize, --crop, --interpolation, --mean, --std).',
    );
  const assumed = (['resize', 'crop', 'interpolation', 'mean', 'std'] as const).some((k) => fields[k] === 'default');
  const explicit = used.find((l) => PREPROCESS_FIELDS.some((k) => fields[k] === l.source));
  const base = withPreset ?? explicit;
  const source: PreprocessSource = assumed || base?.assumed ? 'default' : (base?.source ?? 'default');
  const spec = resolvePreprocess({ ...merged, ...data }, modelSize);
  return { spec, provenance: { source, fields, setAside, overridden } };
}

/** "the model's metadata", "the catalog entry": a source in words, for messages. */
export function describeSource(s: PreprocessSource): string {
  const words: Record<PreprocessSource, string> = {
    flag: 'the options given',
    config: 'the run config',
    metadata: 'the model metadata fcprobe.preprocess',
    catalog: 'the catalog entry',
    hub: "the hub repository's preprocessor_config.json",
    default: 'the default preset (assumed: nothing stated it)',
  };
  return words[s];
}

/**
 * The warning printed (once per model) and put in the report when the preprocessing was assumed: the numbers
 * depend on it, and a wrong preset moves them silently (docs/preprocessing.md).
 */
export function assumedPreprocessWarning(model: string, spec: PreprocessSpec): string {
  return (
    `warning: no preprocessing stated for ${model} (no flag, config field, model metadata, catalog entry or hub ` +
    'preprocessor_config.json): ' +
    `assumed preset ${spec.preset}; its numbers depend on this guess. Give --preset (or --mean/--std/...) to state it.`
  );
}
