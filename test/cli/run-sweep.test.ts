/**
 * `fcprobe run --C-sweep` sweeps (the switch used to be read under a name commander never sets, so a run
 * silently fitted C = 1), and `--C` beside it is refused before anything is extracted (issue 23).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RunResults } from '../../src/experiment/types.js';
import {
  CHANNELS,
  makeColourSet,
  tempDir,
  unextractedRunDir,
  writeLinearPair,
  runCli as cli,
} from '../helpers/fixtures.js';

test('run --C 1 --C-sweep: exit 2 naming both flags, nothing extracted', () => {
  const dir = unextractedRunDir();
  const base = ['run', '--teacher', 't.onnx', '--student', 's.onnx', '--train', 'photo', '--ood', 'sketch'];
  const r = cli([...base, '--split', '0.5', '--C', '1', '--C-sweep', '--work', 'w'], dir);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr.trim(), /^fcprobe: error: Give either a fixed C \(--C\) or a C sweep \(--C-sweep\), not both/);
  assert.equal(existsSync(join(dir, 'w')), false, 'nothing was extracted');
});

test('run --C-sweep chooses C on a held-out split and records the sweep, ties included', async () => {
  const dir = tempDir('fcprobe-run-sweep-');
  const classes = ['red', 'green', 'blue'];
  const opts = { lean: 40, noise: 110, size: 8 };
  await makeColourSet(join(dir, 'photo'), classes, 10, 5, 0.3, opts);
  await makeColourSet(join(dir, 'shifted'), classes, 6, 6, 1.0, opts);
  writeLinearPair(dir, CHANNELS, CHANNELS, null);
  const args = ['run', '--teacher', 't.onnx', '--student', 's.onnx', '--train', 'photo', '--ood', 'shifted'];
  const r = cli([...args, '--split', '0.3', '--C-sweep', '--bootstrap', '0', '--work', 'w', '-q'], dir);
  assert.equal(r.status, 0, r.stderr);
  const results = JSON.parse(readFileSync(join(dir, 'w', 'results.json'), 'utf8')) as RunResults;
  for (const p of results.probes) {
    const sw = p.sweep!;
    assert.ok(sw, `${p.model}: swept`);
    assert.equal(sw.grid.length, 13);
    // The probe's own record agrees: the tie count and the chosen C are the ones probe.json holds.
    const probe = JSON.parse(readFileSync(join(dir, 'w', 'probes', p.model, 'probe.json'), 'utf8'));
    assert.equal(sw.tied, probe.sweep.tied);
    assert.equal(p.C, probe.sweep.chosenC);
    const best = Math.max(...probe.sweep.points.map((q: { valTop1: number }) => q.valTop1));
    assert.equal(sw.valTop1, best);
  }
});
