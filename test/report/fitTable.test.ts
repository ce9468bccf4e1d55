/**
 * Tables fitted to a width (src/report/fitTable.ts): every line within the width, no cell text lost or changed
 * (the wrapped pieces of a cell join back to it), the key column repeated in every part, and a table that fits
 * left as it is.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type FitTable, fittedTextTable, splitColumns, wrapText } from '../../src/report/fitTable.js';

test('wrapText: words on lines of at most the width; a path breaks after its slashes; a long word is cut', () => {
  assert.deepEqual(wrapText('short', 10), ['short']);
  assert.deepEqual(wrapText('the quick brown fox', 10), ['the quick', 'brown fox']);
  assert.deepEqual(wrapText('/tmp/some/work-dir', 10), ['/tmp/some/', 'work-dir']);
  assert.deepEqual(wrapText('abcdefghijklmnop', 6), ['abcdef', 'ghijkl', 'mnop']);
  assert.deepEqual(wrapText('a, b, c', 4), ['a,', 'b, c']);
});

/**
 * Each column's text in a rendered part, read top to bottom with all white space removed (the row a wrapped
 * line belongs to is not marked, so a column is compared whole).
 */
function columnsOf(text: string): string[] {
  const lines = text.split('\n');
  const rule = lines.findIndex((l) => /^-+( {2}-+)*$/.test(l));
  const widths = lines[rule]!.split('  ').map((d) => d.length);
  const starts = widths.map((_, i) => widths.slice(0, i).reduce((s, w) => s + w + 2, 0));
  return widths.map((w, i) =>
    lines
      .slice(rule + 1)
      .map((l) => l.slice(starts[i]!, starts[i]! + w))
      .join('')
      .replace(/\s/g, ''),
  );
}

test('a wide table: split by columns with the key repeated, every line within 60, every cell kept', () => {
  const names = ['teacher', 'student-with-a-rather-long-name (work-folder)', 's'];
  const t: FitTable = {
    headers: ['Model', 'Set A (ID test)', 'Set B (OOD)', 'Set C (OOD)', 'Runs'],
    rows: names.map((n, i) => [
      n,
      `${70 + i}.00 [69.1, 71.9]`,
      `${50 + i}.25 [48.0, 52.5]`,
      `${30 + i}.50 [28.2, 32.8]`,
      'work-alpha, work-beta, work-gamma',
    ]),
    align: ['l', 'r', 'r', 'r', 'l'],
    keys: 1,
    wrap: [0, 4],
  };
  const parts = splitColumns(t, 60);
  assert.ok(parts.length >= 2, `${parts.length} parts`);
  const seen = new Map<string, string>();
  for (const p of parts) {
    assert.equal(p.headers[0], 'Model', 'the key column leads every part');
    const text = fittedTextTable(p, 60);
    for (const l of text.split('\n')) assert.ok(l.length <= 60, `${l.length}: ${l}`);
    for (const [i, c] of columnsOf(text).entries()) seen.set(p.headers[i]!, c);
  }
  // Every column of the input appears, its cells intact and in order, in some part.
  for (const [i, h] of t.headers.entries())
    assert.equal(seen.get(h), t.rows.map((r) => r[i]!.replace(/\s/g, '')).join(''), h);
  // The long name wrapped: the first part has more lines than header, rule and one line a row.
  assert.ok(fittedTextTable(parts[0]!, 60).split('\n').length > 2 + t.rows.length);
});

test('a table that fits is one part, rendered as plain padded columns', () => {
  const t: FitTable = {
    headers: ['Run', 'n'],
    rows: [
      ['a', '12'],
      ['bb', '3'],
    ],
    align: ['l', 'r'],
    keys: 1,
    wrap: [0],
  };
  const parts = splitColumns(t, 120);
  assert.equal(parts.length, 1);
  assert.equal(fittedTextTable(parts[0]!, 120), ['Run   n', '---  --', 'a    12', 'bb    3'].join('\n'));
});
