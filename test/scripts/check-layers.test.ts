import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers/fixtures.js';

const CHECKER = new URL('../../../scripts/check-layers.mjs', import.meta.url).pathname;
const ROOT_SRC = new URL('../../../src', import.meta.url).pathname;

type CheckLayers = (srcDir: string) => string[];
const load = async (): Promise<CheckLayers> => ((await import(CHECKER)) as { checkLayers: CheckLayers }).checkLayers;

/** A src/ tree of the given files (path -> text). */
function tree(files: Record<string, string>): string {
  const dir = tempDir();
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

describe('scripts/check-layers.mjs', () => {
  it('passes the real source tree', async () => {
    assert.deepEqual((await load())(ROOT_SRC), []);
  });

  it('flags an upward import, a circle, an unknown folder and I/O in pure maths, and nothing else', async () => {
    const dir = tree({
      // probe -> report is upward (report is a later stage); probe -> math is downward and fine.
      'probe/a.ts': "import { r } from '../report/r.js';\nimport { m } from '../math/m.js';\n",
      'report/r.ts': 'export const r = 1;\n',
      'math/m.ts': "import { readFileSync } from 'node:fs';\nexport const m = 1;\n",
      // A circle inside one folder (type-only imports count too).
      'features/x.ts': "import type { Y } from './y.js';\n",
      'features/y.ts': "import type { X } from './x.js';\n",
      'nowhere/z.ts': 'export const z = 1;\n',
    });
    // The circle is named from whichever of its files the directory listing gives first.
    const problems = (await load())(dir)
      .map((p) =>
        p.replace('features/y.ts -> features/x.ts -> features/y.ts', 'features/x.ts -> features/y.ts -> features/x.ts'),
      )
      .sort();
    assert.deepEqual(problems, [
      'import circle: features/x.ts -> features/y.ts -> features/x.ts',
      'math/m.ts: pure maths uses I/O, a clock or Math.random',
      'nowhere/z.ts: its folder is in no layer of scripts/check-layers.mjs',
      'probe/a.ts imports upward: report/r.ts',
    ]);
  });
});
