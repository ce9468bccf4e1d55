/**
 * `fcprobe run --split 0.3 --seeds 0,1,2` headlines the across-seed mean with a t-interval over the seeds, not
 * seed 0's numbers (issue 23), labels single-seed figures "seed 0", and records the rule as results.json's
 * `headline`. Expectations are recomputed here from the per-seed values results.json keeps.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RunResults } from '../../src/experiment/types.js';
import { CHANNELS, CLI, makeColourSet, tempDir, writeLinearPair } from '../helpers/fixtures.js';

const pp = (x: number, d = 1): string => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(d)}`;

test('run --seeds 0,1,2 (command line): the report headlines the mean over seeds with its t-interval', async () => {
  const dir = tempDir('fcprobe-seeds-headline-');
  const classes = ['red', 'green', 'blue'];
  const opts = { lean: 40, noise: 110, size: 8 };
  await makeColourSet(join(dir, 'photo'), classes, 10, 5, 0.3, opts);
  await makeColourSet(join(dir, 'shifted'), classes, 6, 6, 1.0, opts);
  const student = [
    [1, 0.6, 0],
    [0, 1, 0.6],
    [0.5, 0, 1],
  ];
  writeLinearPair(dir, CHANNELS, student, null);
  const model = (path: string) => ({ path, resize: 8, crop: 8 });
  const config = { teacher: model('t.onnx'), student: model('s.onnx'), train: 'photo', ood: ['shifted'] };
  writeFileSync(join(dir, 'cfg.json'), JSON.stringify({ ...config, split: 0.3, bootstrap: 200, workDir: 'w' }));
  const r = spawnSync(process.execPath, [CLI, 'run', '--config', 'cfg.json', '--seeds', '0,1,2', '-q'], {
    cwd: dir,
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const results = JSON.parse(readFileSync(join(dir, 'w', 'results.json'), 'utf8')) as RunResults;

  // The per-seed contamination estimates, their mean, sample std and t-interval (t_{0.975, 2} in closed form).
  const c = results.contamination[0]!;
  const v = c.acrossSeeds!.values;
  assert.equal(v.length, 3);
  const mean = (v[0]! + v[1]! + v[2]!) / 3;
  const sd = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / 2);
  const p = 0.975;
  const t2 = (2 * p - 1) / Math.sqrt(2 * p * (1 - p));
  const half = (t2 * sd) / Math.sqrt(3);
  assert.notEqual(pp(mean), pp(v[0]!), 'this data headlines a different figure than seed 0');

  // results.json keeps seed 0's entry and records the headline rule with its figures.
  assert.equal(c.estimate, v[0]);
  const h = results.headline!;
  assert.equal(h.basis, 'mean-over-seeds');
  assert.deepEqual(h.seeds, [0, 1, 2]);
  assert.equal(h.interval, 't-over-seeds');
  assert.ok(Math.abs(h.contamination!.value - mean) < 1e-15);
  assert.ok(Math.abs(h.contamination!.std! - sd) < 1e-15);
  assert.ok(Math.abs(h.contamination!.interval!.low - (mean - half)) < 1e-12);
  assert.ok(Math.abs(h.contamination!.interval!.high - (mean + half)) < 1e-12);
  assert.match(h.contamination!.from, /^mean over seeds 0, 1, 2 of the contamination estimate; interval: t over/);
  const idGap = results.gaps.find((g) => g.set === 'photo-test')!.acrossSeeds!;
  assert.ok(Math.abs(h.idGap!.value - idGap.mean) < 1e-15);

  // The terminal's contamination row: the mean and its t-interval, not seed 0's estimate and bootstrap interval.
  const row = r.stdout.split('\n').find((l) => l.startsWith('Contamination (OOD gap - ID gap)'))!;
  assert.ok(row.includes(pp(mean, 2)), row);
  assert.ok(row.includes(`[${pp(mean - half)}, ${pp(mean + half)}]`), row);
  assert.match(r.stdout, /^Headline figures are means over seeds 0, 1, 2 with 95% t-intervals over the 3 seeds/m);
  assert.match(r.stdout, /McNemar p \(seed 0\)/);
  assert.match(r.stdout, /Teacher@5 \(seed 0\)/);
  assert.match(r.stdout, /95% CI \(pp, t over 3 seeds\)/);
  // Seed 0's figure is still shown, labelled, in the seeds table.
  const seedRow = r.stdout.split('\n').find((l) => l.startsWith('contamination, student'))!;
  assert.ok(seedRow.trim().split(/\s{2,}/)[1] === pp(v[0]!, 2), seedRow);

  // The HTML card and the Markdown headline say the same.
  const html = readFileSync(join(dir, 'w', 'report.html'), 'utf8');
  assert.ok(html.includes(`<div class="v">${pp(mean)}</div>`), 'contamination card shows the mean');
  assert.ok(html.includes(`mean of 3 seeds ± ${(100 * sd).toFixed(2)} (std); 95% t-interval`));
  const md = readFileSync(join(dir, 'w', 'report.md'), 'utf8');
  assert.match(md, /Headline figures are means over seeds 0, 1, 2/);
});
