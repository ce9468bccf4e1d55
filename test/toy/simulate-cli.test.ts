/**
 * `fcprobe simulate` names the quantity it plots by what it is (issue 23): the mean norm of the neurons'
 * weights along the core / background directions, which the paper calls "feature correlation" and which
 * exceeds 1. No output calls it a correlation except where quoting the paper's term.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLI, tempDir } from '../helpers/fixtures.js';

test('simulate (command line): terminal, CSV, JSON keys and SVG axis say weight norm', () => {
  const out = join(tempDir('fcprobe-simulate-cli-'), 'toy');
  const args = ['simulate', '--n', '60', '--core-dim', '4', '--bg-dim', '4', '--input-dim', '12', '--hidden', '8'];
  const r = spawnSync(
    process.execPath,
    [CLI, ...args, '--iterations', '40', '--every', '20', '--lr', '0.01', '--compare-linear', '--out', out],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /relu network, 40 iterations: background weight norm [\d.]+ -> [\d.]+/);
  assert.match(r.stdout, /core weight norm [\d.]+ -> [\d.]+/);
  assert.doesNotMatch(r.stdout, /correlation/i);

  const csv = readFileSync(join(out, 'curves.csv'), 'utf8').split('\n');
  assert.match(csv[0]!, /,core_weight_norm,background_weight_norm,/);
  assert.doesNotMatch(csv[0]!, /correlation/);

  type Rec = Record<string, number>;
  const json = JSON.parse(readFileSync(join(out, 'curves.json'), 'utf8')) as { runs: { records: Rec[] }[] };
  const rec = json.runs[0]!.records[2]!;
  assert.ok(Number.isFinite(rec.coreWeightNorm) && Number.isFinite(rec.backgroundWeightNorm));
  assert.equal(JSON.stringify(json).match(/correlation/gi), null, 'no key or text says correlation');
  // The JSON and CSV carry the same figure (row 3: relu at iteration 40).
  const row = csv[3]!.split(',');
  assert.equal(Number(row[6]), rec.coreWeightNorm);
  assert.equal(Number(row[7]), rec.backgroundWeightNorm);

  const svg = readFileSync(join(out, 'curves.svg'), 'utf8');
  assert.match(svg, />mean neuron weight norm</);
  // The paper's term appears only as the paper's, quoted, beside the name of what is plotted.
  const mentions = svg.match(/[^>]*correlation[^<]*/g) ?? [];
  assert.ok(mentions.length > 0);
  for (const m of mentions) assert.match(m, /weight norm \(paper: &quot;feature correlation&quot;\)/);
});
