/**
 * Documentation examples that run: every fenced shell block (```sh, bash, shell, console) of README.md and
 * docs/**\/*.md either runs here, as written, and exits 0, or is marked not runnable with its reason on the line
 * before it (`<!-- not run: needs ImageNet -->`). A new example is run unless someone says why it cannot be.
 *
 * A block runs in a fresh temporary folder, with bash -e -o pipefail, `fcprobe` on the PATH as this checkout's
 * built CLI and `npx fcprobe` read as `fcprobe` (what it is in a checkout); nothing else is rewritten.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { CLI, tempDir } from '../helpers/fixtures.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const SHELL = new Set(['sh', 'bash', 'shell', 'console']);

interface Block {
  file: string;
  line: number;
  code: string;
  /** The reason it is not run, or null when it runs. */
  notRun: string | null;
}

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? markdownFiles(join(dir, e.name)) : e.name.endsWith('.md') ? [join(dir, e.name)] : [],
  );
}

/** The shell blocks of one page, with the marker before each; a marker with no shell block after it fails. */
export function shellBlocks(file: string, text: string): Block[] {
  const lines = text.split('\n');
  const out: Block[] = [];
  let pending: { reason: string; line: number } | null = null;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const marker = /^<!-- not run:(.*)-->\s*$/.exec(l);
    if (marker) {
      pending = { reason: marker[1]!.trim(), line: i + 1 };
      continue;
    }
    const fence = /^(`{3,})\s*([\w-]*)/.exec(l);
    if (!fence) {
      if (pending && l.trim() !== '')
        assert.fail(`${file}:${pending.line}: a not-run marker with no shell block after it`);
      continue;
    }
    const end = lines.findIndex((x, j) => j > i && x.startsWith(fence[1]!));
    assert.ok(end > i, `${file}:${i + 1}: unclosed code block`);
    if (SHELL.has(fence[2]!))
      out.push({ file, line: i + 1, code: lines.slice(i + 1, end).join('\n'), notRun: pending?.reason ?? null });
    else if (pending) assert.fail(`${file}:${pending.line}: a not-run marker before a ${fence[2] || 'plain'} block`);
    pending = null;
    i = end;
  }
  return out;
}

const pages = ['README.md', ...markdownFiles(join(ROOT, 'docs')).map((f) => relative(ROOT, f))];
const blocks = pages.flatMap((p) => shellBlocks(p, readFileSync(join(ROOT, p), 'utf8')));

/** A folder with `fcprobe` (this checkout's CLI) in it, for the PATH. */
function binDir(): string {
  const bin = join(tempDir('fcprobe-docs-bin-'), 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'fcprobe'), `#!/bin/sh\nexec '${process.execPath}' '${CLI}' "$@"\n`);
  chmodSync(join(bin, 'fcprobe'), 0o755);
  return bin;
}

describe('shell examples of the documentation', () => {
  it('finds the examples (the parser works on this very repository)', () => {
    assert.ok(blocks.length >= 20, `${blocks.length} shell blocks`);
    assert.ok(
      blocks.some((b) => b.notRun === null),
      'at least one example runs',
    );
  });

  it('marks every example that is not run with a reason', () => {
    const bare = blocks.filter((b) => b.notRun === '');
    assert.deepEqual(
      bare.map((b) => `${b.file}:${b.line}`),
      [],
      'write why: <!-- not run: needs ImageNet -->',
    );
  });

  it('the parser: markers bind to the next shell block, and stray markers fail', () => {
    const page = ['<!-- not run: needs a GPU -->', '```sh', 'a', '```', '', '```bash', 'b', '```'].join('\n');
    assert.deepEqual(
      shellBlocks('x.md', page).map((b) => [b.code, b.notRun]),
      [
        ['a', 'needs a GPU'],
        ['b', null],
      ],
    );
    assert.throws(() => shellBlocks('x.md', '<!-- not run: x -->\nprose\n'), /no shell block after it/);
    assert.throws(() => shellBlocks('x.md', '<!-- not run: x -->\n```json\n{}\n```\n'), /before a json block/);
  });

  const bin = binDir();
  for (const b of blocks.filter((x) => x.notRun === null))
    it(`runs ${b.file}:${b.line}`, () => {
      const cwd = tempDir('fcprobe-docs-run-');
      const code = b.code.replace(/\bnpx fcprobe\b/g, 'fcprobe');
      const r = spawnSync('bash', ['-e', '-o', 'pipefail', '-c', code], {
        cwd,
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` },
      });
      assert.equal(r.status, 0, `${b.file}:${b.line} exited ${r.status}\n${code}\n${r.stderr}`);
    });
});
