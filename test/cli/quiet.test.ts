/**
 * -q silences what it says it silences: progress and informational lines (`preprocessing of ...`) go quiet,
 * warnings (they say a number may be wrong) still print; and `run` says each model's preprocessing once, not
 * once per set.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { linearEncoder, makeNoiseFolder, tempDir, writeModel, runCli as cli } from '../helpers/fixtures.js';

const lines = (s: string): string[] => s.split('\n').filter((l) => l.trim() !== '');

describe('-q and the preprocessing line', () => {
  const dir = tempDir('fcprobe-quiet-');
  const data = join(dir, 'data');
  const test = join(dir, 'test');
  const ood = join(dir, 'ood');
  const ood2 = join(dir, 'ood2');
  const teacher = join(dir, 't.onnx');
  const student = join(dir, 's.onnx');
  before(async () => {
    await makeNoiseFolder(data, ['a', 'b'], 3, 24);
    for (const d of [test, ood, ood2]) await makeNoiseFolder(d, ['a', 'b'], 2, 24);
    writeModel(
      teacher,
      linearEncoder(
        [
          [1, 0, 0],
          [0, 1, 0],
        ],
        null,
      ),
    );
    writeModel(
      student,
      linearEncoder(
        [
          [0, 0, 1],
          [1, 1, 0],
        ],
        null,
      ),
    );
  });

  it('extract without -q says the preprocessing and where it came from', () => {
    const r = cli(['extract', '-m', teacher, '--data', data, '--out', join(dir, 'loud'), '--preset', 'clip']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /^preprocessing of .*t\.onnx: .*\(from /m);
  });

  it('extract -q with the preprocessing given prints nothing on stderr', () => {
    const r = cli(['extract', '-q', '-m', teacher, '--data', data, '--out', join(dir, 'quiet'), '--preset', 'clip']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
  });

  it('extract -q with no preprocessing stated keeps the warning, and only it', () => {
    const r = cli(['extract', '-q', '-m', teacher, '--data', data, '--out', join(dir, 'assumed')]);
    assert.equal(r.status, 0, r.stderr);
    const said = lines(r.stderr);
    assert.ok(said.length > 0, 'the assumed-preprocessing warning prints');
    for (const l of said) assert.match(l, /^warning: /, `only warnings with -q, got: ${l}`);
    assert.doesNotMatch(r.stderr, /^preprocessing of /m);
  });

  it('run says each model preprocessing once, however many sets it reads', () => {
    const work = join(dir, 'run');
    const r = cli([
      ...['run', '--teacher', teacher, '--student', student, '--preset', 'clip'],
      ...['--train', data, '--test', test, '--ood', ood, '--ood', ood2, '--work', work, '--format', 'json'],
    ]);
    assert.equal(r.status, 0, r.stderr);
    const said = lines(r.stderr).filter((l) => l.startsWith('preprocessing of '));
    assert.equal(said.length, 2, said.join('\n'));
    assert.equal(new Set(said.map((l) => l.split(':')[0])).size, 2, 'one line for each of the two models');
  });
});
