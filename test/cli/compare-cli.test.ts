/**
 * `fcprobe compare` on three real runs (`fcprobe run` on generated colour images), as a user meets it: the
 * teacher, the same file in all three runs, is one row naming its three runs; two different students both named
 * `s` are told apart by their work folders' names, or by `--label`; every terminal line fits 120 columns even
 * with long run titles; the HTML tables fit a 1400-pixel window without sideways scrolling.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { RunResults } from '../../src/experiment/types.js';
import {
  COLOUR_STUDENT,
  COLOUR_TEACHER,
  linearEncoder,
  makeColourSet,
  tempDir,
  writeModel,
  runCli as cli,
} from '../helpers/fixtures.js';

const FOLDERS = ['work-alpha', 'work-beta', 'work-gamma'];
/** Student file of each run: alpha and gamma share one file, beta has another; both are named `s`. */
const STUDENT_OF = ['sa/s.onnx', 'sb/s.onnx', 'sa/s.onnx'];
const titleOf = (i: number): string =>
  `Feature contamination of a distilled linear student of the colour teacher, linear probes on held-out ` +
  `colour images, run ${i + 1} of three`;

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');
const pct = (x: number): string => (x * 100).toFixed(2);

/** The body rows of the first table under `## title` in compare.md, as cells (Markdown escapes undone). */
function mdRows(md: string, title: string): string[][] {
  const table = md.split(`## ${title}\n`)[1]!.trim().split('\n\n')[0]!;
  return table
    .split('\n')
    .slice(2)
    .map((l) =>
      l
        .slice(2, -2)
        .split(' | ')
        .map((c) => c.replace(/\\(.)/g, '$1')),
    );
}

describe('compare three runs at the command line', () => {
  const dir = tempDir('fcprobe-compare-cli-');
  const works = FOLDERS.map((f) => join(dir, f));
  const results: RunResults[] = [];

  before(async () => {
    const look = { lean: 40, noise: 90, size: 12 };
    await makeColourSet(join(dir, 'train'), ['a', 'b', 'c'], 14, 1, 0.2, look);
    await makeColourSet(join(dir, 'shift'), ['a', 'b', 'c'], 12, 2, 1, look);
    mkdirSync(join(dir, 'sa'));
    mkdirSync(join(dir, 'sb'));
    writeModel(join(dir, 't.onnx'), linearEncoder(COLOUR_TEACHER, null));
    writeModel(join(dir, 'sa', 's.onnx'), linearEncoder(COLOUR_STUDENT, null));
    const other = [
      [1, 1, 0],
      [0, 1, 1],
      [1, 0, 0.3],
    ];
    writeModel(join(dir, 'sb', 's.onnx'), linearEncoder(other, null));
    for (let i = 0; i < 3; i++) {
      const config = {
        title: titleOf(i),
        workDir: FOLDERS[i],
        teacher: 't.onnx',
        student: STUDENT_OF[i],
        train: 'train',
        split: 0.4,
        ood: ['shift'],
        bootstrap: 200,
      };
      writeFileSync(join(dir, `run${i}.json`), JSON.stringify(config));
      const r = cli(['run', '--config', `run${i}.json`, '--preset', 'torchvision', '--format', 'md', '-q'], dir);
      assert.equal(r.status, 0, r.stderr);
      results.push(JSON.parse(readFileSync(join(works[i]!, 'results.json'), 'utf8')) as RunResults);
    }
  });

  it('lists the shared teacher once with its three runs and tells the two students named s apart', () => {
    const out = join(dir, 'cmp');
    const r = cli(['compare', ...works, '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    const md = readFileSync(join(out, 'compare.md'), 'utf8');

    // The premise: the teacher is one file, measured alike in every run; the students named s are two files.
    assert.deepEqual(
      results.map((x) => x.models.map((m) => m.name)),
      [
        ['teacher', 's'],
        ['teacher', 's'],
        ['teacher', 's'],
      ],
    );
    const teacherSha = sha256(join(dir, 't.onnx'));
    assert.ok(results.every((x) => x.models[0]!.sha256 === teacherSha));
    const top1 = (x: RunResults, model: string, role: string): number =>
      x.accuracy.find((a) => a.model === model && x.sets.some((s) => s.name === a.set && s.role === role))!.top1;
    assert.ok(results.every((x) => top1(x, 'teacher', 'ood') === top1(results[0]!, 'teacher', 'ood')));
    assert.notEqual(sha256(join(dir, 'sa', 's.onnx')), sha256(join(dir, 'sb', 's.onnx')));

    const models = mdRows(md, 'Models');
    assert.deepEqual(
      models.map((m) => m.slice(0, 4)),
      [
        ['teacher', 'teacher', 'work-alpha, work-beta, work-gamma', teacherSha.slice(0, 12)],
        ['s (work-alpha)', 'student', 'work-alpha, work-gamma', sha256(join(dir, 'sa', 's.onnx')).slice(0, 12)],
        ['s (work-beta)', 'student', 'work-beta', sha256(join(dir, 'sb', 's.onnx')).slice(0, 12)],
      ],
    );
    // The top-1 shown for each row is its runs' own number (OOD column: the last set before ID and OOD avg).
    const rows = mdRows(md, 'Top-1 per set and summary');
    const oodCell = (label: string): string => {
      const row = rows.find((x) => x[0] === label)!;
      return row[row.length - 3]!.split(' ')[0]!;
    };
    assert.equal(oodCell('teacher'), pct(top1(results[0]!, 'teacher', 'ood')));
    assert.equal(oodCell('s (work-alpha)'), pct(top1(results[0]!, 's', 'ood')));
    assert.equal(oodCell('s (work-beta)'), pct(top1(results[1]!, 's', 'ood')));
    assert.equal(top1(results[2]!, 's', 'ood'), top1(results[0]!, 's', 'ood'), "gamma measured alpha's student alike");

    // The terminal: no line over 120 columns although every title is over 120 characters; the teacher is one row.
    assert.ok(titleOf(0).length > 120);
    const long = r.stdout.split('\n').filter((l) => l.length > 120);
    assert.deepEqual(long, [], 'terminal lines over 120 columns');
    const section = r.stdout.split('\nModels\n')[1]!.split('\n\n')[0]!;
    assert.equal(section.split('\n').filter((l) => l.startsWith('teacher ')).length, 1, section);
    assert.match(section, /^s \(work-beta\) +student +work-beta /m);
    assert.match(r.stdout, /^Runs\nRun +Title/m);
    assert.match(r.stdout, /run 3 of three/, 'the titles are shown (wrapped) in the Runs table');
  });

  it('fits the HTML tables in a 1400-pixel window: few columns, no long unbreakable cell', () => {
    const out = join(dir, 'cmp-html');
    assert.equal(cli(['compare', ...works, '--out', out]).status, 0);
    const html = readFileSync(join(out, 'compare.html'), 'utf8');
    // The report CSS keeps cells on one line; compare's tables must override it for their cells to wrap.
    assert.match(html, /table\.cmp th,table\.cmp td\{white-space:normal\}/);
    assert.match(html, /table\.cmp td\.w\{overflow-wrap:anywhere\}/);
    const tables = [...html.matchAll(/<table class="cmp">([\s\S]*?)<\/table>/g)].map((m) => m[1]!);
    assert.ok(tables.length >= 5, `${tables.length} tables`);
    const text = (s: string): string =>
      s
        .replace(/<[^>]+>/g, '')
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&amp;/g, '&');
    for (const t of tables) {
      const rows = [...t.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) =>
        [...m[1]!.matchAll(/<(t[hd])([^>]*)>([\s\S]*?)<\/t[hd]>/g)].map((c) => ({
          wraps: /class="[^"]*\bw\b/.test(c[2]!),
          text: text(c[3]!),
        })),
      );
      const columns = rows[0]!.length;
      assert.ok(columns <= 8, `${columns} columns`);
      assert.ok(rows.every((r) => r.length === columns));
      // The narrowest a column can get is its longest unbreakable run of text (a cell that may break anywhere
      // has none); at a generous 8 px a character and 20 px padding, the table's narrowest fits 1400 px less the
      // page's padding.
      let narrowest = 0;
      for (let c = 0; c < columns; c++) {
        const runs = rows.map((r) => (r[c]!.wraps ? 1 : Math.max(...r[c]!.text.split(/\s+/).map((w) => w.length))));
        const longest = Math.max(...runs);
        assert.ok(longest <= 24, `an unbreakable cell of ${longest} characters: ${rows.map((r) => r[c]!.text)}`);
        narrowest += longest * 8 + 20;
      }
      assert.ok(narrowest <= 1400 - 64, `table at least ${narrowest} px wide`);
    }
  });

  it('--label names a run; a label that names no run is refused (exit 2); --help has an example', () => {
    const out = join(dir, 'cmp-label');
    const r = cli(['compare', ...works, '--out', out, '--label', `${works[1]}=beta`, '--label', 'work-gamma=g']);
    assert.equal(r.status, 0, r.stderr);
    const md = readFileSync(join(out, 'compare.md'), 'utf8');
    assert.deepEqual(
      mdRows(md, 'Models').map((m) => [m[0], m[2]]),
      [
        ['teacher', 'work-alpha, beta, g'],
        ['s (work-alpha)', 'work-alpha, g'],
        ['s (beta)', 'beta'],
      ],
    );
    assert.deepEqual(
      mdRows(md, 'Runs').map((x) => [x[0], x[2]]),
      [
        ['work-alpha', works[0]],
        ['beta', works[1]],
        ['g', works[2]],
      ],
    );
    const bad = cli(['compare', ...works, '--out', out, '--label', 'nowhere=x']);
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /--label nowhere=x: "nowhere" is none of the work directories to compare/);
    const twice = cli(['compare', ...works, '--out', out, '--label', 'work-beta=b', '--label', `${works[1]}=c`]);
    assert.equal(twice.status, 2);
    assert.match(twice.stderr, /already has a --label \(b\)/);
    const clash = cli(['compare', ...works, '--out', out, '--label', 'work-beta=work-alpha']);
    assert.equal(clash.status, 2);
    assert.match(clash.stderr, /would both be called "work-alpha"/);
    const shape = cli(['compare', ...works, '--out', out, '--label', 'beta']);
    assert.equal(shape.status, 2);
    assert.match(shape.stderr, /Expected --label to be RUN=NAME, got "beta"/);
    const help = cli(['compare', '--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /Examples:\n {2}fcprobe compare work\/\S+ work\/\S+/);
    assert.match(help.stdout, /--label <run=name>/);
  });
});
