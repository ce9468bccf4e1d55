// Checks the tracked files for two things Biome does not: source lines over 120 characters (Biome's formatter
// leaves long string literals and comments as they are) and leftover merge-conflict markers (which can sit in a
// comment or a Markdown page and still build). Run by `npm run lint` and by a test.
import { execFileSync } from 'node:child_process';
import { lstatSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The longest line allowed, in characters (Unicode code points), as Biome's lineWidth. */
export const MAX_COLUMNS = 120;
/** Files whose line length is checked: source and its JSON, in these folders. */
export const LENGTH_DIRS = ['src/', 'test/', 'scripts/', 'bench/'];
export const LENGTH_EXTENSIONS = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs', '.json'];
/**
 * Left out of the length check, each with its reason. A JSON string cannot be broken across lines, so a
 * generated JSON file with a long value can only be excluded.
 */
export const LENGTH_EXCLUDED = [
  // Written by `npm run bench` (JSON.stringify): they record the commands run and their output verbatim.
  { prefix: 'bench/results/', reason: 'benchmark output written by bench/run.ts' },
];
/**
 * The lines git writes into a file with a merge conflict: `<<<<<<< ours`, `||||||| base` (diff3 style), `=======`
 * and `>>>>>>> theirs`. Only whole marker lines: a longer run of `=` (a Markdown heading rule) is not one.
 */
const CONFLICT_MARKER = /^(?:<{7}|\|{7}|>{7})(?: |$)|^={7}$/;

/** Whether a tracked path is subject to the line-length check. */
export function lengthChecked(path) {
  return (
    LENGTH_DIRS.some((d) => path.startsWith(d)) &&
    LENGTH_EXTENSIONS.some((e) => path.endsWith(e)) &&
    !LENGTH_EXCLUDED.some((x) => path.startsWith(x.prefix))
  );
}

/**
 * Checks the files `paths` (relative to `root`, `/`-separated). Every file is checked for conflict markers
 * (binary files, those with a NUL byte, are skipped); those that `lengthChecked` accepts also for lines over
 * `maxColumns` characters. Returns one `path:line: ...` string per problem, in file and line order.
 */
export function checkLines(root, paths, maxColumns = MAX_COLUMNS) {
  const problems = [];
  for (const path of paths) {
    // A tracked file deleted in the working tree, a symbolic link or a submodule: nothing to read.
    const stat = lstatSync(join(root, path), { throwIfNoEntry: false });
    if (!stat?.isFile()) continue;
    const bytes = readFileSync(join(root, path));
    if (bytes.includes(0)) continue;
    const checkLength = lengthChecked(path);
    const lines = bytes.toString('utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i].endsWith('\r') ? lines[i].slice(0, -1) : lines[i];
      if (CONFLICT_MARKER.test(line)) problems.push(`${path}:${i + 1}: merge-conflict marker`);
      if (checkLength) {
        const columns = [...line].length;
        if (columns > maxColumns) problems.push(`${path}:${i + 1}: ${columns} characters (at most ${maxColumns})`);
      }
    }
  }
  return problems;
}

/** The files git tracks under `root` (so node_modules/, dist/ and other ignored output are never read). */
export function trackedFiles(root) {
  const out = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  return out.split('\0').filter((p) => p !== '');
}

// `node scripts/check-lines.mjs [root]`: checks the repository at root (default: this one).
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..');
  const problems = checkLines(root, trackedFiles(root));
  for (const p of problems) process.stderr.write(`${p}\n`);
  if (problems.length) {
    process.stderr.write(`lines: ${problems.length} problem(s)\n`);
    process.exit(1);
  }
  process.stdout.write(`lines: none over ${MAX_COLUMNS} characters, no merge-conflict markers\n`);
}
