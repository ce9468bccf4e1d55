/**
 * A run title with line breaks (it is the user's text) stays on one line in report.md's heading and in
 * compare.md's table rows, at the command line: before, "A\n# B" gave a second heading and split a row.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { serializeResults } from '../../src/experiment/results.js';
import { sampleResults } from './fixtures.js';
import { CLI, tempDir } from '../helpers/fixtures.js';

const TITLE = 'Line one\n# not a heading\r\n| x | y |\nend';

function run(args: string[]): ReturnType<typeof spawnSync> {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
}

it('report.md and compare.md keep a multi-line run title on one line', () => {
  const root = tempDir('fcprobe-title-');
  const dirs = ['a', 'b'].map((name, i) => {
    const dir = join(root, name);
    mkdirSync(dir);
    const r = sampleResults();
    r.title = i === 0 ? TITLE : 'second';
    writeFileSync(join(dir, 'results.json'), serializeResults(r));
    return dir;
  });
  const rep = run(['report', dirs[0]!, '--format', 'md']);
  assert.equal(rep.status, 0, String(rep.stderr));
  const md = readFileSync(join(dirs[0]!, 'report.md'), 'utf8').split('\n');
  // The heading is the title's words on one line, its Markdown characters escaped.
  assert.equal(md[0], '# Line one # not a heading \\| x \\| y \\| end');
  assert.ok(!md.includes('# not a heading') && !md.some((l) => l.startsWith('end')));

  const out = join(root, 'cmp');
  const cmp = run(['compare', ...dirs, '--out', out]);
  assert.equal(cmp.status, 0, String(cmp.stderr));
  const lines = readFileSync(join(out, 'compare.md'), 'utf8').split('\n');
  const rows = lines.filter((l) => l.includes('Line one'));
  assert.ok(rows.length > 0);
  // Every line mentioning the title is a whole table row: it starts and ends with a pipe.
  for (const l of rows) assert.match(l, /^\| .* \|$/, l);
  assert.ok(!lines.some((l) => l.startsWith('# not a heading') || l.startsWith('end')));
});
