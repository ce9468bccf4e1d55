/**
 * runProbe's `reuse` (what `run` sets): a finished probe is read back instead of fitted when its fit key (training
 * features' key and checksums, rows, settings, seed) equals the request's, its weights match their sha256 and the
 * features their checksums; a changed setting, seed, row selection or feature file fits again; a reused probe
 * scores every set exactly as the fitted one did.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createOrtGemm, type Gemm } from '../../src/compute/gemm.js';
import { NPY_HEADER_BYTES } from '../../src/io/npy.js';
import { runProbe, type ProbeOptions } from '../../src/probe/probe.js';
import { gaussianClasses, writeFeatureDir } from '../helpers/featureDir.js';
import { tempDir } from '../helpers/fixtures.js';

let gemm: Gemm;
before(async () => {
  gemm = await createOrtGemm();
});
after(async () => {
  await gemm.dispose();
});

const MEANS = [
  [2, 0, 0],
  [0, 2, 0],
  [0, 0, 2],
];
const CLASSES = ['a', 'b', 'c'];

/** A feature folder whose manifest records the arrays' checksums, as extract writes them. */
function featureDir(dir: string, n: number, seed: number): string {
  const g = gaussianClasses(MEANS, n, seed);
  writeFeatureDir(dir, { x: g.x, d: g.d, labels: g.labels, classes: CLASSES });
  stampChecksums(dir);
  return dir;
}

function stampChecksums(dir: string): void {
  const sum = (name: string) => {
    const data = readFileSync(join(dir, name)).subarray(NPY_HEADER_BYTES);
    return { dataBytes: data.length, sha256: createHash('sha256').update(data).digest('hex') };
  };
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  m.checksums = { features: sum('features.npy'), labels: sum('labels.npy') };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
}

describe('probe reuse', () => {
  it('reuses a probe of the same key only, and scores with it exactly as when it was fitted', async () => {
    const root = tempDir('fcprobe-reuse-');
    const train = featureDir(join(root, 'train'), 120, 1);
    const test = featureDir(join(root, 'test'), 60, 2);
    const out = join(root, 'probe');
    const base: ProbeOptions = { train, eval: [test], out, C: 0.5, seed: 0, gemm, reuse: true };
    const first = await runProbe(base);
    assert.equal(first.reused, false);
    assert.match(first.probe.fitKey ?? '', /^[0-9a-f]{64}$/);
    const weights = readFileSync(join(out, 'weights.npy'));
    const probeJson = readFileSync(join(out, 'probe.json'));
    const mtime = statSync(join(out, 'weights.npy')).mtimeMs;

    const second = await runProbe(base);
    assert.equal(second.reused, true);
    assert.deepEqual(second.evaluations, first.evaluations);
    const { weightsSha256: _w, ...reusedFile } = second.probe;
    assert.deepEqual(reusedFile, first.probe);
    assert.ok(readFileSync(join(out, 'probe.json')).equals(probeJson));
    assert.equal(statSync(join(out, 'weights.npy')).mtimeMs, mtime, 'a reused probe is not written again');

    // Without `reuse` (fcprobe probe), the same request fits: the same bytes, since the fit is deterministic.
    const refit = await runProbe({ ...base, reuse: false });
    assert.equal(refit.reused, false);
    assert.ok(readFileSync(join(out, 'weights.npy')).equals(weights));

    // Each change of what determines the fit fits again.
    const changes: [string, Partial<ProbeOptions>][] = [
      ['C', { C: 2 }],
      ['seed', { seed: 1 }],
      ['maxIter', { maxIter: 7 }],
      ['standardize', { standardize: false }],
      ['rows', { trainRows: Int32Array.from({ length: 90 }, (_, i) => i) }],
    ];
    for (const [what, change] of changes) {
      await runProbe(base); // back to the base probe in `out`
      const r = await runProbe({ ...base, ...change });
      assert.equal(r.reused, false, `${what} changed, probe reused`);
      assert.equal((await runProbe({ ...base, ...change })).reused, true, `${what}: the new probe is reused`);
    }

    // The training features changed (other values, same manifest key): their sha256 changes the fit key.
    await runProbe(base);
    featureDir(train, 120, 3);
    assert.equal((await runProbe(base)).reused, false);

    // Features that no longer match their manifest's checksum, or damaged weights: fitted again, not an error.
    assert.equal((await runProbe(base)).reused, true);
    const f = readFileSync(join(train, 'features.npy'));
    f[f.length - 1]! ^= 0x01;
    writeFileSync(join(train, 'features.npy'), f);
    assert.equal((await runProbe(base)).reused, false);
    stampChecksums(train);
    await runProbe(base);
    const w = readFileSync(join(out, 'weights.npy'));
    w[w.length - 1]! ^= 0x01;
    writeFileSync(join(out, 'weights.npy'), w);
    assert.equal((await runProbe(base)).reused, false);
    assert.equal((await runProbe(base)).reused, true);

    // A manifest without checksums (older fcprobe) is never trusted for reuse.
    const old = join(root, 'old');
    const g = gaussianClasses(MEANS, 60, 4);
    writeFeatureDir(old, { x: g.x, d: g.d, labels: g.labels, classes: CLASSES });
    const o2 = { ...base, train: old, out: join(root, 'probe-old') };
    await runProbe(o2);
    assert.equal((await runProbe(o2)).reused, false);
  });
});
