/**
 * `fcprobe run` on the command line: every check happens before extraction, errors name the flag or config
 * field the user gave, flags override a config's fields and say so.
 */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildOnnxModel } from '../../src/compute/onnxBuilder.js';
import { mergeFlags } from '../../src/cli/runFlags.js';
import { parseRunConfig } from '../../src/experiment/config.js';
import { unextractedRunDir, writeModel, runCli as cli } from '../helpers/fixtures.js';

/** A work dir with two tiny class folders and linear models; nothing here is ever extracted. */
const setup = unextractedRunDir;

describe('run (command line)', () => {
  it('fails at once, naming the flags, without an ID test set', () => {
    const dir = setup();
    const r = cli(
      ['run', '--teacher', 't.onnx', '--student', 's.onnx', '--train', 'photo', '--ood', 'sketch', '--work', 'w'],
      dir,
    );
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /Expected an ID test set: give --test, or --split/);
    assert.doesNotMatch(r.stderr, /config field/);
    assert.equal(existsSync(join(dir, 'w')), false, 'nothing was extracted');
  });

  it('names the flags when one folder is passed twice', () => {
    const dir = setup();
    const r = cli(
      ['run', '--teacher', 't.onnx', '--student', 's.onnx', '--train', 'photo', '--test', 'photo', '--work', 'w'],
      dir,
    );
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--train and --test are the same folder/);
    assert.doesNotMatch(r.stderr, /config field|\.name/);
  });

  it('lets flags override a config, says what they overrode, and refuses --suite with sets in the config', () => {
    const dir = setup();
    const config = {
      workDir: 'w',
      teacher: 't.onnx',
      student: { path: 's.onnx', preset: 'clip' },
      train: 'photo',
      test: ['sketch'],
      probe: { C: 1 },
    };
    const merged = mergeFlags({ C: 0.01, work: join(dir, 'w2'), studentCrop: 8 }, config);
    assert.deepEqual(merged.overrides, [
      `--work "${join(dir, 'w2')}" overrides workDir (was "w")`,
      '--C 0.01 overrides probe.C (was 1)',
    ]);
    const cfg = parseRunConfig(merged.raw, dir, { nameOf: merged.nameOf });
    assert.equal(cfg.probe.C, 0.01);
    assert.equal(cfg.workDir, join(dir, 'w2'));
    assert.equal(cfg.students[0]!.crop, 8);
    assert.equal(cfg.students[0]!.preset, 'clip', "the config's other fields stay");
    assert.equal(cfg.train.path, join(dir, 'photo'), "the config's paths stay relative to its folder");
    // A bad value a flag gave is named by the flag; one from the file by its field.
    assert.throws(() => {
      const m = mergeFlags({ studentCrop: 0 }, config);
      parseRunConfig(m.raw, dir, { nameOf: m.nameOf });
    }, /Expected --student-crop to be a positive integer, got 0/);
    assert.throws(() => {
      const m = mergeFlags({ C: 2 }, { ...config, probe: { C: 1, maxIter: 0 } });
      parseRunConfig(m.raw, dir, { nameOf: m.nameOf });
    }, /Expected config field "probe.maxIter" to be a positive integer/);
    writeFileSync(join(dir, 'cfg.json'), JSON.stringify(config));
    const r = cli(['run', '--config', 'cfg.json', '--suite', 'imagenet-ood', '--data-root', dir], dir);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--suite cannot combine with a config that lists sets \(train, test\)/);
    // The run prints its overrides before anything else (here it then stops at the missing model file).
    writeFileSync(join(dir, 'cfg2.json'), JSON.stringify({ ...config, teacher: 'missing.onnx' }));
    const o = cli(['run', '--config', 'cfg2.json', '--C', '0.5', '-q'], dir);
    assert.match(o.stderr, /--C 0.5 overrides probe.C \(was 1\)/);
    assert.match(o.stderr, /Config field "teacher.path": model file .*missing\.onnx does not exist/);
    assert.equal(o.status, 4);
  });

  it("names a token output's missing pool by the config field or by the flag", () => {
    const dir = setup();
    const tokens = buildOnnxModel({
      inputs: [{ name: 'input', type: 'float32', shape: ['N', 3, 8, 8] }],
      outputs: [{ name: 'tokens', type: 'float32', shape: ['N', 64, 4] }],
      initializers: [
        { name: 'W', dims: [4, 3, 1, 1], data: new Float32Array(12).fill(1) },
        { name: 'shape', dims: [3], data: BigInt64Array.from([0n, 4n, -1n]) },
      ],
      nodes: [
        { op: 'Conv', inputs: ['input', 'W'], outputs: ['c'] },
        { op: 'Reshape', inputs: ['c', 'shape'], outputs: ['r'] },
        { op: 'Transpose', inputs: ['r'], outputs: ['tokens'], attrs: { perm: [0, 2, 1] } },
      ],
    });
    writeModel(join(dir, 'vit.onnx'), tokens);
    writeFileSync(
      join(dir, 'cfg.json'),
      JSON.stringify({ workDir: 'w', teacher: 't.onnx', student: 'vit.onnx', train: 'photo', test: ['sketch'] }),
    );
    const fromFile = cli(['run', '--config', 'cfg.json', '-q'], dir);
    assert.match(fromFile.stderr, /Expected config field "student.pool" to be cls or mean/);
    assert.doesNotMatch(fromFile.stderr, /--pool/);
    const sets = ['--train', 'photo', '--test', 'sketch', '--work', 'w', '-q'];
    const fromFlags = cli(['run', '--teacher', 't.onnx', '--student', 'vit.onnx', ...sets], dir);
    assert.match(fromFlags.stderr, /Expected --student-pool to be cls or mean/);
    const pooled = cli(
      ['run', '--teacher', 't.onnx', '--student', 'vit.onnx', '--student-pool', 'mean', '--student-crop', '7', ...sets],
      dir,
    );
    // Past the pool check, the crop the flag gave is checked against the graph's 8x8 input, named by its flag.
    assert.match(pooled.stderr, /Expected --student-crop to be the model's input size 8/);
  });
});
