/**
 * Scoring a K-way probe on an evaluation set that has its own classes (the OOD literature's convention).
 *
 * Each evaluation class e stands for a list of training classes, members[e]: the training class of the same
 * name (ImageNet-R/A: 200 of ImageNet's 1000), or the names listed in the eval manifest's classMap
 * (ObjectNet: "chair" -> three ImageNet wnids). The score of e is the max of its members' logits; the
 * prediction is the argmax over evaluation classes, top-5 is taken in the same space, and the loss is the
 * cross-entropy of the softmax over these pooled scores. With a 1:1 subset this is exactly "mask the logits
 * of the other classes, then argmax".
 *
 * Usage:
 *   const space = buildLabelSpace(probeClasses, evalManifest.classes, evalManifest.classMap);
 *   poolLogits(logits, rows, probeClasses.length, space, scores);   // scores: rows x space.classes.length
 *   const y = space.fromEval[evalLabel];                             // -1: not scored (see space.dropped)
 */
import { FcprobeError } from '../errors.js';

export type LabelSpaceKind =
  /** Same classes in the same order as the probe: plain argmax. */
  | 'identity'
  /** Each evaluation class is one training class (a subset, or a reordering): masked argmax. */
  | 'subset'
  /** classMap given: max over each evaluation class's mapped training logits, then argmax. */
  | 'mapped';

export interface DroppedClass {
  /** Index in the evaluation manifest's classes. */
  evalIndex: number;
  name: string;
  /**
   * unknown: no training class of that name (kept out by ignoreUnknown); unmapped: classMap lists none;
   * outside: not among the `scoreOver` classes (e.g. a non-ImageNet-R wnid folder inside imagenet-r/).
   */
  reason: 'unknown' | 'unmapped' | 'outside';
}

export interface LabelSpace {
  kind: LabelSpaceKind;
  /** Scored evaluation classes, in evaluation-manifest order. */
  classes: string[];
  /** members[e]: training class indices pooled (max) into scored class e; never empty. */
  members: Int32Array[];
  /** Evaluation-manifest class index -> scored class index, or -1 when that class is not scored. */
  fromEval: Int32Array;
  /** Evaluation classes that are not scored, with why. */
  dropped: DroppedClass[];
  /** Number of training classes (width of the logits this space reads). */
  trainClassCount: number;
  /**
   * With `scoreOver` (protocol scoring): how many classes the protocol names, and those of them that no
   * evaluation class (no folder) stands for: they are still scored (their logits compete), only no image has them.
   */
  protocol?: { expected: number; absent: string[] };
}

export interface LabelSpaceOptions {
  /** Leave out evaluation classes (or classMap names) the probe never saw instead of failing. */
  ignoreUnknown?: boolean;
  /**
   * Protocol scoring: score over these class names (those the probe has, in the probe's order) whatever
   * classes the evaluation set happens to hold, e.g. all 1000 ImageNet wnids for ImageNet val or ImageNet-R's
   * 200 for a partial ImageNet-R. Evaluation classes outside this list are dropped ('outside'). Not with a classMap.
   */
  scoreOver?: readonly string[] | undefined;
}

/**
 * The label space in which a probe trained on `trainClasses` scores a set whose classes are `evalClasses`
 * (see the top of this file; `options.scoreOver` for protocol scoring).
 * @throws FcprobeError BAD_FEATURES when classMap and evalClasses differ in length; MISMATCH when an evaluation
 *   class is unknown to the probe (unless ignoreUnknown) or nothing can be scored.
 */
export function buildLabelSpace(
  trainClasses: readonly string[],
  evalClasses: readonly string[],
  classMap: readonly (readonly string[])[] | null,
  options: LabelSpaceOptions = {},
): LabelSpace {
  if (options.scoreOver) return protocolSpace(trainClasses, evalClasses, classMap, options.scoreOver, options);
  const index = new Map<string, number>();
  trainClasses.forEach((c, i) => {
    index.set(c, i);
  });
  if (classMap !== null && classMap.length !== evalClasses.length) {
    throw new FcprobeError(
      'BAD_FEATURES',
      `The evaluation classMap has ${classMap.length} entries but there are ${evalClasses.length} classes.`,
    );
  }
  const classes: string[] = [];
  const members: Int32Array[] = [];
  const fromEval = new Int32Array(evalClasses.length).fill(-1);
  const dropped: DroppedClass[] = [];
  const unknown: string[] = [];
  evalClasses.forEach((name, e) => {
    const names = classMap ? classMap[e]! : [name];
    if (names.length === 0) {
      dropped.push({ evalIndex: e, name, reason: 'unmapped' });
      return;
    }
    const idx: number[] = [];
    for (const t of names) {
      const i = index.get(t);
      if (i === undefined) unknown.push(classMap ? `${name} -> ${t}` : t);
      else if (!idx.includes(i)) idx.push(i);
    }
    if (idx.length === 0) {
      dropped.push({ evalIndex: e, name, reason: 'unknown' });
      return;
    }
    fromEval[e] = classes.length;
    classes.push(name);
    members.push(Int32Array.from(idx));
  });
  if (unknown.length > 0 && !options.ignoreUnknown) throw unknownClassesError(unknown, trainClasses.length);
  if (classes.length === 0) {
    throw new FcprobeError(
      'MISMATCH',
      'No evaluation class maps to a training class of the probe: nothing can be scored.',
    );
  }
  let kind: LabelSpaceKind;
  if (classMap !== null) kind = 'mapped';
  else if (classes.length === trainClasses.length && members.every((m, e) => m[0] === e)) kind = 'identity';
  else kind = 'subset';
  return { kind, classes, members, fromEval, dropped, trainClassCount: trainClasses.length };
}

function protocolSpace(
  trainClasses: readonly string[],
  evalClasses: readonly string[],
  classMap: readonly (readonly string[])[] | null,
  scoreOver: readonly string[],
  options: LabelSpaceOptions,
): LabelSpace {
  if (classMap !== null) throw new RangeError('buildLabelSpace: scoreOver does not combine with a classMap');
  const want = new Set(scoreOver);
  const classes: string[] = [];
  const members: Int32Array[] = [];
  const scoredIndex = new Map<string, number>();
  trainClasses.forEach((c, i) => {
    if (!want.has(c)) return;
    scoredIndex.set(c, classes.length);
    classes.push(c);
    members.push(Int32Array.of(i));
  });
  const fromEval = new Int32Array(evalClasses.length).fill(-1);
  const dropped: DroppedClass[] = [];
  const unknown: string[] = [];
  evalClasses.forEach((name, e) => {
    const j = scoredIndex.get(name);
    if (j !== undefined) fromEval[e] = j;
    else if (!want.has(name)) dropped.push({ evalIndex: e, name, reason: 'outside' });
    else {
      unknown.push(name);
      dropped.push({ evalIndex: e, name, reason: 'unknown' });
    }
  });
  if (unknown.length > 0 && !options.ignoreUnknown) throw unknownClassesError(unknown, trainClasses.length);
  if (classes.length === 0)
    throw new FcprobeError('MISMATCH', "None of the protocol's classes is among the probe's training classes.");
  const present = new Set(evalClasses);
  const kind: LabelSpaceKind = classes.length === trainClasses.length ? 'identity' : 'subset';
  return {
    kind,
    classes,
    members,
    fromEval,
    dropped,
    trainClassCount: trainClasses.length,
    protocol: { expected: want.size, absent: scoreOver.filter((c) => !present.has(c)) },
  };
}

/** The error for evaluation classes that the probe was not trained on (both label-space builders give it). */
function unknownClassesError(unknown: string[], trainClassCount: number): FcprobeError {
  const shown = unknown
    .slice(0, 10)
    .map((u) => JSON.stringify(u))
    .join(', ');
  return new FcprobeError(
    'MISMATCH',
    `${unknown.length} evaluation class${unknown.length > 1 ? 'es are' : ' is'} not among the probe's ` +
      `${trainClassCount} training classes: ${shown}${unknown.length > 10 ? ', ...' : ''}.`,
    'Use --ignore-unknown to leave those images out (they are counted in the report).',
  );
}

/** scores[rows, E] = for each scored class, the max of its members' logits (logits: [rows, K]). */
export function poolLogits(
  logits: Float32Array,
  rows: number,
  k: number,
  space: LabelSpace,
  scores: Float32Array,
): void {
  if (k !== space.trainClassCount)
    throw new RangeError(`poolLogits: logits have ${k} columns, the label space expects ${space.trainClassCount}`);
  const E = space.classes.length;
  if (space.kind === 'identity') {
    scores.set(logits.subarray(0, rows * k));
    return;
  }
  const members = space.members;
  for (let i = 0; i < rows; i++) {
    const lo = i * k,
      so = i * E;
    for (let e = 0; e < E; e++) {
      const m = members[e]!;
      let best = logits[lo + m[0]!]!;
      for (let j = 1; j < m.length; j++) {
        const v = logits[lo + m[j]!]!;
        if (v > best) best = v;
      }
      scores[so + e] = best;
    }
  }
}

/** A one-line description for reports, e.g. "predictions restricted to 200 of 1000 classes". */
export function describeLabelSpace(space: LabelSpace): string {
  const E = space.classes.length,
    K = space.trainClassCount;
  if (space.protocol) {
    const p = space.protocol;
    const present = p.expected - p.absent.length;
    const over = E === K ? `all ${K} classes of the probe` : `the probe's ${E} classes among the set's ${p.expected}`;
    return `argmax over ${over} (protocol; ${present} of ${p.expected} class folders present)`;
  }
  switch (space.kind) {
    case 'identity':
      return `all ${K} classes`;
    case 'subset':
      return `predictions restricted to this set's ${E} of the probe's ${K} classes (other logits masked)`;
    case 'mapped': {
      const pooled = space.members.reduce((a, m) => a + m.length, 0);
      return (
        `${E} classes mapped to ${pooled} of the probe's ${K} classes (max over mapped logits, ` +
        `other logits masked)`
      );
    }
  }
}
