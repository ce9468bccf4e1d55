/**
 * A damaged or hand-edited results.json (and a pathological config) at the command line: `report` and
 * `compare` refuse any number they would compute with that is of the wrong type, not finite or out of range,
 * naming the file and the value's JSON path (exit 3), instead of printing a mean of 0.00 or -500 %; JSON nested
 * 100,000 deep is a clear error (results: 3, config: 2), not "internal error"; a key given twice in a config is
 * a warning naming it.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { serializeResults } from '../../src/experiment/results.js';
import { sampleResults } from '../report/fixtures.js';
import { tempDir, runCli as cli } from '../helpers/fixtures.js';

type Json = Record<string, unknown>;

/** A work dir whose results.json is the sample results after `edit` on its JSON form. */
function workDir(root: string, name: string, edit: (r: Json) => void = () => {}): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const r = JSON.parse(serializeResults(sampleResults())) as Json;
  edit(r);
  writeFileSync(join(dir, 'results.json'), JSON.stringify(r));
  return dir;
}

/** Sets the value at `path` (keys and indices) inside `r`. */
function setAt(r: Json, path: (string | number)[], value: unknown): void {
  let o = r as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  o[path.at(-1)!] = value;
}

describe("a damaged results.json is refused with the value's JSON path, exit 3", () => {
  it('the intact file renders (so the refusals below are about the damage)', () => {
    const root = tempDir('fcprobe-damaged-');
    const r = cli(['report', workDir(root, 'ok'), '--format', 'md']);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(existsSync(join(root, 'ok', 'report.md')));
  });

  it('a probe without C (run stores NaN) is not damage', () => {
    const root = tempDir('fcprobe-damaged-');
    const dir = workDir(root, 'none', (r) => {
      setAt(r, ['probes', 0, 'C'], 'NaN');
    });
    const r = cli(['report', dir, '--format', 'md']);
    assert.equal(r.status, 0, r.stderr);
  });

  // [what, JSON path of the value replaced, the value, the message expected]
  const cases: [string, (string | number)[], unknown, RegExp][] = [
    ['top1 null', ['accuracy', 1, 'top1'], null, /accuracy\[1\]\.top1 to be a finite number in \[0, 1\], got null/],
    ['top1 a string', ['accuracy', 0, 'top1'], '0.99', /accuracy\[0\]\.top1 .* got "0\.99"/],
    ['top1 -5', ['accuracy', 2, 'top1'], -5, /accuracy\[2\]\.top1 .* got -5\./],
    ['top1 1.5', ['accuracy', 2, 'top1'], 1.5, /accuracy\[2\]\.top1 .* got 1\.5\./],
    ['n 2.5', ['accuracy', 3, 'n'], 2.5, /accuracy\[3\]\.n to be a positive integer, got 2\.5\./],
    ['n 0', ['accuracy', 3, 'n'], 0, /accuracy\[3\]\.n to be a positive integer, got 0\./],
    ['top5 "NaN"', ['accuracy', 0, 'top5'], 'NaN', /accuracy\[0\]\.top5 .* got NaN\./],
    [
      'an interval upside down',
      ['accuracy', 0, 'top1Interval'],
      { low: 0.9, high: 0.1 },
      /accuracy\[0\]\.top1Interval\.low to be at most/,
    ],
    [
      'left-out images without entries',
      ['sets', 1, 'leftOut'],
      { images: 5 },
      /sets\[1\]\.leftOut\.entries to be an array, got null\./,
    ],
    ['probe details holding a list', ['probes', 0, 'details'], { iterations: [1] }, /probes\[0\]\.details\.iterations/],
    [
      'memory as text',
      ['machine', 'memoryGiB'],
      '16',
      /machine\.memoryGiB to be a finite number of at least 0, got "16"\./,
    ],
    ['a version number', ['fcprobeVersion'], 2, /expected fcprobeVersion to be a string, got 2\./],
    ['a gap of 2', ['gaps', 0, 'top1Gap'], 2, /gaps\[0\]\.top1Gap .* in \[-1, 1\], got 2\./],
    ['a set count of -1', ['sets', 1, 'n'], -1, /sets\[1\]\.n to be a non-negative integer/],
    [
      'contamination Infinity',
      ['contamination', 0, 'estimate'],
      'Infinity',
      /contamination\[0\]\.estimate .* got Infinity\./,
    ],
  ];
  for (const [what, path, value, message] of cases)
    it(`report: ${what}`, () => {
      const root = tempDir('fcprobe-damaged-');
      const dir = workDir(root, 'run', (r) => setAt(r, path, value));
      const r = cli(['report', dir, '--format', 'md']);
      assert.equal(r.status, 3, r.stderr);
      assert.match(r.stderr, new RegExp(`${join(dir, 'results.json').replace(/[.]/g, '\\.')} is damaged: expected `));
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
      assert.equal(existsSync(join(dir, 'report.md')), false, 'nothing rendered');
    });

  it('compare: gaps [{"foo": 1}] names the file and gaps[0], exit 3; nothing written', () => {
    const root = tempDir('fcprobe-damaged-');
    const a = workDir(root, 'a', (r) => setAt(r, ['title'], 'A'));
    const b = workDir(root, 'b', (r) => {
      r.title = 'B';
      r.gaps = [{ foo: 1 }];
    });
    const out = join(root, 'cmp');
    const r = cli(['compare', a, b, '--out', out]);
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, /b\/results\.json is damaged: expected gaps\[0\]\.teacher to be a string, got null\./);
    assert.equal(existsSync(out), false);
    // The same two runs, intact, compare (exit 0).
    writeFileSync(
      join(b, 'results.json'),
      readFileSync(join(a, 'results.json'), 'utf8').replace('"title":"A"', '"title":"B"'),
    );
    assert.equal(cli(['compare', a, b, '--out', out]).status, 0);
  });
});

describe('JSON nested 100,000 deep', () => {
  const deep = (n: number): string => `${'['.repeat(n)}${']'.repeat(n)}`;

  it('as a results.json: exit 3 naming the file, not an internal error', () => {
    const root = tempDir('fcprobe-deep-');
    const dir = workDir(root, 'run');
    const text = readFileSync(join(dir, 'results.json'), 'utf8');
    writeFileSync(join(dir, 'results.json'), text.replace('"format":', `"deep":${deep(100_000)},"format":`));
    const r = cli(['report', dir]);
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, /results\.json is not valid JSON: nested deeper than 100 levels \(at deep\[0\]/);
    assert.doesNotMatch(r.stderr, /internal error/);
  });

  it('as a config: exit 2 naming the file', () => {
    const dir = tempDir('fcprobe-deep-');
    const config = join(dir, 'c.json');
    writeFileSync(config, `{"teacher": ${deep(100_000)}}`);
    const r = cli(['run', '--config', config]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /Config file .*c\.json is not valid JSON: nested deeper than 100 levels \(at teacher/);
    assert.doesNotMatch(r.stderr, /internal error/);
  });
});

it('a config giving a key twice: a warning naming the key and the file', () => {
  const dir = tempDir('fcprobe-dupkey-');
  const config = join(dir, 'c.json');
  // The run then stops at the missing model, after reading the config (exit 4); the warning comes first.
  writeFileSync(config, '{"teacher": {"path": "t.onnx", "crop": 16, "crop": 32}, "student": "s.onnx", "work": "w"}');
  const r = cli(['run', '--config', config, '--plan']);
  assert.match(r.stderr, /warning: config file .*c\.json gives the key "teacher\.crop" more than once; the last/);
  const once = join(dir, 'once.json');
  writeFileSync(once, '{"teacher": {"path": "t.onnx", "crop": 32}, "student": "s.onnx", "work": "w"}');
  assert.doesNotMatch(cli(['run', '--config', once, '--plan']).stderr, /more than once/);
});
