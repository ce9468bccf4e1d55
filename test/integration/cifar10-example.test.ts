/**
 * docs/examples/cifar10/run.sh on a slice of ../shared/cifar10 (skipped where that folder is absent): 500 training
 * and 200 test images, the four CIFAR-10-C corruptions of those 200, teacher ResNet-56 and three students (ResNet-20,
 * and two heads the run distils on it) in one `fcprobe run`. Checks the exit status, the shape of results.json
 * (sets, n, models, one accuracy per model and set, gaps, contamination and fit per student) and that a rerun
 * reproduces results.stable.json byte for byte without training anything again.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers/fixtures.js';

/** The repository root: the nearest folder above this file with a package.json (dist/test/... or elsewhere). */
function repoRoot(): string {
  let d = dirname(new URL(import.meta.url).pathname);
  while (!existsSync(join(d, 'package.json')) && dirname(d) !== d) d = dirname(d);
  return d;
}

const ROOT = repoRoot();
const DATA = join(ROOT, '..', 'shared', 'cifar10');
const available =
  existsSync(join(DATA, 'train-000009.tar')) &&
  existsSync(join(DATA, 'test-000001.tar')) &&
  existsSync(join(DATA, 'models', 'resnet56_cifar10.onnx')) &&
  existsSync(join(DATA, 'models', 'resnet20_cifar10.onnx'));
if (!available) console.log(`# cifar10 not found at ${DATA}: skipping the CIFAR-10 example test`);

interface Results {
  models: { name: string; role: string; distill?: { reused: boolean; rows: number } }[];
  sets: { name: string; role: string; n: number }[];
  accuracy: { model: string; set: string; n: number; top1: number; top1Interval: { low: number; high: number } }[];
  gaps: { student: string; set: string; n: number; interval: { low: number; high: number } | null }[];
  contamination: { student: string; estimate: number; interval: { low: number; high: number } | null }[];
  representationFit: { student?: string; set: string; linearCka: number }[];
}

function runExample(out: string): { status: number | null; output: string } {
  const r = spawnSync('bash', ['docs/examples/cifar10/run.sh', '--slice', '--data', DATA, '--out', out], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return { status: r.status, output: `${r.stdout}\n${r.stderr}` };
}

describe('docs/examples/cifar10/run.sh --slice', { skip: !available && 'shared/cifar10 is absent' }, () => {
  it('runs the whole example on 500 + 200 images, and a rerun reproduces results.stable.json', () => {
    const out = tempDir('fcprobe-cifar10-');
    const first = runExample(out);
    assert.equal(first.status, 0, first.output);
    const r = JSON.parse(readFileSync(join(out, 'work', 'results.json'), 'utf8')) as Results;

    const corrupted = ['gaussian_noise', 'gaussian_blur', 'contrast', 'jpeg_compression'];
    assert.deepEqual(
      r.sets.map((s) => [s.name, s.role, s.n]),
      [['train', 'id-train', 500], ['test', 'id-test', 200], ...corrupted.map((c) => [c, 'ood', 200])],
    );
    assert.deepEqual(
      r.models.map((m) => [m.name, m.role]),
      [
        ['resnet56', 'teacher'],
        ['resnet20', 'student'],
        ['resnet20-linear', 'student'],
        ['resnet20-mlp', 'student'],
      ],
    );
    for (const name of ['resnet20-linear', 'resnet20-mlp']) {
      const d = r.models.find((m) => m.name === name)?.distill;
      assert.ok(d, `${name} is distilled by the run`);
      assert.equal(d.rows, 500);
    }
    const evalSets = ['test', ...corrupted];
    for (const m of r.models)
      for (const set of evalSets) {
        const a = r.accuracy.find((x) => x.model === m.name && x.set === set);
        assert.ok(a, `accuracy of ${m.name} on ${set}`);
        assert.equal(a.n, 200);
        assert.ok(a.top1Interval.low <= a.top1 && a.top1 <= a.top1Interval.high);
        // Ten classes: every model is well above chance on the clean test images.
        if (set === 'test') assert.ok(a.top1 > 0.5, `${m.name} test top-1 ${a.top1}`);
      }
    for (const s of r.models.filter((m) => m.role === 'student')) {
      for (const set of evalSets) assert.ok(r.gaps.find((g) => g.student === s.name && g.set === set)?.interval);
      const c = r.contamination.find((x) => x.student === s.name);
      assert.ok(c?.interval && c.interval.low <= c.estimate && c.estimate <= c.interval.high);
      for (const set of ['train', ...evalSets])
        assert.ok(
          r.representationFit.some((f) => f.student === s.name && f.set === set),
          `${s.name} fit ${set}`,
        );
    }
    const stages = readFileSync(join(out, 'stages.tsv'), 'utf8');
    assert.match(stages, /^slice\t/m);
    assert.match(stages, /^corrupt\t/m);
    assert.match(stages, /^run\t/m);

    const stable = readFileSync(join(out, 'results.stable.json'));
    const second = runExample(out);
    assert.equal(second.status, 0, second.output);
    assert.ok(readFileSync(join(out, 'results.stable.json')).equals(stable), 'results.stable.json changed');
    const again = JSON.parse(readFileSync(join(out, 'work', 'results.json'), 'utf8')) as Results;
    for (const m of again.models) if (m.distill) assert.equal(m.distill.reused, true, `${m.name} trained again`);
  });
});
