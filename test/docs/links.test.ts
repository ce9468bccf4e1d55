/**
 * The documentation's links and the source paths it names must exist: pages and folders move (src/api and
 * src/core did), and a reader sent to a file that is gone is sent nowhere.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = new URL('../../../', import.meta.url).pathname;

function markdownFiles(): string[] {
  const files = ['README.md', 'CONTRIBUTING.md'].map((f) => join(ROOT, f));
  const docs = join(ROOT, 'docs');
  // Only the pages; docs/examples/ holds generated reports.
  for (const e of readdirSync(docs, { withFileTypes: true }))
    if (e.isFile() && e.name.endsWith('.md')) files.push(join(docs, e.name));
  return files.filter((f) => existsSync(f));
}

/** GitHub's heading anchors: lower case, punctuation other than '-' and '_' dropped, spaces to '-'. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

function anchors(file: string): Set<string> {
  const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!)));
}

/** Text outside fenced code blocks and with inline code kept (paths are usually written as code). */
function prose(file: string): string {
  return readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
}

describe('documentation', () => {
  const files = markdownFiles();

  it('finds the pages', () => {
    assert.ok(files.some((f) => f.endsWith('README.md')));
    assert.ok(files.filter((f) => f.includes('/docs/')).length >= 5, files.join('\n'));
  });

  it('heading anchors follow GitHub: punctuation dropped, spaces to hyphens', () => {
    assert.equal(slug('Worked example: PACS with real models'), 'worked-example-pacs-with-real-models');
    assert.equal(slug('`fcprobe run` and `fcprobe report`'), 'fcprobe-run-and-fcprobe-report');
  });

  for (const file of files) {
    const name = relative(ROOT, file);
    it(`${name}: every relative link leads to a file, and every anchor to a heading`, () => {
      const problems: string[] = [];
      for (const m of prose(file).matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/i.test(target)) continue; // http:, mailto:
        const [path, anchor] = target.split('#') as [string, string | undefined];
        const resolved = path === '' ? file : join(dirname(file), path);
        if (!existsSync(resolved)) {
          problems.push(`${target}: no such file`);
          continue;
        }
        if (anchor && resolved.endsWith('.md') && !anchors(resolved).has(anchor))
          problems.push(`${target}: no heading with that anchor`);
      }
      assert.deepEqual(problems, []);
    });

    it(`${name}: every repository path it names exists`, () => {
      const problems: string[] = [];
      // A path under a top folder of the repository, not part of a longer path (dist/test/... is build output).
      const pattern = new RegExp(
        /(?<![\w./-])/.source +
          /((?:src|test|scripts|bench|schema|data|docs)\/[\w./-]*\.(?:ts|mjs|js|wat|md|json|py|sh))/.source +
          /(?![\w/-])/.source,
        'g',
      );
      for (const m of prose(file).matchAll(pattern)) {
        if (!existsSync(join(ROOT, m[1]!))) problems.push(m[1]!);
      }
      assert.deepEqual([...new Set(problems)], []);
    });
  }
});
