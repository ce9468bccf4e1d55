import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers/fixtures.js';

const CHECKER = new URL('../../../scripts/check-lines.mjs', import.meta.url).pathname;

/** A git repository holding `tracked` (added to the index) and `untracked` files. */
function repo(tracked: Record<string, string>, untracked: Record<string, string> = {}): string {
  const dir = tempDir();
  const git = (...args: string[]): void => {
    const r = spawnSync('git', args, { cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  };
  git('init', '-q');
  for (const [path, text] of Object.entries({ ...tracked, ...untracked })) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  if (Object.keys(tracked).length) git('add', '--', ...Object.keys(tracked));
  return dir;
}

function check(dir: string): { status: number | null; problems: string[] } {
  const r = spawnSync(process.execPath, [CHECKER, dir], { encoding: 'utf8' });
  const problems = r.stderr.split('\n').filter((l) => /^\S+:\d+: /.test(l));
  return { status: r.status, problems };
}

const line = (n: number, ch = 'x'): string => `// ${ch.repeat(n - 3)}`;
// Built here so that this file holds no marker line itself.
const MARK = {
  ours: `${'<'.repeat(7)} HEAD`,
  mid: '='.repeat(7),
  base: `${'|'.repeat(7)} base`,
  theirs: `${'>'.repeat(7)} b`,
};

describe('scripts/check-lines.mjs', () => {
  it('flags a 121-character line and not a 120-character one, in tracked source files only', () => {
    const dir = repo(
      {
        'src/a.ts': `${line(120)}\n${line(121)}\n${line(120)}\r\n`,
        // Characters, not bytes: 120 two-byte characters fit.
        'test/b.mjs': `${line(120, 'é')}\n`,
        'bench/c.json': `"${'y'.repeat(119)}"\n`,
        // Excluded or out of scope: generated benchmark output, Markdown, a folder outside the checked ones.
        'bench/results/run.json': `${line(200)}\n`,
        'docs/page.md': `${line(200)}\n`,
        'tools/x.ts': `${line(200)}\n`,
      },
      { 'src/untracked.ts': `${line(200)}\n` },
    );
    const r = check(dir);
    assert.deepEqual(r.problems, [
      // In git's (sorted) file order.
      'bench/c.json:1: 121 characters (at most 120)',
      'src/a.ts:2: 121 characters (at most 120)',
    ]);
    assert.equal(r.status, 1);
  });

  it('passes a tree with no long line and no marker', () => {
    const dir = repo({ 'src/a.ts': `${line(120)}\n`, 'docs/a.md': `Title\n${'='.repeat(8)}\n\n${'='.repeat(7)} x\n` });
    const r = check(dir);
    assert.deepEqual(r.problems, []);
    assert.equal(r.status, 0);
  });

  it('refuses leftover merge-conflict markers in any tracked text file', () => {
    const text = ['a', MARK.ours, 'b', MARK.base, 'c', MARK.mid, 'd', MARK.theirs, `  ${MARK.ours}`, ''].join('\n');
    const dir = repo({ 'docs/page.md': text, 'src/a.ts': `// ok\n${MARK.mid}\n`, 'img.bin': `\0${MARK.mid}\n` });
    const r = check(dir);
    assert.deepEqual(r.problems, [
      'docs/page.md:2: merge-conflict marker',
      'docs/page.md:4: merge-conflict marker',
      'docs/page.md:6: merge-conflict marker',
      'docs/page.md:8: merge-conflict marker',
      'src/a.ts:2: merge-conflict marker',
    ]);
    assert.equal(r.status, 1);
  });
});
