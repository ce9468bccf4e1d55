/**
 * Documentation examples that run: every fenced shell block (```sh, bash, shell, console) of README.md and
 * docs/**\/*.md runs here and exits 0, or is marked not runnable with its reason on the line before it
 * (`<!-- not run: needs ImageNet -->`). A new example is run unless someone says why it cannot be.
 *
 * Where a block runs, on the line before it:
 * - nothing: in an empty temporary folder;
 * - `<!-- run in: <world> -->`: in a fresh copy of a generated folder (test/docs/worlds.ts) that holds the files
 *   the page names, under the page's names;
 * - `<!-- run in: <world>; your paths: A => B; C => D -->`: the same, with each literal A of the block (and of
 *   its quoted output) replaced by B first. This is the only rewriting, said on the page, and each A must occur.
 * - `exits N` after the world: the block must end with status N (a check that reports a problem), else 0.
 * A ```js block runs too where a `run in` marker precedes it: written to the file its first line names
 * (`// probe-teacher.mjs`) and run with node, this checkout importable as `fcprobe`.
 * Always: bash -e -o pipefail, `fcprobe` on the PATH as this checkout's built CLI, `npx fcprobe` read as
 * `fcprobe` (what it is in a checkout).
 *
 * Quoted output is checked: a ```text block right after a run block (blank lines between at most), or the
 * non-`$ ` lines of a ```console block, must appear in the block's stdout and stderr, line by line and in order
 * (each quoted line, trimmed, a part of an output line; other output lines may come between, which a quoted
 * `...` line says to the reader). A line ending in `...` quotes only its beginning. Before comparing, both
 * sides are normalised, and only in these ways: the block's folder becomes `.`, ISO date-times `<date>`,
 * durations (`2.8 s`, `35 ms`, `1m04s`) `<time>` and image rates (`68.5 img/s`) `<rate>`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { CLI, tempDir } from '../helpers/fixtures.js';
import { WORLDS } from './worlds.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const SHELL = new Set(['sh', 'bash', 'shell', 'console']);

interface RunIn {
  world: string;
  /** The exit status the page says the block ends with (`exits 3`); 0 unless said. */
  exits: number;
  /** Literal replacements [from, to], in the page's order. */
  paths: [string, string][];
}

interface Block {
  file: string;
  line: number;
  lang: string;
  /** The commands: the block's text, or a console block's `$ ` lines without the prompt. */
  code: string;
  /** The reason it is not run, or null when it runs. */
  notRun: string | null;
  /** Where it runs when a `run in` marker says so (null: an empty folder). */
  runIn: RunIn | null;
  /** The output the page quotes for it, or null. */
  quoted: string | null;
}

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? markdownFiles(join(dir, e.name)) : e.name.endsWith('.md') ? [join(dir, e.name)] : [],
  );
}

/** `images; exits 3; your paths: A => B; C => D` as a RunIn; malformed markers fail, naming the line. */
export function parseRunIn(where: string, text: string): RunIn {
  const [world, ...rest] = text.split(';').map((s) => s.trim());
  assert.ok(world && world in WORLDS, `${where}: unknown world "${world}" (known: ${Object.keys(WORLDS).join(', ')})`);
  const out: RunIn = { world, exits: 0, paths: [] };
  let inPaths = false;
  for (let item of rest) {
    const exits = /^exits (\d+)$/.exec(item);
    if (exits && !inPaths) {
      out.exits = Number(exits[1]);
      continue;
    }
    if (item.startsWith('your paths:')) {
      inPaths = true;
      item = item.slice('your paths:'.length).trim();
    }
    assert.ok(inPaths, `${where}: "${item}": after the world, "exits N" or "your paths: A => B; C => D"`);
    const parts = item.split(' => ');
    assert.ok(parts.length === 2 && parts[0] !== '', `${where}: "${item}" is not "A => B"`);
    out.paths.push([parts[0]!, parts[1]!]);
  }
  return out;
}

/** The shell blocks of one page, with the marker before each; a marker with no shell block after it fails. */
export function shellBlocks(file: string, text: string): Block[] {
  const lines = text.split('\n');
  const out: Block[] = [];
  let pending: { notRun: string | null; runIn: RunIn | null; line: number } | null = null;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const notRun = /^<!-- not run:(.*)-->\s*$/.exec(l);
    const runIn = /^<!-- run in:(.*)-->\s*$/.exec(l);
    if (notRun || runIn) {
      pending = {
        notRun: notRun ? notRun[1]!.trim() : null,
        runIn: runIn ? parseRunIn(`${file}:${i + 1}`, runIn[1]!.trim()) : null,
        line: i + 1,
      };
      continue;
    }
    const fence = /^(`{3,})\s*([\w-]*)/.exec(l);
    if (!fence) {
      if (pending && l.trim() !== '') assert.fail(`${file}:${pending.line}: a marker with no shell block after it`);
      continue;
    }
    const end = lines.findIndex((x, j) => j > i && x.startsWith(fence[1]!));
    assert.ok(end > i, `${file}:${i + 1}: unclosed code block`);
    const lang = fence[2]!;
    const body = lines.slice(i + 1, end);
    // A ```js block runs only where a marker says where (library.md's complete scripts, not its fragments).
    if (SHELL.has(lang) || (lang === 'js' && pending?.runIn)) {
      let code = body.join('\n');
      let quoted: string | null = null;
      if (lang === 'console') {
        code = body
          .filter((x) => x.startsWith('$ '))
          .map((x) => x.slice(2))
          .join('\n');
        quoted = body.filter((x) => !x.startsWith('$ ')).join('\n');
      } else {
        // A ```text block right after it (blank lines between at most) is its quoted output.
        let k = end + 1;
        while (k < lines.length && lines[k]!.trim() === '') k++;
        if (lines[k]?.startsWith('```text')) {
          const close = lines.findIndex((x, j) => j > k && x.startsWith('```'));
          assert.ok(close > k, `${file}:${k + 1}: unclosed text block`);
          quoted = lines.slice(k + 1, close).join('\n');
        }
      }
      out.push({
        file,
        line: i + 1,
        lang,
        code,
        notRun: pending?.notRun ?? null,
        runIn: pending?.runIn ?? null,
        quoted,
      });
    } else if (pending) assert.fail(`${file}:${pending.line}: a marker before a ${lang || 'plain'} block`);
    pending = null;
    i = end;
  }
  return out;
}

/** The normalisations of the header, applied to a block's output and to its quote alike. */
export function normalise(text: string, folders: string[]): string {
  let t = text;
  for (const f of folders) t = t.split(f).join('.');
  return t
    .replace(/\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<date>')
    .replace(/\b\d+(\.\d+)? img\/s\b/g, '<rate>')
    .replace(/\b\d+m\d+s\b/g, '<time>')
    .replace(/\b\d+(\.\d+)? ?(ms|s|min)\b/g, '<time>');
}

/** The quoted lines missing from `output` (see the header for `...`); [] when the quote is in it. */
export function missingQuote(quoted: string, output: string): string[] {
  let from = 0;
  const missing: string[] = [];
  for (const raw of quoted.split('\n')) {
    const line = raw.trim().replace(/\s*\.\.\.$/, '');
    if (line === '') continue;
    const at = output.indexOf(line, from);
    if (at < 0) missing.push(raw);
    else from = at + line.length;
  }
  return missing;
}

/** Commands in a block without a language escape the test: they must say sh (or console), or text for output. */
export function unlabelledCommands(file: string, text: string): string[] {
  const lines = text.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = /^(`{3,})\s*([\w-]*)/.exec(lines[i]!);
    if (!fence) continue;
    const end = lines.findIndex((x, j) => j > i && x.startsWith(fence[1]!));
    if (fence[2] === '' && /^(\$ |fcprobe |npx fcprobe |bash |npm )/.test(lines[i + 1] ?? ''))
      out.push(`${file}:${i + 1}`);
    i = end;
  }
  return out;
}

const pages = ['README.md', ...markdownFiles(join(ROOT, 'docs')).map((f) => relative(ROOT, f))];
const texts = new Map(pages.map((p) => [p, readFileSync(join(ROOT, p), 'utf8')]));
const blocks = pages.flatMap((p) => shellBlocks(p, texts.get(p)!));

/** A folder with `fcprobe` (this checkout's CLI) in it, for the PATH. */
function binDir(): string {
  const bin = join(tempDir('fcprobe-docs-bin-'), 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'fcprobe'), `#!/bin/sh\nexec '${process.execPath}' '${CLI}' "$@"\n`);
  chmodSync(join(bin, 'fcprobe'), 0o755);
  return bin;
}

/** Each world made once per test run; every block gets a copy of it. */
const made = new Map<string, Promise<string>>();
async function worldCopy(name: string): Promise<string> {
  if (!made.has(name)) {
    const dir = tempDir(`fcprobe-docs-world-${name}-`);
    made.set(
      name,
      WORLDS[name]!.make(dir).then(() => dir),
    );
  }
  const copy = tempDir(`fcprobe-docs-run-${name}-`);
  cpSync(await made.get(name)!, copy, { recursive: true });
  return copy;
}

/** The block's text and its quote with the page's `your paths` applied; a replacement that matches nothing fails. */
function rewritten(b: Block): { code: string; quoted: string | null } {
  let code = b.code.replace(/\bnpx fcprobe\b/g, 'fcprobe');
  let quoted = b.quoted;
  for (const [from, to] of b.runIn?.paths ?? []) {
    assert.ok(
      code.includes(from) || quoted?.includes(from),
      `${b.file}:${b.line}: "your paths: ${from} => ..." matches nothing in the block`,
    );
    code = code.split(from).join(to);
    quoted = quoted?.split(from).join(to) ?? null;
  }
  return { code, quoted };
}

describe('shell examples of the documentation', () => {
  it('finds the examples (the parser works on this very repository)', () => {
    assert.ok(blocks.length >= 20, `${blocks.length} shell blocks`);
    assert.ok(blocks.filter((b) => b.notRun === null).length >= 11, 'the examples that ran when this was written');
  });

  it('marks every example that is not run with a reason', () => {
    const bare = blocks.filter((b) => b.notRun === '');
    assert.deepEqual(
      bare.map((b) => `${b.file}:${b.line}`),
      [],
      'write why: <!-- not run: needs ImageNet -->',
    );
  });

  it('labels every block of commands (an unlabelled block would escape this test)', () => {
    assert.deepEqual(
      pages.flatMap((p) => unlabelledCommands(p, texts.get(p)!)),
      [],
      'label it ```sh (runs, or <!-- not run: why -->), ```console for a session with output, or ```text',
    );
  });

  it('the parser: markers bind to the next shell block, and stray markers fail', () => {
    const page = [
      '<!-- not run: needs a GPU -->',
      '```sh',
      'a',
      '```',
      '',
      '<!-- run in: images; your paths: <dir> => photos; x y => z -->',
      '```bash',
      'b <dir>',
      '```',
      '',
      '```text',
      'out',
      '```',
      '```console',
      '$ c',
      'said',
      '```',
    ].join('\n');
    assert.deepEqual(
      shellBlocks('x.md', page).map((b) => [b.code, b.notRun, b.runIn, b.quoted]),
      [
        ['a', 'needs a GPU', null, null],
        [
          'b <dir>',
          null,
          {
            world: 'images',
            exits: 0,
            paths: [
              ['<dir>', 'photos'],
              ['x y', 'z'],
            ],
          },
          'out',
        ],
        ['c', null, null, 'said'],
      ],
    );
    assert.throws(() => shellBlocks('x.md', '<!-- not run: x -->\nprose\n'), /no shell block after it/);
    assert.throws(() => shellBlocks('x.md', '<!-- not run: x -->\n```json\n{}\n```\n'), /before a json block/);
    assert.throws(() => shellBlocks('x.md', '<!-- run in: nowhere -->\n```sh\na\n```\n'), /unknown world/);
    assert.throws(() => shellBlocks('x.md', '<!-- run in: images; a => b -->\n```sh\na\n```\n'), /your paths/);
    assert.equal(shellBlocks('x.md', '<!-- run in: images; exits 3 -->\n```sh\na\n```\n')[0]!.runIn?.exits, 3);
    assert.throws(() => shellBlocks('x.md', '<!-- run in: images; your paths: a -> b -->\n```sh\na\n```\n'));
    assert.deepEqual(unlabelledCommands('x.md', '```\nfcprobe run\n```\n```text\nfcprobe run\n```\n'), ['x.md:1']);
  });

  it('the quote check: lines in order, `...` elisions, normalised times, dates and folders', () => {
    const out = normalise('a 2.8 s b\nx\n/tmp/w/r.md at 2026-12-07T11:45:09.350Z, 68.5 img/s, ETA 1m04s\n', ['/tmp/w']);
    assert.equal(out, 'a <time> b\nx\n./r.md at <date>, <rate>, ETA <time>\n');
    assert.deepEqual(missingQuote('a <time> b\n...\n./r.md at ...', out), []);
    assert.deepEqual(missingQuote('x\na <time> b', out), ['a <time> b'], 'order counts');
    assert.deepEqual(missingQuote('a 3.0 s b', out), ['a 3.0 s b'], 'unnormalised text is compared as it is');
  });

  const bin = binDir();
  for (const b of blocks.filter((x) => x.notRun === null)) {
    it(`runs ${b.file}:${b.line}`, async () => {
      const cwd = b.runIn ? await worldCopy(b.runIn.world) : tempDir('fcprobe-docs-run-');
      const { quoted, ...page } = rewritten(b);
      let code = page.code;
      if (b.lang === 'js') {
        // A script names its file on its first line (`// probe-teacher.mjs`); it imports this checkout as fcprobe.
        const name = /^\/\/ ([\w.-]+\.mjs)$/.exec(code.split('\n')[0]!)?.[1];
        assert.ok(name, `${b.file}:${b.line}: a script to run starts with its file name: // name.mjs`);
        writeFileSync(join(cwd, name), code);
        mkdirSync(join(cwd, 'node_modules'));
        symlinkSync(ROOT, join(cwd, 'node_modules', 'fcprobe'));
        code = `node ${name}`;
      }
      const r = spawnSync('bash', ['-e', '-o', 'pipefail', '-c', code], {
        cwd,
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` },
      });
      const world = b.runIn ? ` in world ${b.runIn.world} (${WORLDS[b.runIn.world]!.holds})` : '';
      const said = `${b.file}:${b.line} exited ${r.status}${world}\n${code}\n${r.stdout}\n${r.stderr}`;
      assert.equal(r.status, b.runIn?.exits ?? 0, said);
      if (quoted === null) return;
      const folders = [realpathSync(cwd), cwd];
      const output = normalise(`${r.stdout}\n${r.stderr}`, folders);
      const missing = missingQuote(normalise(quoted, folders), output);
      assert.deepEqual(missing, [], `${b.file}:${b.line}: the quoted output is not what it prints:\n${output}`);
    });
  }
});
