/** Names in a run config become folder names: anything that is not a plain, distinct name is refused (exit 2). */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseRunConfig, readRunConfig } from '../../src/experiment/config.js';
import { FcprobeError } from '../../src/errors.js';
import { tempDir } from '../helpers/fixtures.js';

const base = {
  workDir: 'work',
  teacher: 't.onnx',
  student: 's.onnx',
  train: { name: 'photo', path: 'data/train' },
  test: [{ name: 'photo-test', path: 'data/test' }],
  ood: [{ name: 'sketch', path: 'data/sketch' }],
};

function refused(raw: unknown, field: string): void {
  assert.throws(
    () => parseRunConfig(raw, '/base'),
    (e: unknown) =>
      e instanceof FcprobeError &&
      e.exitCode === 2 &&
      e.message.toLowerCase().includes(`config field "${field}"`.toLowerCase()),
    `expected a config error naming ${field}`,
  );
}

describe('run config names', () => {
  it('accepts plain names', () => {
    assert.equal(parseRunConfig(base, '/base').test[0]!.name, 'photo-test');
    // The suite's display names have inner spaces.
    assert.equal(
      parseRunConfig({ ...base, ood: [{ name: 'ImageNet-R 2', path: 'x' }] }, '/base').ood[0]!.name,
      'ImageNet-R 2',
    );
  });

  it("refuses path separators, dot names and escapes (the issue's cases)", () => {
    refused({ ...base, student: { name: 't/.', path: 's.onnx' } }, 'student.name');
    refused({ ...base, test: [{ name: 'photo-test/', path: 'x' }] }, 'test[0].name');
    refused({ ...base, ood: [{ name: '../../escape', path: 'x' }] }, 'ood[0].name');
    refused({ ...base, ood: [{ name: '..', path: 'x' }] }, 'ood[0].name');
    refused({ ...base, ood: [{ name: '.hidden', path: 'x' }] }, 'ood[0].name');
    refused({ ...base, ood: [{ name: 'a\\b', path: 'x' }] }, 'ood[0].name');
    refused({ ...base, teacher: { name: '', path: 't.onnx' } }, 'teacher.name');
    refused({ ...base, ood: [{ name: 'sketch ', path: 'x' }] }, 'ood[0].name');
    refused({ ...base, ood: [{ name: ' sketch', path: 'x' }] }, 'ood[0].name');
  });

  it('refuses names equal after case folding', () => {
    refused(
      { ...base, teacher: { name: 'Model', path: 't.onnx' }, student: { name: 'model', path: 's.onnx' } },
      'student',
    );
    refused({ ...base, ood: [{ name: 'Photo', path: 'x' }] }, 'ood[0]');
  });

  it('a UTF-8 byte order mark at the start of a config file is accepted', () => {
    const dir = tempDir('fcprobe-names-');
    const p = join(dir, 'c.json');
    writeFileSync(p, `\uFEFF${JSON.stringify(base)}`);
    assert.equal(readRunConfig(p).ood[0]!.name, 'sketch');
  });
});
