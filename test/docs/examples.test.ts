/**
 * The worked examples' scripts (docs/examples/<name>/run.sh) leave tracked files alone unless --update says
 * otherwise, and what they print reproduces the committed output: docs/examples/pacs/run.sh in a copy of the
 * example's folder, on ../shared/realdata (skipped where it is absent). A report format changed without
 * `run.sh --update` fails here. Only the lines that name the moment and the machine are left out of the
 * comparison: `fcprobe <version>, <date>` and the CPU/memory/Node line.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers/fixtures.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const PACS = join(ROOT, 'docs', 'examples', 'pacs');
/** ../shared/realdata beside the checkout: real encoders and PACS-mini (absent on most machines). */
const REALDATA = join(ROOT, '..', 'shared', 'realdata');

/** Every file of a folder with its bytes. */
function snapshot(dir: string): Map<string, string> {
  return new Map(
    readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .sort()
      .map((f) => [f, readFileSync(join(dir, f)).toString('base64')]),
  );
}

/** The terminal report without the two lines that name the moment and the machine. */
const comparable = (text: string): string[] =>
  text.split('\n').filter((l) => !/^fcprobe \d+\.\d+\.\d+, \d{4}-/.test(l) && !/ CPUs?, [\d.]+ GiB\), /.test(l));

describe('docs/examples/pacs/run.sh', { skip: !existsSync(REALDATA) && `${REALDATA} is absent` }, () => {
  it('writes under tmp/ only, and prints the committed terminal.txt', () => {
    const dir = tempDir('fcprobe-example-pacs-');
    const repo = join(dir, 'repo');
    const example = join(repo, 'docs', 'examples', 'pacs');
    mkdirSync(join(repo, 'docs', 'examples'), { recursive: true });
    cpSync(PACS, example, { recursive: true });
    symlinkSync(join(ROOT, 'dist'), join(repo, 'dist'));
    symlinkSync(join(ROOT, 'node_modules'), join(repo, 'node_modules'));
    mkdirSync(join(dir, 'shared'));
    symlinkSync(REALDATA, join(dir, 'shared', 'realdata'));
    const before = snapshot(example);

    const r = spawnSync('bash', ['docs/examples/pacs/run.sh'], { cwd: repo, encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(snapshot(example), before, 'run.sh without --update changed the committed files');
    const out = join(repo, 'tmp', 'examples', 'pacs');
    assert.deepEqual(readdirSync(out).sort(), [
      'report.html',
      'report.json',
      'report.md',
      'results.csv',
      'terminal.txt',
    ]);
    assert.deepEqual(
      comparable(readFileSync(join(out, 'terminal.txt'), 'utf8')),
      comparable(readFileSync(join(PACS, 'terminal.txt'), 'utf8')),
      'terminal.txt differs from the committed one: bash docs/examples/pacs/run.sh --update',
    );
  });
});
