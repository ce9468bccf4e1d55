import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseReportFormats, renderReportFromWorkDir } from '../../src/report/write.js';
import { readResults, writeResults } from '../../src/experiment/results.js';
import { FcprobeError } from '../../src/errors.js';
import { sampleResults } from '../report/fixtures.js';

test('results.json round-trips, NaN and Infinity included, names left alone', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fcprobe-results-'));
  const input = sampleResults();
  input.representationFit[0]!.fit.cka = NaN;
  input.representationFit[1]!.fit.cosine!.min = -Infinity;
  input.sets[2]!.name = 'NaN';
  input.accuracy.forEach((a) => {
    if (a.set === 'ImageNet-V2') a.set = 'NaN';
  });
  input.representationFit[2]!.set = 'NaN';
  writeResults(dir, input);
  const back = readResults(dir);
  assert.ok(Number.isNaN(back.representationFit[0]!.fit.cka));
  assert.equal(back.representationFit[1]!.fit.cosine!.min, -Infinity);
  assert.equal(back.sets[2]!.name, 'NaN');
  assert.equal(back.representationFit[2]!.set, 'NaN');
  back.representationFit[0]!.fit.cka = 0;
  input.representationFit[0]!.fit.cka = 0;
  assert.deepEqual(back, input);
});

test('missing or foreign results.json: clear errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fcprobe-results-'));
  assert.throws(
    () => readResults(dir),
    (e: unknown) => e instanceof FcprobeError && e.code === 'NOT_FOUND' && /fcprobe run/.test(e.hint ?? ''),
  );
  writeFileSync(join(dir, 'results.json'), '{"format": "something-else"}');
  assert.throws(() => readResults(dir), /not an fcprobe results file/);
  writeFileSync(join(dir, 'results.json'), '{"format": "fcprobe-results", "formatVersion": 2, "models": []}');
  assert.throws(() => readResults(dir), /expected "sets" to be an array/);
});

test('renderReportFromWorkDir writes the asked formats only', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fcprobe-results-'));
  writeResults(dir, sampleResults());
  const r = renderReportFromWorkDir(dir, parseReportFormats('md,html'));
  assert.equal(r.terminal, null);
  assert.deepEqual(r.written, [join(dir, 'report.md'), join(dir, 'report.html')]);
  assert.ok(readFileSync(join(dir, 'report.md'), 'utf8').includes('44.28'));
  assert.ok(!existsSync(join(dir, 'report.json')));
  assert.deepEqual(parseReportFormats('all'), ['terminal', 'md', 'json', 'html', 'csv']);
  assert.throws(() => parseReportFormats('pdf'), /Expected --format to be "all" or a comma-separated list/);
});
