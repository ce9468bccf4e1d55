/**
 * The folders a documentation example runs in (`<!-- run in: <world> -->` before its block): small generated
 * stand-ins for the files a page names (models, image folders, an experiment.json), under the page's own
 * names, so that most examples run exactly as written. Where a page's names cannot all be given (a synopsis's
 * `<folder>`, 147 tar shards), its marker rewrites them explicitly (`your paths: A => B`), never this file.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  COLOUR_STUDENT,
  COLOUR_TEACHER,
  linearEncoder,
  makeColourSet,
  runCli,
  writeModel,
  writeSolidImage,
} from '../helpers/fixtures.js';

export interface World {
  /** What the folder holds, for the reader of a page's marker. */
  holds: string;
  /** Makes the world in the empty folder `dir`. */
  make: (dir: string) => Promise<void>;
}

/** Linear encoders (any input size) under the file names the pages use; weights differ per model. */
const MODELS: Record<string, number[][]> = {
  't.onnx': COLOUR_TEACHER,
  'teacher.onnx': COLOUR_TEACHER,
  'student.onnx': COLOUR_STUDENT,
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

async function makeImages(dir: string): Promise<void> {
  for (const [name, w] of Object.entries(MODELS)) writeModel(join(dir, name), linearEncoder(w, null));
  await makeColourSet(join(dir, 'photos', 'train'), CLASSES, 6, 1, 0.2, LOOK);
  await makeColourSet(join(dir, 'photos', 'test'), CLASSES, 3, 2, 0.2, LOOK);
  await makeColourSet(join(dir, 'sketches'), CLASSES, 3, 3, 1, LOOK);
  await makeColourSet(join(dir, 'paintings'), CLASSES, 3, 4, 1, LOOK);
  const experiment = {
    teacher: { path: 't.onnx' },
    student: { path: 's.onnx' },
    train: 'photos/train',
    split: 0.3,
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
}

/** Feature folders of probe.md and finished runs of compare.md: one `fcprobe run`, its folders under their names. */
async function makeFinished(dir: string): Promise<void> {
  await makeImages(dir);
  const sets = ['--train', 'photos/train', '--test', 'photos/test', '--ood', 'sketches', 'paintings'];
  const r = runCli(['run', '--teacher', 't.onnx', '--student', 's.onnx', ...sets, '--work', 'work/rn50', '-q'], dir);
  if (r.status !== 0) throw new Error(`fcprobe run failed: ${r.stderr}`);
  for (const run of ['work/vit-b16', 'work/vit-l14', 'runs/2026-11-30-rn50', 'runs/2026-12-01-rn50'])
    cpSync(join(dir, 'work/rn50'), join(dir, run), { recursive: true });
  const features: Record<string, string> = {
    't-train': 't/train',
    't-val': 't/test',
    't-r': 't/paintings',
    't-objectnet': 't/sketches',
    's-train': 's/train',
    's-val': 's/test',
  };
  for (const [name, from] of Object.entries(features))
    cpSync(join(dir, 'work/rn50/features', from), join(dir, 'work', name), { recursive: true });
}

/**
 * docs/datasets.md's deliberately broken tiny tree: ImageNet val with its first 3 classes (one JPEG each),
 * ImageNet-R with one of its classes (a JPEG and an empty b.jpg) and a folder that is not one of its classes.
 */
async function makeDatasetsDemo(dir: string): Promise<void> {
  const jpeg = async (folder: string, file: string): Promise<void> => {
    mkdirSync(folder, { recursive: true });
    await writeSolidImage(join(folder, file), [200, 40, 40], 8, 8, 'jpeg');
  };
  for (const wnid of ['n01440764', 'n01443537', 'n01484850'])
    await jpeg(join(dir, 'dsdemo/imagenet/val', wnid), 'a.jpg');
  for (const wnid of ['n01443537', 'n01558993']) await jpeg(join(dir, 'dsdemo/imagenet-r', wnid), 'a.jpg');
  writeFileSync(join(dir, 'dsdemo/imagenet-r/n01443537/b.jpg'), '');
}

export const WORLDS: Record<string, World> = {
  images: {
    holds:
      'linear ONNX encoders t, teacher, m, encoder, resnet50 (4-d), s, student, s1, s2, vit (3-d), r50 (2-d); ' +
      'colour classes a, b, c in photos/train (18 images), photos/test, sketches, paintings (9 each); ' +
      'experiment.json (t vs s, photos/train split 0.3, OOD sketches, work dir work/exp); ' +
      'shards/train-00000{0,1,2}.tar (photos/train, one class per tar) and shards/train.txt listing them',
    make: makeImages,
  },
  finished: {
    holds:
      'the images world, and in it one finished `fcprobe run` of t vs s (photos/train, photos/test; OOD sketches, ' +
      'paintings) copied to work/rn50, work/vit-b16, work/vit-l14, runs/2026-11-30-rn50, runs/2026-12-01-rn50; ' +
      'its feature folders as work/t-train, t-val (photos/test), t-r (paintings), t-objectnet (sketches), ' +
      's-train, s-val',
    make: makeFinished,
  },
  library: {
    holds:
      'teacher.onnx (a 4-d linear encoder); colour classes a, b in photos/train (12 images), photos/test (6) and ' +
      'class a only in sketches (3)',
    make: async (dir) => {
      writeModel(join(dir, 'teacher.onnx'), linearEncoder(COLOUR_TEACHER, null));
      await makeColourSet(join(dir, 'photos', 'train'), ['a', 'b'], 6, 1, 0.2, LOOK);
      await makeColourSet(join(dir, 'photos', 'test'), ['a', 'b'], 3, 2, 0.2, LOOK);
      await makeColourSet(join(dir, 'sketches'), ['a'], 3, 3, 1, LOOK);
    },
  },
  dsdemo: {
    holds:
      'dsdemo/: imagenet/val with classes n01440764, n01443537, n01484850 (a.jpg each); imagenet-r with ' +
      'n01443537 (a.jpg, an empty b.jpg) and n01558993 (not an ImageNet-R class, a.jpg)',
    make: makeDatasetsDemo,
  },
};
