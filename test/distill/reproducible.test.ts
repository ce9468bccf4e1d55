/**
 * The same distillation in two folders (two checkouts, two machines) gives a byte-identical student.onnx, the
 * same distill.json key, and features of the student with the same cache key; distill.json and student.onnx hold
 * no path of the folder that made them. Everything through the CLI, with absolute paths (the worst case: what
 * extract records in its manifests).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CLI, linearEncoder, makeNoiseFolder, slowEncoder, tempDir, writeModel } from '../helpers/fixtures.js';

function fcprobe(args: string[]): void {
  const r = spawnSync(process.execPath, [CLI, ...args, '-q'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${args.join(' ')}\n${r.stderr}`);
}

const W = Array.from({ length: 6 }, (_, k) => [Math.sin(k + 1), Math.cos(2 * k), 0.3 * k - 1]);
const pre = ['--preset', 'torchvision', '--resize', '16', '--crop', '16', '--verify-content'];

/** Makes the inputs in `dir`, extracts, distils, extracts the student: what the comparison needs. */
async function distillIn(dir: string): Promise<{ student: Buffer; distill: string; studentKey: string }> {
  await makeNoiseFolder(join(dir, 'img'), ['a', 'b'], 6, 16);
  const backbone = writeModel(join(dir, 'backbone.onnx'), linearEncoder(W, null));
  const teacher = writeModel(join(dir, 'teacher.onnx'), slowEncoder(16, 1, 4));
  fcprobe(['extract', '-m', backbone, '--data', join(dir, 'img'), '--out', join(dir, 'b-feat'), ...pre]);
  fcprobe(['extract', '-m', teacher, '--data', join(dir, 'img'), '--out', join(dir, 't-feat'), ...pre]);
  const out = join(dir, 'work', 'distill');
  fcprobe([
    ...['distill', '--teacher-features', join(dir, 't-feat'), '--student-features', join(dir, 'b-feat')],
    ...['--backbone', backbone, '--head', 'mlp', '--hidden', '8', '--epochs', '3', '--batch', '4', '--seed', '1'],
    ...['--eval', `${join(dir, 't-feat')}:${join(dir, 'b-feat')}`, '--threads', '1', '--out', out],
  ]);
  fcprobe([
    'extract',
    '-m',
    join(out, 'student.onnx'),
    '--data',
    join(dir, 'img'),
    '--out',
    join(dir, 's-feat'),
    ...pre,
  ]);
  const manifest = JSON.parse(readFileSync(join(dir, 's-feat', 'manifest.json'), 'utf8')) as { key: string };
  return {
    student: readFileSync(join(out, 'student.onnx')),
    distill: readFileSync(join(out, 'distill.json'), 'utf8'),
    studentKey: manifest.key,
  };
}

describe('distillation reproduces byte for byte across folders', () => {
  it('student.onnx, distill.json key and the student feature key agree; no folder path inside', async () => {
    const a = tempDir('fcprobe-repro-a-');
    const b = tempDir('fcprobe-repro-b-other-name-');
    const ra = await distillIn(a);
    const rb = await distillIn(b);
    assert.ok(ra.student.equals(rb.student), 'student.onnx byte-identical');
    const [ja, jb] = [ra.distill, rb.distill].map((t) => JSON.parse(t) as { key: string; createdAt: string });
    assert.equal(ja!.key, jb!.key);
    assert.equal(ra.studentKey, rb.studentKey, 'features of the student: the same cache key');
    for (const [dir, r] of [
      [a, ra],
      [b, rb],
    ] as const) {
      assert.ok(!r.distill.includes(dir), `distill.json holds no path of ${dir}`);
      assert.ok(!r.student.includes(Buffer.from(dir)), `student.onnx holds no path of ${dir}`);
    }
    // Apart from when it was made and how long it took, distill.json is the same file.
    const strip = (t: string): string => t.replace(/"(createdAt|seconds)": [^\n]*\n/g, '');
    assert.equal(strip(ra.distill), strip(rb.distill));
  });
});
