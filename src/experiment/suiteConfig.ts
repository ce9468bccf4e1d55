/**
 * `run --suite imagenet-ood --data-root <dir>`: turns the sets found under a data root into a run config with
 * the paper's protocol (probe on ImageNet train, or a stratified subset of it; ImageNet val as ID; every
 * OOD set found, each with its layout's scoring).
 */
import { FcprobeError } from '../errors.js';
import { findSuite, IMAGENET_OOD_SUITE, type SuiteEntry, type SuiteLocation } from '../dataset/suite.js';
import { type FieldNamer, parseRunConfig, type RunConfig } from './config.js';
import type { SuiteRecord } from './types.js';

export const SUITES: Record<string, typeof IMAGENET_OOD_SUITE> = { 'imagenet-ood': IMAGENET_OOD_SUITE };

export interface SuiteConfigInput {
  suite: string;
  dataRoot: string;
  trainPerClass?: number;
  /** Every field but the sets, as in a config file (workDir, teacher, students, probe, ...). */
  raw: Record<string, unknown>;
  /** Paths in `raw` are relative to it. */
  baseDir: string;
  /** How errors name the fields (the flags that gave them, or the config file's fields). */
  nameOf?: FieldNamer;
  onNotice?: (message: string) => void;
}

/**
 * The run config of a suite (see suiteRun) without the record of what was found.
 * @throws as suiteRun.
 */
export function suiteConfig(i: SuiteConfigInput): RunConfig {
  return suiteRun(i).config;
}

/**
 * The run config of a suite found under a data root, and the record of every set of the suite (found or missing,
 * the folders tried, classes present of expected) for results.json and the report (runExperiment's `suite`).
 * Sets with a protocol label space get `scoreOver` unless the config says presentClassesOnly.
 * @throws FcprobeError BAD_OPTION for an unknown suite; NOT_FOUND when the data root, the training set or every
 *   evaluation set is missing; BAD_CONFIG / BAD_OPTION from parseRunConfig.
 */
export function suiteRun(i: SuiteConfigInput): { config: RunConfig; suite: SuiteRecord } {
  const suite = SUITES[i.suite];
  if (!suite)
    throw new FcprobeError(
      'BAD_OPTION',
      `Expected --suite to be one of ${Object.keys(SUITES).join(', ')}, got ${JSON.stringify(i.suite)}.`,
    );
  const loc: SuiteLocation = findSuite(i.dataRoot, suite);
  const say = i.onNotice ?? ((m: string) => process.stderr.write(`${m}\n`));
  say(`Suite ${i.suite} under ${loc.dataRoot}:`);
  for (const s of loc.sets) say(`  ${s.found ? 'found  ' : 'missing'} ${s.title.padEnd(16)} ${s.notes.join('; ')}`);
  const train = loc.found.find((s) => s.role === 'train');
  if (!train) {
    throw new FcprobeError(
      'NOT_FOUND',
      `The suite's training set (ImageNet train) was not found under ${loc.dataRoot}.`,
      `Expected one of ${suite.find((s) => s.role === 'train')!.folders.join(', ')}.`,
    );
  }
  const evalSets = loc.found.filter((s) => s.role !== 'train');
  if (evalSets.length === 0)
    throw new FcprobeError('NOT_FOUND', `No evaluation set of the suite was found under ${loc.dataRoot}.`);
  const presentOnly = i.raw.presentClassesOnly === true;
  const set = (s: (typeof loc.found)[number], perClass?: number): Record<string, unknown> => ({
    name: s.title,
    path: s.path,
    layout: s.layout,
    ...(perClass ? { perClass } : {}),
    ...(s.classSpace && s.role !== 'train' ? { scoreOver: s.classSpace } : {}),
  });
  const config = parseRunConfig(
    {
      title: `${i.suite}: ${evalSets.map((s) => s.title).join(', ')}`,
      ...i.raw,
      train: set(train, i.trainPerClass),
      test: evalSets.filter((s) => s.role === 'id').map((s) => set(s)),
      ood: evalSets.filter((s) => s.role === 'ood').map((s) => set(s)),
    },
    i.baseDir,
    i.nameOf ? { nameOf: i.nameOf } : {},
  );
  // A partial ImageNet train gives a probe of fewer classes: say so wherever the protocol says "1000".
  const known = train.classes && train.classes.present < train.classes.expected ? train.classes.present : null;
  const scoring = (s: SuiteEntry): string => {
    if (s.role === 'train')
      return known === null
        ? s.scoring
        : `probe training set (${known} of 1000 classes present: the probe predicts only those)`;
    if (presentOnly && s.classSpace)
      return 'argmax over the class folders present (--present-classes-only: not the protocol)';
    return known === null ? s.scoring : `${s.scoring} (among them the probe's ${known})`;
  };
  const suiteRecord: SuiteRecord = {
    name: i.suite,
    dataRoot: loc.dataRoot,
    presentClassesOnly: presentOnly,
    sets: loc.sets.map((s) => ({
      id: s.id,
      title: s.title,
      role: s.role,
      found: s.found,
      set: s.found ? s.title : null,
      path: s.path,
      foldersTried: s.foldersTried,
      scoring: s.found ? scoring(s) : s.scoring,
      classes: s.classes,
      notes: s.notes,
    })),
  };
  return { config, suite: suiteRecord };
}
