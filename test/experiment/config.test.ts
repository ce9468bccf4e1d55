import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkConfigPaths, CONFIG_FIELDS, parseRunConfig, readRunConfig } from '../../src/experiment/config.js';
import { tempDir } from '../helpers/fixtures.js';

const base = {
  workDir: 'work',
  teacher: 't.onnx',
  student: { path: 's.onnx', preset: 'clip' },
  train: 'data/train',
  test: ['data/test'],
  ood: [{ name: 'sketch', path: 'data/sketch' }],
};

function configError(raw: unknown, pattern: RegExp): void {
  assert.throws(
    () => parseRunConfig(raw, '/base'),
    (e: Error) => {
      assert.match(e.message, pattern);
      return true;
    },
  );
}

describe('run config', () => {
  it('resolves paths against the config folder and fills names', () => {
    const c = parseRunConfig(base, '/base');
    assert.equal(c.workDir, '/base/work');
    assert.equal(c.teacher.path, '/base/t.onnx');
    assert.equal(c.teacher.name, 'teacher');
    assert.equal(c.students[0]!.preset, 'clip');
    assert.equal(c.students[0]!.name, 'student');
    assert.equal(c.train.name, 'train');
    assert.equal(c.test[0]!.name, 'test');
    assert.equal(c.ood[0]!.path, '/base/data/sketch');
    assert.equal(c.baselines, null);
  });

  it('names the field and what is wrong', () => {
    configError({ ...base, workDir: 3 }, /Expected config field "workDir" to be a non-empty string, got 3/);
    configError(
      { ...base, student: { path: 's.onnx', preset: 'vgg' } },
      /Expected config field "student.preset" to be one of "torchvision", "clip", "inception", got "vgg"/,
    );
    configError(
      { ...base, ood: [{ path: 'a', borderCrop: -1 }] },
      /config field "ood\[0\]\.borderCrop" to be a non-negative integer/,
    );
    configError({ ...base, probe: { C: 0 } }, /config field "probe.C" to be a positive number, got 0/);
    configError({ ...base, probe: { Cs: 1 } }, /"probe.Cs" is not a known field/);
    configError(
      { ...base, test: ['x/data'], ood: ['y/data'] },
      /Config field "test\[0\]" and config field "ood\[0\]" are both named "data"/,
    );
    configError({ ...base, train: undefined }, /config field "train" to be the ID training set/);
    configError(
      {
        ...base,
        baselines: [
          { id: 0.5, ood: 1.2 },
          { id: 0.6, ood: 0.3 },
        ],
      },
      /config field "baselines\[0\]\.points\[0\]\.ood" to be an accuracy as a fraction/,
    );
    configError(
      { ...base, test: [], ood: [] },
      /Expected an ID test set: give config field "test", or config field "split"/,
    );
    configError({ ...base, split: 1 }, /Expected config field "split" to be a fraction strictly between 0 and 1/);
    configError({ ...base, split: 0.3 }, /Give config field "test" or config field "split", not both/);
    configError({ ...base, test: [], seeds: [0, 1] }, /Config field "seeds" applies to the ID split/);
    configError(
      { ...base, students: ['s.onnx'] },
      /Give config field "student" \(one model\) or config field "students"/,
    );
    configError(
      { ...base, student: undefined, students: ['a/s.onnx', 'b/s.onnx'] },
      /Config field "students\[0\]" and config field "students\[1\]" are both named "s"/,
    );
  });

  it('accepts baselines as a bare list of points or as named groups', () => {
    const a = parseRunConfig(
      {
        ...base,
        baselines: [
          { id: 0.7, ood: 0.4 },
          { id: 0.8, ood: 0.5, name: 'r50' },
        ],
      },
      '/b',
    );
    assert.deepEqual(a.baselines, [
      {
        against: 'ood-average',
        points: [
          { id: 0.7, ood: 0.4 },
          { name: 'r50', id: 0.8, ood: 0.5 },
        ],
      },
    ]);
    const b = parseRunConfig(
      {
        ...base,
        baselines: [
          {
            against: 'sketch',
            label: 'ref',
            points: [
              { id: 0.7, ood: 0.4 },
              { id: 0.8, ood: 0.5 },
            ],
          },
        ],
      },
      '/b',
    );
    assert.equal(b.baselines![0]!.against, 'sketch');
  });

  it('reports missing files and folders before any work', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'data', 'train'), { recursive: true });
    writeFileSync(join(dir, 't.onnx'), 'x');
    writeFileSync(join(dir, 'cfg.json'), JSON.stringify(base));
    const c = readRunConfig(join(dir, 'cfg.json'));
    assert.throws(() => checkConfigPaths(c), /"student.path": model file .*s\.onnx does not exist/);
    writeFileSync(join(dir, 'bad.json'), '{ not json');
    assert.throws(() => readRunConfig(join(dir, 'bad.json')), /not valid JSON/);
  });

  it('agrees with schema/experiment.schema.json on the fields at every level', () => {
    const schema = JSON.parse(readFileSync(new URL('../../../schema/experiment.schema.json', import.meta.url), 'utf8'));
    const keys = (o: { properties: Record<string, unknown> }): string[] => Object.keys(o.properties).sort();
    assert.deepEqual(keys(schema), [...CONFIG_FIELDS.top].sort());
    assert.deepEqual(keys(schema.$defs.model.oneOf[1]), [...CONFIG_FIELDS.model].sort());
    assert.deepEqual(keys(schema.$defs.set.oneOf[1]), [...CONFIG_FIELDS.set].sort());
    assert.deepEqual(keys(schema.properties.probe), [...CONFIG_FIELDS.probe].sort());
    assert.deepEqual(keys(schema.$defs.distill), [...CONFIG_FIELDS.distill].sort());
  });
});
