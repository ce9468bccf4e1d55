/**
 * FeatureWriter's commit interval: what is on disk after each step, and that a crash between commits is
 * redone exactly once on resume (the rows after the last commit are truncated away, not kept twice).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FeatureWriter, readOutputState, type Progress, verifyPartial } from '../../src/features/writer.js';
import type { FeatureManifest } from '../../src/features/manifest.js';
import { readFloat32Matrix, readLabels } from '../../src/io/npy.js';
import { tempDir } from '../helpers/fixtures.js';

const KEY = 'k1';
const batch = (first: number, n: number, dim: number): { f: Float32Array; l: Int32Array } => ({
  f: Float32Array.from({ length: n * dim }, (_, i) => first * dim + i + 0.5),
  l: Int32Array.from({ length: n }, (_, i) => (first + i) % 3),
});
const onDisk = (out: string): Progress | null => {
  const p = join(out, '.partial', 'progress.json');
  return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as Progress) : null;
};
const manifest = { key: KEY } as unknown as FeatureManifest;

describe('FeatureWriter commit interval', () => {
  it('commits every batch with an interval of 0', () => {
    const out = tempDir('fcprobe-writer-');
    const w = new FeatureWriter(out, KEY, null, 0);
    const a = batch(0, 4, 2);
    w.addBatch(a.f, 2, a.l, 4, [], 1);
    assert.equal(onDisk(out)?.rows, 4);
    w.addBatch(a.f, 2, a.l, 4, [], 2);
    assert.equal(onDisk(out)?.rows, 8);
    w.close();
  });

  it('keeps batches uncommitted until the interval passes or commit() is called', () => {
    const out = tempDir('fcprobe-writer-');
    const w = new FeatureWriter(out, KEY, null, 3600);
    const a = batch(0, 4, 2);
    w.addBatch(a.f, 2, a.l, 4, [], 1);
    assert.equal(onDisk(out), null, 'nothing committed yet');
    assert.equal(w.progress.rows, 4, 'in memory: appended rows count');
    w.commit();
    assert.deepEqual([onDisk(out)?.rows, onDisk(out)?.itemsDone], [4, 4]);
    w.close();
  });

  it('redoes the uncommitted rows exactly once after a crash', () => {
    const out = tempDir('fcprobe-writer-');
    const dim = 3;
    const b0 = batch(0, 5, dim),
      b1 = batch(5, 5, dim),
      b2 = batch(10, 2, dim);
    const first = new FeatureWriter(out, KEY, null, 3600);
    first.addBatch(b0.f, dim, b0.l, 5, [], 1);
    first.commit();
    first.addBatch(b1.f, dim, b1.l, 5, [], 2); // appended, never committed: lost in the "crash"
    first.close();

    const state = readOutputState(out, KEY);
    assert.equal(state.kind, 'resume');
    const resumed = state.kind === 'resume' ? state.progress : null;
    assert.equal(resumed?.itemsDone, 5);
    const point = resumed ? verifyPartial(out, resumed) : null;
    assert.ok(point && !('reason' in point), 'the committed rows verify');
    const second = new FeatureWriter(out, KEY, point, 3600);
    second.addBatch(b1.f, dim, b1.l, 5, [], 3);
    second.addBatch(b2.f, dim, b2.l, 2, [], 4);
    second.finish(manifest);

    const feats = readFloat32Matrix(join(out, 'features.npy'));
    assert.deepEqual([feats.rows, feats.cols], [12, dim]);
    assert.deepEqual(Array.from(feats.data), Array.from(batch(0, 12, dim).f));
    assert.deepEqual(Array.from(readLabels(join(out, 'labels.npy'))), Array.from(batch(0, 12, dim).l));
    assert.equal(existsSync(join(out, '.partial')), false);
  });
});
