/** A saved probe is written atomically with a checksum, and refused on load when damaged or non-finite. */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FcprobeError } from '../../src/errors.js';
import { loadProbe, type ProbeFile, saveProbe } from '../../src/probe/probeFiles.js';
import { encodeNpy } from '../../src/io/npy.js';
import { tempDir } from '../helpers/fixtures.js';

const file = {
  format: 'fcprobe-probe',
  formatVersion: 1,
  fcprobeVersion: 't',
  classes: ['a', 'b'],
  featureDim: 2,
  solver: 'lbfgs',
  recipe: null,
  C: 1,
  standardization: null,
  convergence: {
    iterations: 1,
    evaluations: 1,
    finalGradNorm: 0,
    objective: 0,
    meanTrainLoss: 0,
    converged: true,
    reason: 'x',
  },
  settings: {},
  sweep: null,
  train: { dir: 'd', key: 'k', rows: 2, origin: {} as ProbeFile['train']['origin'], droppedClasses: [] },
} as ProbeFile;
const weights = Float32Array.from([1, 2, 3, 4, 5, 6]);

const exit5 = (pattern: RegExp) => (e: unknown) =>
  e instanceof FcprobeError && e.exitCode === 5 && pattern.test(e.message);

describe('probe files', () => {
  it('round trip; probe.json records the sha256 of weights.npy; no temporary file left', () => {
    const dir = tempDir('fcprobe-probefile-');
    saveProbe(dir, file, weights);
    const p = loadProbe(dir);
    assert.deepEqual(Array.from(p.weights), Array.from(weights));
    assert.match(String(p.file.weightsSha256), /^[0-9a-f]{64}$/);
    assert.deepEqual(readdirSync(dir).sort(), ['probe.json', 'weights.npy']);
  });

  it('refuses a weights.npy changed after saving (checksum)', () => {
    const dir = tempDir('fcprobe-probefile-');
    saveProbe(dir, file, weights);
    writeFileSync(join(dir, 'weights.npy'), encodeNpy('<f4', [2, 3], Float32Array.from([1, 2, 3, 4, 5, 7])));
    assert.throws(() => loadProbe(dir), exit5(/does not match the sha256/));
  });

  it('refuses NaN or infinite weights (exit 5), even without a checksum', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
      const dir = tempDir('fcprobe-probefile-');
      const { weightsSha256: _drop, ...old } = file;
      writeFileSync(join(dir, 'probe.json'), JSON.stringify(old));
      writeFileSync(join(dir, 'weights.npy'), encodeNpy('<f4', [2, 3], Float32Array.from([1, 2, bad, 4, 5, 6])));
      assert.throws(() => loadProbe(dir), exit5(/NaN or infinite weight \(class 0, column 2\)/));
    }
    assert.throws(
      () => saveProbe(tempDir(), file, Float32Array.from([1, Number.NaN, 3, 4, 5, 6])),
      exit5(/non-finite/),
    );
  });

  it('probe.json = null, [], garbled, or without weights.npy: one clear error naming the file (exit 5)', () => {
    for (const text of ['null', '[]', '{"format":']) {
      const dir = tempDir('fcprobe-probefile-');
      writeFileSync(join(dir, 'probe.json'), text);
      assert.throws(() => loadProbe(dir), exit5(/probe\.json is not a probe file, "format": "fcprobe-probe"/));
    }
    const dir = tempDir('fcprobe-probefile-');
    saveProbe(dir, file, weights);
    writeFileSync(join(dir, 'weights.npy'), '');
    assert.ok(existsSync(join(dir, 'probe.json')));
    assert.throws(() => loadProbe(dir), exit5(/sha256/));
    const dir2 = tempDir('fcprobe-probefile-');
    writeFileSync(join(dir2, 'probe.json'), readFileSync(join(dir, 'probe.json')));
    assert.throws(() => loadProbe(dir2), exit5(/no weights\.npy/));
  });
});
