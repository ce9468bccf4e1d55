import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { writeResults } from '../../src/experiment/results.js';
import { registerReportCommand } from '../../src/cli/commands/report.js';
import { sampleResults } from '../report/fixtures.js';
import { captureWrites } from '../helpers/fixtures.js';

test('fcprobe report <work-dir> --format json --out <dir> writes report.json there', async () => {
  const work = mkdtempSync(join(tmpdir(), 'fcprobe-cli-report-'));
  writeResults(work, sampleResults());
  const program = new Command().exitOverride();
  registerReportCommand(program);
  const out = join(work, 'elsewhere');
  const lines = await captureWrites(process.stdout, () =>
    program.parseAsync(['node', 'fcprobe', 'report', work, '--format', 'json', '--out', out]),
  );
  assert.ok(existsSync(join(out, 'report.json')));
  assert.ok(!existsSync(join(work, 'report.json')));
  assert.deepEqual(lines, [`wrote ${join(out, 'report.json')}\n`]);
});

test('fcprobe report on a folder without results.json: clean error, exit code 3, no stack', async () => {
  const work = mkdtempSync(join(tmpdir(), 'fcprobe-cli-report-'));
  const program = new Command().exitOverride();
  registerReportCommand(program);
  const err = await captureWrites(process.stderr, () => program.parseAsync(['node', 'fcprobe', 'report', work]));
  const code = process.exitCode;
  process.exitCode = 0;
  assert.equal(code, 3);
  assert.match(err.join(''), /fcprobe: error: .* holds no results\.json\.\n {2}hint: Create it with `fcprobe run/);
  assert.ok(!err.join('').includes('    at '));
});
