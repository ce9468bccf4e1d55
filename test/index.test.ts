/**
 * The functions behind distill, compare, models list / pull and datasets check are exported from the package's
 * entry point (src/index.ts) and give what the commands give: each compared with the CLI's own output.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as fc from '../src/index.js';
import { writeResults } from '../src/experiment/results.js';
import { gaussianClasses, writeFeatureDir } from './helpers/featureDir.js';
import { runCli as cli, tempDir } from './helpers/fixtures.js';
import { sampleResults } from './report/fixtures.js';

describe('the entry point has a function for each command', () => {
  it('runDistill writes the head.onnx bytes that `fcprobe distill` writes', async () => {
    const dir = tempDir('fcprobe-lib-distill-');
    const s = gaussianClasses(
      [
        [0, 1, 2],
        [2, 0, -1],
      ],
      40,
      3,
    );
    const t = gaussianClasses(
      [
        [1, 0],
        [0, 1],
      ],
      40,
      4,
    );
    const classes = ['a', 'b'];
    const sd = writeFeatureDir(join(dir, 's'), { ...s, classes, model: { sha256: 'b'.repeat(64) } });
    const td = writeFeatureDir(join(dir, 't'), { x: t.x, d: t.d, labels: s.labels, classes });
    const r = cli([
      ...['distill', '--teacher-features', td, '--student-features', sd, '--head', 'linear'],
      ...['--epochs', '2', '--batch', '8', '--threads', '1', '--out', join(dir, 'cli'), '-q'],
    ]);
    assert.equal(r.status, 0, r.stderr);
    const lib = await fc.runDistill({
      teacherFeatures: td,
      studentFeatures: sd,
      out: join(dir, 'lib'),
      settings: {
        ...fc.DISTILL_DEFAULTS,
        head: { ...fc.DISTILL_DEFAULTS.head, kind: 'linear' },
        epochs: 2,
        batchSize: 8,
      },
      threads: 1,
    });
    assert.equal(lib.outputs.head, 'head.onnx');
    assert.ok(readFileSync(join(dir, 'lib', 'head.onnx')).equals(readFileSync(join(dir, 'cli', 'head.onnx'))));
    const fromCli = JSON.parse(readFileSync(join(dir, 'cli', 'distill.json'), 'utf8')) as fc.DistillResult;
    assert.equal(lib.key, fromCli.key);
  });

  it('compareWorkDirs gives the terminal table `fcprobe compare` prints', () => {
    const dir = tempDir('fcprobe-lib-compare-');
    const [a, b] = [join(dir, 'a'), join(dir, 'b')];
    for (const d of [a, b]) mkdirSync(d);
    writeResults(a, sampleResults());
    writeResults(b, sampleResults());
    const r = cli(['compare', a, b, '--out', join(dir, 'cli')]);
    assert.equal(r.status, 0, r.stderr);
    const lib = fc.compareWorkDirs([a, b], join(dir, 'lib'));
    assert.ok(r.stdout.startsWith(lib.terminal), `${r.stdout}\n---\n${lib.terminal}`);
    assert.equal(
      readFileSync(join(dir, 'lib', 'compare.csv'), 'utf8'),
      readFileSync(join(dir, 'cli', 'compare.csv'), 'utf8'),
    );
  });

  it('loadCatalog is `models list --json`; pullModel refuses an unpublished model as the CLI does', async () => {
    const r = cli(['models', 'list', '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), fc.loadCatalog().models);
    const entry = fc.loadCatalog().models.find((m) => m.export.kind !== 'hub');
    assert.ok(entry, 'the catalog has a model with no published ONNX');
    await assert.rejects(fc.pullModel(entry.name, { cacheDir: tempDir('fcprobe-lib-cache-') }), (e: unknown) => {
      assert.ok(fc.isFcprobeError(e));
      assert.equal(e.exitCode, cli(['models', 'pull', entry.name]).status);
      return true;
    });
  });

  it('checkDatasets is `datasets check --json`', () => {
    const root = tempDir('fcprobe-lib-datasets-');
    const r = cli(['datasets', 'check', '--data-root', root, '--json']);
    assert.equal(r.status, 3, 'no set is complete in an empty root');
    assert.deepEqual(JSON.parse(r.stdout), JSON.parse(JSON.stringify(fc.checkDatasets(root))));
  });

  it('checkExport and defaultCacheDir are exported (check-export, the models cache)', () => {
    assert.equal(typeof fc.checkExport, 'function');
    assert.equal(fc.defaultCacheDir({ FCPROBE_CACHE: '/x/y' }), '/x/y');
  });
});
