/**
 * docs/install.md's figures of the tarball are measured ones: its file count and sizes are what
 * `npm pack --dry-run` reports today (to within 10%: a module added or removed need not touch the page, a folder
 * shipped or dropped does), and the bound it says test/package/pack.test.ts checks is the bound that test checks.
 * The page said 190 files, then "fewer than 250", while 288 shipped.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = new URL('../../../', import.meta.url).pathname;
const page = readFileSync(join(ROOT, 'docs', 'install.md'), 'utf8').replace(/\s+/g, ' ');

describe('docs/install.md: the tarball as measured', () => {
  it('file count, packed and unpacked size within 10% of npm pack --dry-run', () => {
    const said = /(\d+) files, ([\d.]+) MB packed, ([\d.]+) MB unpacked/.exec(page);
    assert.ok(said, 'install.md says "<n> files, <x> MB packed, <y> MB unpacked"');
    // --ignore-scripts: `prepare` would rebuild; the suite has just built dist/.
    const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const [pack] = JSON.parse(r.stdout) as { entryCount: number; size: number; unpackedSize: number }[];
    const measured = [pack!.entryCount, pack!.size / 1e6, pack!.unpackedSize / 1e6];
    const page3 = [Number(said[1]), Number(said[2]), Number(said[3])];
    const off = measured.map((m, i) => Math.abs(page3[i]! - m) / m);
    assert.ok(
      off.every((x) => x <= 0.1),
      `install.md says ${said[0]}; npm pack: ${measured[0]} files, ${measured[1]!.toFixed(2)} MB packed, ` +
        `${measured[2]!.toFixed(2)} MB unpacked`,
    );
  });

  it('the file bound it says the pack test checks is the one that test checks', () => {
    const said = /fewer than (\d+) files/.exec(page);
    assert.ok(said, 'install.md says "fewer than <n> files"');
    const test = readFileSync(join(ROOT, 'test', 'package', 'pack.test.ts'), 'utf8');
    const bound = /packed\.length < (\d+)/.exec(test);
    assert.ok(bound, 'pack.test.ts bounds packed.length');
    assert.equal(said[1], bound[1]);
  });
});
