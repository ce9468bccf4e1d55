/**
 * Where `fcprobe bench` / `npm run bench` write their JSON: where --out says, by default bench/results/ of the
 * checkout, never the current folder (three bench JSONs once sat at the repository root).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RESULTS_DIR, resultsPath } from '../../bench/run.js';
import { tempDir } from '../helpers/fixtures.js';

const started = new Date('2026-11-30T08:25:17Z');

test('the default folder is bench/results/ of the checkout, whatever the current folder', () => {
  // dist/test/bench/ -> the repository root is three levels up.
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  assert.equal(resolve(RESULTS_DIR), join(root, 'bench', 'results'));
  assert.notEqual(resolve(RESULTS_DIR), process.cwd());
});

test('no --out: a dated file in the results folder, -hhmmss appended when that name is taken', () => {
  const dir = tempDir('fcprobe-bench-out-');
  const first = resultsPath('', started, 'vm', dir);
  assert.equal(first, join(dir, 'fcprobe-bench-2026-11-30-vm.json'));
  writeFileSync(first, '{}');
  assert.equal(resultsPath('', started, 'vm', dir), join(dir, 'fcprobe-bench-2026-11-30-vm-082517.json'));
});

test('--out a file is that file; --out a folder (ending in / or existing) gets the dated name', () => {
  const dir = tempDir('fcprobe-bench-out-');
  assert.equal(resultsPath(join(dir, 'mine.json'), started, 'vm', '/unused'), join(dir, 'mine.json'));
  assert.equal(
    resultsPath(`${dir}/new/`, started, 'h', '/unused'),
    join(dir, 'new', 'fcprobe-bench-2026-11-30-h.json'),
  );
  mkdirSync(join(dir, 'there'));
  assert.equal(
    resultsPath(join(dir, 'there'), started, 'h', '/unused'),
    join(dir, 'there', 'fcprobe-bench-2026-11-30-h.json'),
  );
});
