import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createOrtGemm, type Gemm } from '../../src/compute/gemm.js';
import { imagenetRWnids, imagenetWnids } from '../../src/dataset/imagenetMeta.js';
import { protocolClasses } from '../../src/dataset/suite.js';
import { evaluateProbe, loadProbe, runProbe } from '../../src/probe/probe.js';
import { saveProbe } from '../../src/probe/probeFiles.js';
import { writeFeatureDir } from '../helpers/featureDir.js';
import { tempDir } from '../helpers/fixtures.js';
import { handProbeFile } from '../helpers/handProbe.js';

let gemm: Gemm;
let root: string;
before(async () => {
  gemm = await createOrtGemm();
  root = tempDir('fcprobe-protocol-');
});
after(async () => {
  await gemm.dispose();
});

/*
 * A partial ImageNet-R: three of its 200 class folders (A, B, C) hold 2, 1 and 3 images. The probe has all
 * 1000 ImageNet classes; the features are one-hot in 3 dimensions (image of A -> e0, B -> e1, C -> e2), and
 * the weights are written by hand so that the right class always scores 1 and two distractors beat it:
 *   - R4, another ImageNet-R class with no folder here, scores 2 on A's images;
 *   - OUT, an ImageNet class outside ImageNet-R's 200, scores 3 on B's images.
 * Every other class scores 0. So, counted by hand:
 *   over the folders present {A, B, C}:      every image right                    -> 6/6
 *   over ImageNet-R's 200 (the protocol):    A's 2 images go to R4, B and C right  -> 4/6
 *   over all 1000 (ImageNet val / Sketch):   A's go to R4, B's to OUT, C right     -> 3/6
 */
const R = imagenetRWnids();
const ALL = imagenetWnids();
const rSet = new Set(R);
const [A, B, C, R4] = [R[0]!, R[1]!, R[2]!, R[3]!];
const OUT = ALL.find((w) => !rSet.has(w))!;

function handProbe(evalDir: string): string {
  const d = 3;
  const w = new Float32Array(ALL.length * (d + 1));
  const set = (cls: string, dim: number, v: number): void => {
    w[ALL.indexOf(cls) * (d + 1) + dim] = v;
  };
  set(A, 0, 1);
  set(B, 1, 1);
  set(C, 2, 1);
  set(R4, 0, 2);
  set(OUT, 1, 3);
  const file = handProbeFile(ALL, d, evalDir);

  const dir = join(root, 'probe-1000');
  saveProbe(dir, file, w);
  return dir;
}

function partialR(): string {
  const labels = [0, 0, 1, 2, 2, 2];
  const x = new Float32Array(labels.length * 3);
  labels.forEach((l, i) => {
    x[i * 3 + l] = 1;
  });
  return writeFeatureDir(join(root, 'imagenet-r-partial'), { x, d: 3, labels, classes: [A, B, C] });
}

test('protocol scoring: a partial ImageNet-R is scored over its 200 classes, not the folders present', async () => {
  const evalDir = partialR();
  const probe = loadProbe(handProbe(evalDir));
  const present = await evaluateProbe(probe, evalDir, { gemm });
  assert.equal(present.top1, 6 / 6);
  assert.equal(present.labelSpace.scoredClasses, 3);
  assert.equal(present.labelSpace.protocol, undefined);

  const protocol = await evaluateProbe(probe, evalDir, { gemm, scoreOver: protocolClasses('imagenet-r') });
  assert.equal(protocol.n, 6);
  assert.equal(protocol.top1, 4 / 6);
  assert.equal(protocol.labelSpace.scoredClasses, 200);
  assert.equal(protocol.labelSpace.kind, 'subset');
  assert.equal(protocol.labelSpace.protocol?.expected, 200);
  assert.deepEqual(protocol.labelSpace.protocol?.absent, R.slice(3));
  assert.equal(protocol.leftOut, 0);
  // Per image: A's two wrong, B and C right (row order of the feature file).
  assert.deepEqual(Array.from(protocol.correct), [0, 0, 1, 1, 1, 1]);

  const all = await evaluateProbe(probe, evalDir, { gemm, scoreOver: protocolClasses('imagenet-1k') });
  assert.equal(all.top1, 3 / 6);
  assert.equal(all.labelSpace.kind, 'identity');
  assert.equal(all.labelSpace.scoredClasses, 1000);
  assert.deepEqual(Array.from(all.correct), [0, 0, 0, 1, 1, 1]);
});

test('protocol scoring: a folder outside the protocol classes is left out, counted per set in runProbe', async () => {
  // The same images plus one folder (OUT, 2 images) that is an ImageNet class but not an ImageNet-R one.
  const labels = [0, 0, 1, 2, 2, 2, 3, 3];
  const x = new Float32Array(labels.length * 3);
  labels.forEach((l, i) => {
    if (l < 3) x[i * 3 + l] = 1;
    else x[i * 3 + 1] = 1;
  });
  const evalDir = writeFeatureDir(join(root, 'imagenet-r-foreign'), { x, d: 3, labels, classes: [A, B, C, OUT] });
  const probeDir = handProbe(evalDir);
  const r = await runProbe({
    load: probeDir,
    eval: [evalDir, evalDir],
    evalScoreOver: [protocolClasses('imagenet-r'), null],
    out: join(root, 'probe-out'),
    gemm,
  });
  const [protocol, present] = r.evaluations;
  assert.equal(protocol!.n, 6);
  assert.equal(protocol!.top1, 4 / 6);
  assert.equal(protocol!.leftOut, 2);
  assert.deepEqual(protocol!.labelSpace.dropped, [{ name: OUT, reason: 'outside', images: 2 }]);
  // Present folders: OUT's images (feature e1) score OUT 3 > B 1: right; B's image goes to OUT: wrong.
  assert.equal(present!.n, 8);
  assert.equal(present!.top1, 7 / 8);
});
