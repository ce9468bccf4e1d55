/**
 * The folders a documentation example runs in (`<!-- run in: <world> -->` before its block): small generated
 * stand-ins for the files a page names (models, image folders, an experiment.json), under the page's own
 * names, so that most examples run exactly as written. Where a page's names cannot all be given (a synopsis's
 * `<folder>`, 147 tar shards), its marker rewrites them explicitly (`your paths: A => B`), never this file.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  COLOUR_STUDENT,
  COLOUR_TEACHER,
  linearEncoder,
  makeColourSet,
  writeModel,
  writeSolidImage,
} from '../helpers/fixtures.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
/** ../shared/realdata beside the checkout: real encoders and PACS-mini (absent on most machines). */
export const REALDATA = join(ROOT, '..', 'shared', 'realdata');

export interface World {
  /** What the folder holds, for the reader of a page's marker. */
  holds: string;
  /** Why the world cannot be made on this machine (the blocks are skipped with it), or null. */
  unavailable: () => string | null;
  /** Makes the world in the empty folder `dir`; returns the folder the block runs in (dir or below it). */
  make: (dir: string) => Promise<string>;
}

/** Linear encoders (any input size) under the file names the pages use; weights differ per model. */
const MODELS: Record<string, number[][]> = {
  't.onnx': COLOUR_TEACHER,
  'm.onnx': COLOUR_TEACHER,
  'encoder.onnx': COLOUR_TEACHER,
  'resnet50.onnx': COLOUR_TEACHER,
  's.onnx': COLOUR_STUDENT,
  's1.onnx': COLOUR_STUDENT,
  's2.onnx': [
    [1, 0, 0.4],
    [0.3, 1, 0],
    [0, 0.2, 1],
  ],
  'r50.onnx': [
    [1, 0.2, 0.2],
    [0.2, 1, 0.2],
  ],
  'vit.onnx': [
    [0.8, 0, 0.5],
    [0, 0.9, 0.1],
    [0.4, 0.4, 0.4],
  ],
};

/** Colour classes a, b, c at 8 x 8 pixels: few images, so that a whole `run` takes about a second of work. */
const LOOK = { lean: 40, noise: 90, size: 8 };
const CLASSES = ['a', 'b', 'c'];

async function makeImages(dir: string): Promise<string> {
  for (const [name, w] of Object.entries(MODELS)) writeModel(join(dir, name), linearEncoder(w, null));
  await makeColourSet(join(dir, 'photos', 'train'), CLASSES, 6, 1, 0.2, LOOK);
  await makeColourSet(join(dir, 'photos', 'test'), CLASSES, 3, 2, 0.2, LOOK);
  await makeColourSet(join(dir, 'sketches'), CLASSES, 3, 3, 1, LOOK);
  await makeColourSet(join(dir, 'paintings'), CLASSES, 3, 4, 1, LOOK);
  const experiment = {
    teacher: { path: 't.onnx' },
    student: { path: 's.onnx' },
    train: 'photos/train',
    test: ['photos/test'],
    ood: ['sketches'],
    workDir: 'work/exp',
  };
  writeFileSync(join(dir, 'experiment.json'), `${JSON.stringify(experiment, null, 2)}\n`);
  // photos/train as three uncompressed tar shards of whole classes (members `<class>/<i>.png`) and a list file.
  mkdirSync(join(dir, 'shards'));
  const tars = CLASSES.map((_, i) => `train-${String(i).padStart(6, '0')}.tar`);
  CLASSES.forEach((c, i) => {
    const r = spawnSync('tar', ['-cf', join(dir, 'shards', tars[i]!), '-C', join(dir, 'photos', 'train'), c]);
    if (r.status !== 0) throw new Error(`tar failed: ${r.stderr}`);
  });
  writeFileSync(join(dir, 'shards', 'train.txt'), `${tars.join('\n')}\n`);
  return dir;
}

/**
 * docs/datasets.md's deliberately broken tiny tree: ImageNet val with its first 3 classes (one JPEG each),
 * ImageNet-R with one of its classes (a JPEG and an empty b.jpg) and a folder that is not one of its classes.
 */
async function makeDatasetsDemo(dir: string): Promise<string> {
  const jpeg = async (folder: string, file: string): Promise<void> => {
    mkdirSync(folder, { recursive: true });
    await writeSolidImage(join(folder, file), [200, 40, 40], 8, 8, 'jpeg');
  };
  for (const wnid of ['n01440764', 'n01443537', 'n01484850'])
    await jpeg(join(dir, 'dsdemo/imagenet/val', wnid), 'a.jpg');
  for (const wnid of ['n01443537', 'n01558993']) await jpeg(join(dir, 'dsdemo/imagenet-r', wnid), 'a.jpg');
  writeFileSync(join(dir, 'dsdemo/imagenet-r/n01443537/b.jpg'), '');
  return dir;
}

export const WORLDS: Record<string, World> = {
  images: {
    holds:
      'linear ONNX encoders t, s, s1, s2, r50, vit, m, encoder, resnet50 (.onnx); colour classes a, b, c in ' +
      'photos/train (18 images), photos/test, sketches, paintings (9 each); experiment.json (t vs s, ' +
      'photos/train, photos/test, OOD sketches, work dir work/exp); shards/train-00000{0,1,2}.tar (photos/train, ' +
      'one class per tar) and shards/train.txt listing them',
    unavailable: () => null,
    make: makeImages,
  },
  dsdemo: {
    holds:
      'dsdemo/: imagenet/val with classes n01440764, n01443537, n01484850 (a.jpg each); imagenet-r with ' +
      'n01443537 (a.jpg, an empty b.jpg) and n01558993 (not an ImageNet-R class, a.jpg)',
    unavailable: () => null,
    make: makeDatasetsDemo,
  },
  checkout: {
    holds:
      "this checkout's docs/ and dist/ (linked) with ../shared/realdata beside it: examples run from the " +
      'repository root and write under its tmp/, here a temporary one',
    unavailable: () => (existsSync(REALDATA) ? null : `${REALDATA} is absent`),
    make: async (dir) => {
      const repo = join(dir, 'repo');
      mkdirSync(repo);
      for (const f of ['docs', 'dist', 'node_modules', 'package.json']) symlinkSync(join(ROOT, f), join(repo, f));
      mkdirSync(join(dir, 'shared'));
      symlinkSync(REALDATA, join(dir, 'shared', 'realdata'));
      return repo;
    },
  },
};
