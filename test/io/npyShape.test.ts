/**
 * A features.npy whose header declares a negative (or fractional) axis is a bad-features error (exit 5) naming
 * the file, at the command line; it used to reach a buffer allocation and exit 6 with ERR_OUT_OF_RANGE.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { gaussianClasses, writeFeatureDir } from '../helpers/featureDir.js';
import { CLI, tempDir } from '../helpers/fixtures.js';

/** The file with its header's shape text replaced, padding adjusted so the header keeps its length. */
function withShape(path: string, from: string, to: string): void {
  const bytes = readFileSync(path);
  const text = bytes.toString('latin1');
  assert.ok(text.includes(from), `header holds ${from}`);
  const grow = to.length - from.length;
  const patched = text.replace(from, to).replace(`${' '.repeat(grow)}\n`, '\n');
  assert.equal(patched.length, text.length);
  writeFileSync(path, Buffer.from(patched, 'latin1'));
}

for (const [label, shape] of [
  ['negative', '(-24, 2)'],
  ['fractional', '(2.5, 2)'],
] as const)
  it(`probe on a features.npy of shape ${shape} (${label}): exit 5 naming the file`, () => {
    const dir = tempDir('fcprobe-npyshape-');
    const g = gaussianClasses(
      [
        [2, 0],
        [0, 2],
      ],
      24,
      3,
      0.3,
    );
    const feats = writeFeatureDir(join(dir, 'f'), { x: g.x, d: 2, labels: g.labels, classes: ['a', 'b'] });
    const run = (): ReturnType<typeof spawnSync> =>
      spawnSync(process.execPath, [CLI, 'probe', '--train', feats, '--eval', feats, '--out', join(dir, 'p')], {
        encoding: 'utf8',
      });
    const intact = run();
    assert.equal(intact.status, 0, String(intact.stderr));
    withShape(join(feats, 'features.npy'), "'shape': (24, 2)", `'shape': ${shape}`);
    const r = run();
    assert.equal(r.status, 5, String(r.stderr));
    assert.match(
      String(r.stderr),
      /features\.npy: the \.npy shape \(.*\) has the axis .*, not a non-negative integer\./,
    );
    assert.doesNotMatch(String(r.stderr), /ERR_OUT_OF_RANGE|internal error/);
  });
