/**
 * The one origin check: "were these feature sets made from the same representation / the same inputs?".
 * extract (an existing output against the request), merge (each shard against the first) and probe (train
 * against eval sets, or a saved probe against a set) all compare through compareOrigin, so a mismatch is
 * described the same way everywhere.
 */
import { FcprobeError } from '../errors.js';
import type { PreprocessSpec } from '../image/preprocessSpec.js';
import type { FeatureManifest, ModelInfo } from './manifest.js';

/**
 * Everything a check may compare. preprocess is compared key by key over the keys either side has, so a
 * side that leaves out preset and borderCrop (FeatureOrigin) is compared on the representation only.
 */
export interface Origin {
  modelSha256: string;
  modelPath: string;
  outputName: string;
  pool: ModelInfo['pool'];
  inputType: ModelInfo['inputType'];
  featureDim: number;
  preprocess: Partial<PreprocessSpec>;
  listHash: string;
  shard: FeatureManifest['shard'];
}

/** What identifies the representation a feature set holds: features from different ones cannot be mixed. */
export interface FeatureOrigin {
  modelSha256: string;
  modelPath: string;
  outputName: string;
  pool: ModelInfo['pool'];
  featureDim: number;
  /**
   * Preprocessing parameters that change the representation. borderCrop is left out: it is part of a data
   * set's protocol (ObjectNet crops 2 pixels) rather than of the representation; preset is only a name.
   */
  preprocess: Omit<PreprocessSpec, 'preset' | 'borderCrop'>;
}

/** The Origin fields each comparable field reads. */
interface FieldReads {
  model: 'modelSha256' | 'modelPath';
  output: 'outputName';
  pool: 'pool';
  inputType: 'inputType';
  featureDim: 'featureDim';
  preprocess: 'preprocess';
  listing: 'listHash';
  shard: 'shard';
}
export type OriginField = keyof FieldReads;
/** The part of an Origin that comparing `F` needs. */
export type OriginOf<F extends OriginField> = Pick<Origin, FieldReads[F]>;

export interface OriginDifference {
  field: OriginField;
  /** Short name for a sentence: "model", "preprocessing", "file list". */
  label: string;
  /** The values on both sides, first side first: `pooling none vs mean`. */
  description: string;
}

interface FieldRule<F extends OriginField> {
  label: string;
  /** Descriptions of the differences; empty when both sides agree. */
  differences(a: OriginOf<F>, b: OriginOf<F>): string[];
}

const json = (v: unknown): string => JSON.stringify(v) ?? 'undefined';
const shardName = (s: FeatureManifest['shard']): string => (s ? `${s.index}/${s.count}` : 'none');

const RULES: { readonly [F in OriginField]: FieldRule<F> } = Object.freeze({
  model: {
    label: 'model',
    differences: (a, b) =>
      a.modelSha256 === b.modelSha256
        ? []
        : [
            `model.sha256 ${a.modelSha256.slice(0, 12)} (${a.modelPath}) vs ` +
              `${b.modelSha256.slice(0, 12)} (${b.modelPath})`,
          ],
  },
  output: {
    label: 'output',
    differences: (a, b) =>
      a.outputName === b.outputName ? [] : [`model output ${json(a.outputName)} vs ${json(b.outputName)}`],
  },
  pool: {
    label: 'pooling',
    differences: (a, b) => (a.pool === b.pool ? [] : [`pooling ${a.pool} vs ${b.pool}`]),
  },
  inputType: {
    label: 'input type',
    differences: (a, b) => (a.inputType === b.inputType ? [] : [`input type ${a.inputType} vs ${b.inputType}`]),
  },
  featureDim: {
    label: 'feature dimension',
    differences: (a, b) =>
      a.featureDim === b.featureDim ? [] : [`feature dimension ${a.featureDim} vs ${b.featureDim}`],
  },
  preprocess: {
    label: 'preprocessing',
    differences: (a, b) => {
      const keys = new Set([...Object.keys(a.preprocess), ...Object.keys(b.preprocess)]);
      const out: string[] = [];
      for (const k of keys as Set<keyof PreprocessSpec>) {
        const x = json(a.preprocess[k]),
          y = json(b.preprocess[k]);
        if (x !== y) out.push(`preprocess.${k} ${x} vs ${y}`);
      }
      return out;
    },
  },
  listing: {
    label: 'file list',
    differences: (a, b) =>
      a.listHash === b.listHash
        ? []
        : [`file list ${a.listHash.slice(0, 12)} vs ${b.listHash.slice(0, 12)} (different folder contents or classes)`],
  },
  shard: {
    label: 'shard',
    differences: (a, b) =>
      json(a.shard) === json(b.shard) ? [] : [`shard ${shardName(a.shard)} vs ${shardName(b.shard)}`],
  },
});

/** The fields that identify a representation: sets that differ in one of them cannot share a probe. */
export const REPRESENTATION_FIELDS = Object.freeze(['model', 'output', 'pool', 'featureDim', 'preprocess'] as const);

/**
 * Compares two origins on `fields`, in that order.
 * @returns one entry per differing field (empty when they agree); descriptions list `a`'s value first.
 */
export function compareOrigin<F extends OriginField>(
  a: OriginOf<F>,
  b: OriginOf<F>,
  fields: readonly F[],
): OriginDifference[] {
  const out: OriginDifference[] = [];
  for (const field of fields) {
    const rule: FieldRule<F> = RULES[field];
    const d = rule.differences(a, b);
    if (d.length > 0) out.push({ field, label: rule.label, description: d.join('; ') });
  }
  return out;
}

/**
 * The one sentence shape of an origin mismatch: `${subject} ${labels}: ${descriptions}.`, e.g.
 * `out/ holds features made with a different model, pooling: model.sha256 ... vs ...; pooling none vs mean.`
 * `subject` ends where the list of differing fields fits ("... made with a different").
 */
export function describeOriginMismatch(subject: string, diffs: readonly OriginDifference[]): string {
  return `${subject} ${diffs.map((d) => d.label).join(', ')}: ${diffs.map((d) => d.description).join('; ')}.`;
}

/**
 * compareOrigin, then throws when anything differs.
 * @throws FcprobeError MISMATCH with describeOriginMismatch's message and `hint`.
 */
export function checkOrigin<F extends OriginField>(
  a: OriginOf<F>,
  b: OriginOf<F>,
  fields: readonly F[],
  context: { subject: string; hint: string },
): void {
  const diffs = compareOrigin(a, b, fields);
  if (diffs.length > 0)
    throw new FcprobeError('MISMATCH', describeOriginMismatch(context.subject, diffs), context.hint);
}

/** The origin of a finished feature set, every field. */
export function originOf(m: FeatureManifest): Origin {
  return {
    modelSha256: m.model.sha256,
    modelPath: m.model.path,
    outputName: m.model.outputName,
    pool: m.model.pool,
    inputType: m.model.inputType,
    featureDim: m.featureDim,
    preprocess: m.preprocess,
    listHash: m.listHash,
    shard: m.shard,
  };
}

/** The representation part of a set's origin, as a probe stores it (probe.json train.origin). */
export function featureOrigin(m: FeatureManifest): FeatureOrigin {
  const { resize, crop, interpolation, mean, std, autoOrient } = m.preprocess;
  return {
    modelSha256: m.model.sha256,
    modelPath: m.model.path,
    outputName: m.model.outputName,
    pool: m.model.pool,
    featureDim: m.featureDim,
    preprocess: { resize, crop, interpolation, mean, std, autoOrient },
  };
}

/**
 * Checks that `other` holds the same representation as `ref` (model, output, pooling, feature dimension,
 * representation preprocessing), so that a probe fitted on one applies to the other.
 * @throws FcprobeError MISMATCH naming every difference.
 */
export function checkSameRepresentation(
  ref: FeatureOrigin,
  refName: string,
  other: FeatureOrigin,
  otherName: string,
): void {
  checkOrigin(ref, other, REPRESENTATION_FIELDS, {
    subject: `${otherName} and ${refName} hold different representations and cannot be mixed; they differ in`,
    hint: 'Extract every set with the same model, output, pooling and preprocessing.',
  });
}
