/**
 * A teacher given by --teacher is named after its file, as students are (results, features folders); a work dir
 * an earlier fcprobe filled under the name "teacher" keeps that name (its features are reused, not redone),
 * and a teacher whose file name a student shares keeps "teacher" rather than colliding.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { CLI, linearEncoder, makeNoiseFolder, tempDir, writeModel } from '../helpers/fixtures.js';

function run(dir: string, args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'run', ...args, '--format', 'json', '-q'], {
    cwd: dir,
    encoding: 'utf8',
  });
  return { status: r.status, stderr: r.stderr };
}

const names = (work: string): string[] =>
  (JSON.parse(readFileSync(join(work, 'results.json'), 'utf8')) as { models: { name: string }[] }).models.map(
    (m) => m.name,
  );

describe('the name of a teacher given by --teacher', () => {
  const dir = tempDir('fcprobe-teacher-name-');
  const sets = ['--train', 'train', '--test', 'test', '--ood', 'ood', '--preset', 'clip', '--bootstrap', '0'];
  before(async () => {
    await makeNoiseFolder(join(dir, 'train'), ['a', 'b'], 3, 16);
    for (const s of ['test', 'ood']) await makeNoiseFolder(join(dir, s), ['a', 'b'], 2, 16);
    mkdirSync(join(dir, 'a'));
    mkdirSync(join(dir, 'b'));
    writeModel(
      join(dir, 'clip-big.onnx'),
      linearEncoder(
        [
          [1, 0, 0],
          [0, 1, 1],
        ],
        null,
      ),
    );
    writeModel(
      join(dir, 'small.onnx'),
      linearEncoder(
        [
          [0, 1, 0],
          [1, 0, 1],
        ],
        null,
      ),
    );
    writeModel(
      join(dir, 'a', 'm.onnx'),
      linearEncoder(
        [
          [1, 0, 0],
          [0, 1, 1],
        ],
        null,
      ),
    );
    writeModel(
      join(dir, 'b', 'm.onnx'),
      linearEncoder(
        [
          [0, 1, 0],
          [1, 0, 1],
        ],
        null,
      ),
    );
  });

  it('is its file name, in results.json and in the features folder', () => {
    const r = run(dir, ['--teacher', 'clip-big.onnx', '--student', 'small.onnx', ...sets, '--work', 'w1']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(names(join(dir, 'w1')), ['clip-big', 'small']);
    assert.ok(existsSync(join(dir, 'w1', 'features', 'clip-big', 'train', 'features.npy')));
    assert.ok(!existsSync(join(dir, 'w1', 'features', 'teacher')));
  });

  it('stays "teacher" in a work dir whose features were made under that name, which are reused', () => {
    const work = join(dir, 'w2');
    // The work dir an earlier fcprobe left: the same run, its teacher's features under features/teacher.
    const old = run(dir, ['--teacher', 'clip-big.onnx', '--student', 'small.onnx', ...sets, '--work', 'w2']);
    assert.equal(old.status, 0, old.stderr);
    const made = join(work, 'features', 'clip-big');
    const moved = join(work, 'features', 'teacher');
    renameSync(made, moved);
    const before = statSync(join(moved, 'train', 'features.npy')).mtimeMs;
    const again = run(dir, ['--teacher', 'clip-big.onnx', '--student', 'small.onnx', ...sets, '--work', 'w2']);
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual(names(work), ['teacher', 'small']);
    assert.ok(!existsSync(made), 'no second copy under the file name');
    assert.equal(statSync(join(moved, 'train', 'features.npy')).mtimeMs, before, 'the old features are reused');
  });

  it('stays "teacher" when a student has the same file name', () => {
    const r = run(dir, ['--teacher', join('a', 'm.onnx'), '--student', join('b', 'm.onnx'), ...sets, '--work', 'w3']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(names(join(dir, 'w3')), ['teacher', 'm']);
  });
});
