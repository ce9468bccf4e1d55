/**
 * Spreadsheet formula injection (OWASP "CSV Injection") at the command line: class folders, file names and run
 * names (compare --label) that start with = + - @ reach predictions/<set>.predictions.csv and compare.csv as text
 * prefixed with a single quote, so a spreadsheet shows them instead of running them; numbers (negative ones
 * included) stay plain numbers. The CSV is read back with an independent parser (RFC 4180 quoting).
 */
import { parseCsv } from '../../src/io/csv.js';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { serializeResults } from '../../src/experiment/results.js';
import { sampleResults } from '../report/fixtures.js';
import { gaussianClasses, writeFeatureDir } from '../helpers/featureDir.js';
import { CLI, tempDir } from '../helpers/fixtures.js';

/** What a spreadsheet would treat as a formula: text starting with = + - @ tab or CR. */
const FORMULA = /^[=+\-@\t\r]/;

it('probe --predictions: hostile class and file names are quoted text; confidences stay numbers', () => {
  const dir = tempDir('fcprobe-csv-');
  const classes = ['=1+1', '+SUM(A1)', '@cmd', '-2'];
  const g = gaussianClasses(
    [
      [3, 0],
      [0, 3],
      [-3, 0],
      [0, -3],
    ],
    8,
    7,
    0.3,
  );
  const files = Array.from(g.labels, (y, i) => `${classes[y]}/${i === 0 ? '=cmd|x.png' : `${i}.png`}`);
  const feats = writeFeatureDir(join(dir, 'set'), { x: g.x, d: 2, labels: g.labels, classes, files });
  const out = join(dir, 'probe');
  const r = spawnSync(
    process.execPath,
    [CLI, 'probe', '--train', feats, '--eval', feats, '--out', out, '--predictions', '--quiet'],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  const rows = parseCsv(readFileSync(join(out, 'predictions', 'set.predictions.csv'), 'utf8'));
  assert.deepEqual(rows[0], ['file', 'label', 'predicted', 'confidence']);
  const body = rows.slice(1);
  assert.equal(body.length, g.labels.length);
  body.forEach((cells, i) => {
    const y = g.labels[i]!;
    // The true label as the spreadsheet will show it: the name, with a quote where it would be a formula.
    const shown = (name: string): string => (name === '-2' ? '-2' : `'${name}`);
    assert.equal(cells[0], `'${files[i]}`);
    assert.equal(cells[1], shown(classes[y]!));
    assert.ok(classes.map(shown).includes(cells[2]!), cells[2]);
    for (const c of cells.slice(0, 3)) assert.ok(!FORMULA.test(c) || c === '-2', `formula cell ${c}`);
    const conf = Number(cells[3]);
    assert.ok(Number.isFinite(conf) && conf > 0 && conf <= 1, cells[3]);
  });
});

it('compare: a run named =HYPERLINK(...) is quoted text in compare.csv; negative numbers stay numbers', () => {
  const root = tempDir('fcprobe-csv-');
  const title = '=HYPERLINK("http://example.invalid","x")';
  const dirs = ['a', 'b'].map((name, i) => {
    const dir = join(root, name);
    mkdirSync(dir);
    const res = sampleResults();
    res.title = i === 0 ? title : 'plain';
    writeFileSync(join(dir, 'results.json'), serializeResults(res));
    return dir;
  });
  const out = join(root, 'cmp');
  // Runs are named by --label (or their folders) in compare.csv, so the hostile text comes as a label.
  const args = ['compare', ...dirs, '--out', out, '--label', `${dirs[0]}=${title}`];
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const rows = parseCsv(readFileSync(join(out, 'compare.csv'), 'utf8'));
  const header = rows[0]!;
  const hostile = rows.filter((row) => row[0]!.includes('HYPERLINK'));
  assert.ok(hostile.length > 0);
  for (const row of hostile) assert.ok(row[0]!.startsWith(`'${title}/`), row[0]);
  for (const row of rows.slice(1)) for (const c of row) assert.ok(!/^[=+@\t\r]/.test(c), `formula cell ${c}`);
  // Every number column holds plain numbers, negative ones among them, never quote-prefixed.
  const numeric = rows.slice(1).flatMap((row) => ['value', 'low', 'high', 'n'].map((h) => row[header.indexOf(h)]!));
  const filled = numeric.filter((c) => c !== '');
  assert.ok(
    filled.every((c) => Number.isFinite(Number(c))),
    'numbers parse',
  );
  assert.ok(
    filled.some((c) => Number(c) < 0),
    'a negative number is there (and unquoted)',
  );
});
