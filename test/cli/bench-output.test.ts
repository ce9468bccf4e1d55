/**
 * `fcprobe bench` writes its JSON where --json says, making the folder it names, and nothing into the current
 * folder (three bench JSONs once sat at the repository root; a --json folder that did not exist failed only after
 * the whole measurement).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { COLOUR_TEACHER, linearEncoder, makeColourSet, runCli, tempDir, writeModel } from '../helpers/fixtures.js';

test('bench --json results/b.json: the file is there, the current folder holds nothing else new', async () => {
  const dir = tempDir('fcprobe-bench-cli-');
  writeModel(join(dir, 'm.onnx'), linearEncoder(COLOUR_TEACHER, null));
  await makeColourSet(join(dir, 'photos'), ['a', 'b'], 3, 1, 0.2, { lean: 40, noise: 90, size: 8 });
  const args = ['--model', 'm.onnx', '--data', 'photos', '--quick', '--images', '6', '--batch', '1'];
  const r = runCli(['bench', ...args, '--json', 'results/b.json'], dir);
  assert.equal(r.status, 0, r.stderr);
  const json = JSON.parse(readFileSync(join(dir, 'results', 'b.json'), 'utf8')) as { model: string; data: string };
  assert.deepEqual([json.model, json.data], ['m.onnx', 'photos']);
  assert.deepEqual(readdirSync(dir).sort(), ['m.onnx', 'photos', 'results']);
  assert.deepEqual(readdirSync(join(dir, 'results')), ['b.json']);
});
