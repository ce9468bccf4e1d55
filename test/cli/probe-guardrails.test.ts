/**
 * `fcprobe probe` states what decided its fit when the user did not (issue 23): a C sweep that could not tell
 * its values apart, a paper schedule that cannot finish its warm-up, a probe that ends at chance.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ProbeFile } from '../../src/probe/probe.js';
import { gaussianClasses, writeFeatureDir } from '../helpers/featureDir.js';
import { CLI, tempDir } from '../helpers/fixtures.js';

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** k classes, one-hot means `sep` apart along their own axis, `perClass` rows each. */
function classesDir(root: string, name: string, k: number, perClass: number, sep: number, seed: number): string {
  const means = Array.from({ length: k }, (_, c) => Array.from({ length: k }, (_, j) => (j === c ? sep : 0)));
  const g = gaussianClasses(means, k * perClass, seed, 1);
  const classes = Array.from({ length: k }, (_, c) => `c${c}`);
  return writeFeatureDir(join(root, name), { x: g.x, d: g.d, labels: g.labels, classes });
}

describe('probe --C-sweep (command line)', () => {
  it('breaks a tie over all 13 values toward the smallest C, says so and does not advise a wider grid', () => {
    const root = tempDir('fcprobe-sweep-tie-');
    // 7 classes x 5 rows, holdout 0.2: one held-out row per class, 7 rows. Means 40 noise-sd apart: every
    // C of the grid classifies all 7 rows, so the split has nothing to choose with.
    const train = classesDir(root, 'train', 7, 5, 40, 1);
    const out = join(root, 'probe');
    const r = cli(['probe', '--train', train, '--out', out, '--C-sweep', '--quiet']);
    assert.equal(r.status, 0, r.stderr);
    const file = JSON.parse(readFileSync(join(out, 'probe.json'), 'utf8')) as ProbeFile;
    const sw = file.sweep!;
    assert.equal(sw.nVal, 7);
    assert.equal(sw.grid.length, 13);
    // The expectation from the points themselves: every value scored 7/7, so all tie and the smallest wins.
    assert.ok(sw.points.every((p) => p.valTop1 === 1));
    assert.equal(sw.tied, 13);
    assert.equal(file.C, Math.min(...sw.grid));
    assert.equal(file.C, 1e-4);
    assert.equal(sw.atGridEdge, false);
    assert.match(r.stdout, /13 of 13 C values tied at 100\.0% held-out top-1 on 7 rows: chose C=0\.0001 \(smallest\)/);
    assert.match(r.stdout, /the sweep carried no information/);
    assert.doesNotMatch(r.stdout + r.stderr, /extend --C-grid/);
  });

  it('keeps the edge advice when the edge value wins outright', () => {
    const root = tempDir('fcprobe-sweep-edge-');
    // Overlapping classes with many held-out rows: the held-out top-1 separates the grid's values.
    const train = classesDir(root, 'train', 3, 200, 1.5, 2);
    const out = join(root, 'probe');
    const r = cli(['probe', '--train', train, '--out', out, '--C-sweep', '--C-grid', '1e-6,1e-5', '--quiet']);
    assert.equal(r.status, 0, r.stderr);
    const sw = (JSON.parse(readFileSync(join(out, 'probe.json'), 'utf8')) as ProbeFile).sweep!;
    const best = Math.max(...sw.points.map((p) => p.valTop1));
    // The larger C wins outright on these 120 held-out rows (the points say so), and it is the grid's edge.
    assert.deepEqual(
      sw.points.filter((p) => p.valTop1 === best).map((p) => p.C),
      [1e-5],
    );
    assert.equal(sw.tied, 1);
    assert.equal(sw.atGridEdge, true);
    assert.match(r.stdout, /extend --C-grid/);
    assert.doesNotMatch(r.stdout, /tied/);
  });

  it('refuses --C together with --C-sweep (exit 2) instead of ignoring --C', () => {
    const root = tempDir('fcprobe-sweep-c-');
    const train = classesDir(root, 'train', 3, 10, 5, 3);
    const r = cli(['probe', '--train', train, '--out', join(root, 'p'), '--C', '1', '--C-sweep']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /Give either a fixed C \(--C 1, config probe\.C\) or a C sweep/);
    assert.equal(r.stderr.trim().split('\n').length, 2, r.stderr);
  });
});
