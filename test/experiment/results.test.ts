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
  // Infinity where a number may be anything (a probe's free-form details); a measure is range-checked on reading.
  input.probes[1]!.details = { ...input.probes[1]!.details, lossAtStart: -Infinity };
  input.sets[2]!.name = 'NaN';
  input.accuracy.forEach((a) => {
    if (a.set === 'ImageNet-V2') a.set = 'NaN';
  });
  input.representationFit[2]!.set = 'NaN';
  writeResults(dir, input);
  const back = readResults(dir);
  assert.ok(Number.isNaN(back.representationFit[0]!.fit.cka));
  assert.equal(back.probes[1]!.details!.lossAtStart, -Infinity);
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

test('results.json sets[]: entries without found are found; an older suite.sets missing set becomes an entry', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fcprobe-results-'));
  const r = sampleResults();
  const drop = (set: string) => set !== 'ObjectNet';
  // As written before sets could be missing: no `found`, the missing set only in suite.sets.
  const legacy = {
    ...r,
    sets: r.sets.filter((s) => drop(s.name)).map(({ found: _found, ...s }) => s),
    accuracy: r.accuracy.filter((a) => drop(a.set)),
    gaps: r.gaps.filter((g) => drop(g.set)),
    representationFit: r.representationFit.filter((f) => drop(f.set)),
    suite: {
      name: 'imagenet-ood',
      dataRoot: '/data',
      presentClassesOnly: false,
      sets: [
        { id: 'imagenet-v2', title: 'ImageNet-V2', role: 'ood', found: true, foldersTried: ['imagenet-v2'] },
        {
          id: 'objectnet',
          title: 'ObjectNet',
          role: 'ood',
          found: false,
          set: null,
          path: null,
          foldersTried: ['objectnet-1.0', 'objectnet'],
          scoring: 'mapped',
          classes: null,
          notes: ['not found'],
        },
      ],
    },
  };
  writeFileSync(join(dir, 'results.json'), JSON.stringify(legacy));
  const back = readResults(dir);
  assert.deepEqual(
    back.sets.map((s) => [s.name, s.found]),
    [...r.sets.filter((s) => drop(s.name)).map((s) => [s.name, true]), ['ObjectNet', false]],
  );
  assert.deepEqual(back.sets.at(-1), {
    found: false,
    name: 'ObjectNet',
    role: 'ood',
    suiteId: 'objectnet',
    foldersTried: ['objectnet-1.0', 'objectnet'],
    scoring: 'mapped',
    notes: ['not found'],
  });
  assert.deepEqual(back.suite, { name: 'imagenet-ood', dataRoot: '/data', presentClassesOnly: false });

  // Damaged entries are refused, naming the entry.
  const bad = (sets: unknown[], re: RegExp) => {
    writeFileSync(join(dir, 'results.json'), JSON.stringify({ ...r, sets }));
    assert.throws(
      () => readResults(dir),
      (e: unknown) => e instanceof FcprobeError && e.code === 'BAD_DATA' && re.test(e.message),
    );
  };
  bad([...r.sets, { found: false, name: 'X', role: 'ood' }], /sets\[7\] \("X"\) is missing but has no list/);
  bad([{ ...r.sets[0]!, found: 'yes' }], /sets\[0\] .* has found "yes"/);
  bad([{ name: 'Y', role: 'ood', found: true, path: 'p' }], /sets\[0\] \("Y"\) is found but has no image count/);
  bad([{ name: 'Z', role: 'test' }], /sets\[0\] is not a set/);
});
