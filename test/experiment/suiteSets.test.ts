/**
 * results.json `sets[]` of a suite run: one entry per set of the suite, found (classes present of expected,
 * images left out and why) or missing (the folders tried), and every consumer of it: the report (Markdown, HTML,
 * CSV) shows a missing set once with no number, and compare refuses two runs where a set is found in one only.
 * Expected counts come from the tree this test writes; ObjectNet's unmapped folder is counted the same in
 * results.json, the probe's metrics.json and the features' manifest.json.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { IMAGENET_OOD_SUITE } from '../../src/dataset/suite.js';
import { imagenetRWnids, imagenetWnids, objectnetMeta } from '../../src/dataset/imagenetMeta.js';
import { FcprobeError } from '../../src/errors.js';
import { readResults } from '../../src/experiment/results.js';
import { runExperiment } from '../../src/experiment/run.js';
import { suiteRun } from '../../src/experiment/suiteConfig.js';
import type { MissingSetEntry, RunResults, SetEntry, SetRecord } from '../../src/experiment/types.js';
import { buildReport } from '../../src/report/build.js';
import { buildComparison, compareWorkDirs } from '../../src/report/compare.js';
import { renderResultsCsv } from '../../src/report/csv.js';
import { renderHtml } from '../../src/report/html.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { lcgUniform, linearEncoder, tempDir, writeModel } from '../helpers/fixtures.js';

const ON = objectnetMeta();
// An ObjectNet folder mapped to exactly one ImageNet class (W, which the probe is trained on), and one without
// an ImageNet counterpart (left out of scoring, counted).
const MAPPED = ON.mapped.find((f) => f.imagenetWnids.length === 1)!;
const UNMAPPED = ON.folders.find((f) => f.imagenetWnids.length === 0)!;
const W = MAPPED.imagenetWnids[0]!;
const [A, C] = imagenetRWnids()
  .filter((w) => w !== W)
  .slice(0, 2) as [string, string];
// ObjectNet is scored by the max over each class's ImageNet logits, so the probe must know every mapped wnid.
const TRAIN = [...new Set([A, C, ...ON.mapped.flatMap((f) => f.imagenetWnids)])];

/** `perClass` solid images per class; class i has colour channel i % 3 raised, so a linear probe can tell some. */
async function makeClasses(root: string, classes: string[], perClass: number, seed: number): Promise<void> {
  const rnd = lcgUniform(seed);
  for (const [i, cls] of classes.entries()) {
    mkdirSync(join(root, cls), { recursive: true });
    for (let j = 0; j < perClass; j++) {
      const rgb = [0, 1, 2].map((ch) => Math.round(70 + (ch === i % 3 ? 80 : 0) + (i >= 3 ? 40 : 0) + rnd() * 50));
      await sharp({
        create: { width: 12, height: 12, channels: 3, background: { r: rgb[0]!, g: rgb[1]!, b: rgb[2]! } },
      })
        .png()
        .toFile(join(root, cls, `${j}.png`));
    }
  }
}

const found = (r: RunResults, name: string): SetEntry => {
  const e = r.sets.find((s) => s.name === name);
  assert.ok(e && e.found === true, `${name} found`);
  return e as SetEntry;
};
const missingOf = (sets: SetRecord[]): MissingSetEntry[] => sets.filter((s): s is MissingSetEntry => s.found === false);

/** Cells of the Markdown table rows whose first cell is `name`. */
const mdRows = (md: string, name: string): string[][] =>
  md
    .split('\n')
    .filter((l) => l.startsWith('|'))
    .map((l) =>
      l
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim()),
    )
    .filter((cells) => cells[0] === name);

describe('suite sets[]: found and missing sets', () => {
  it('records every suite set; a missing one shows once, no numbers; compare refuses it', async () => {
    const dir = tempDir('fcprobe-suite-sets-');
    const data = join(dir, 'data');
    await makeClasses(join(data, 'imagenet', 'train'), TRAIN, 2, 1);
    // Partial: ImageNet val with 3 of 1000 classes, ImageNet-R with 2 of its 200.
    const valClasses = [A, C, W];
    const rClasses = [A, C];
    await makeClasses(join(data, 'imagenet', 'val'), valClasses, 4, 2);
    await makeClasses(join(data, 'imagenet-r'), rClasses, 4, 3);
    // ObjectNet 1.0: one mapped folder (5 images), one folder without an ImageNet class (3 images, left out).
    await makeClasses(join(data, 'objectnet-1.0', 'images'), [MAPPED.folder], 5, 4);
    await makeClasses(join(data, 'objectnet-1.0', 'images'), [UNMAPPED.folder], 3, 5);
    // ImageNet-V2, -Sketch and -A are missing.
    const m = [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ];
    writeModel(join(dir, 't.onnx'), linearEncoder(m, null));
    writeModel(
      join(dir, 's.onnx'),
      linearEncoder(
        [
          [1, 0.5, 0],
          [0, 1, 0.5],
        ],
        null,
      ),
    );
    const model = (p: string) => ({ path: p, resize: 12, crop: 12 });
    const run = async (): Promise<RunResults> => {
      const { config, suite } = suiteRun({
        suite: 'imagenet-ood',
        dataRoot: data,
        raw: { workDir: 'work', teacher: model('t.onnx'), student: model('s.onnx'), probe: { C: 1 }, bootstrap: 0 },
        baseDir: dir,
        onNotice: () => {},
      });
      return (await runExperiment({ config, suite })).results;
    };
    const work = join(dir, 'work');
    const withObjectnet = await run();
    const saved = readResults(work);
    cpSync(join(work, 'results.json'), join(dir, 'run-a', 'results.json'));

    // One entry per suite set, in the suite's order; the missing ones name every folder tried.
    assert.deepEqual(
      saved.sets.map((s) => [s.name, s.found]),
      IMAGENET_OOD_SUITE.map((s) => [s.title, !['imagenet-v2', 'imagenet-sketch', 'imagenet-a'].includes(s.id)]),
    );
    for (const x of missingOf(saved.sets)) {
      const def = IMAGENET_OOD_SUITE.find((s) => s.title === x.name)!;
      assert.deepEqual(x.foldersTried, def.folders);
      assert.equal(x.role, 'ood');
      assert.equal('n' in x || 'path' in x, false, 'a missing set has no image count or path');
      assert.ok(!saved.accuracy.some((a) => a.set === x.name) && !saved.gaps.some((g) => g.set === x.name));
    }
    assert.deepEqual(missingOf(saved.sets).find((x) => x.name === 'ImageNet-Sketch')!.foldersTried, [
      'imagenet-sketch/sketch',
      'imagenet-sketch',
      'sketch',
    ]);
    assert.deepEqual(saved.suite, { name: 'imagenet-ood', dataRoot: data, presentClassesOnly: false });

    // Classes present / expected, from the tree written above.
    const r = found(saved, 'ImageNet-R');
    assert.deepEqual([r.classes!.present, r.classes!.expected], [rClasses.length, imagenetRWnids().length]);
    assert.equal(r.n, rClasses.length * 4);
    assert.deepEqual(r.foldersTried, ['imagenet-r']);
    const val = found(saved, 'ImageNet');
    assert.deepEqual([val.classes!.present, val.classes!.expected], [valClasses.length, imagenetWnids().length]);
    assert.deepEqual(val.foldersTried, ['imagenet/val']);
    const train = found(saved, 'ImageNet train');
    assert.deepEqual([train.classes!.present, train.classes!.expected], [TRAIN.length, 1000]);
    const on = found(saved, 'ObjectNet');
    assert.deepEqual([on.classes!.present, on.classes!.expected], [1, ON.mapped.length]);
    assert.equal(on.n, 5);

    // The unmapped folder's 3 images: left out with the same count in results.json, metrics.json and manifest.json.
    assert.equal(on.leftOut!.images, 3);
    assert.deepEqual(
      on.leftOut!.entries.map((e) => [e.what, e.images]),
      [[`images/${UNMAPPED.folder}`, 3]],
    );
    assert.match(on.leftOut!.entries[0]!.reason, /no ImageNet-1k counterpart/);
    const manifest = JSON.parse(readFileSync(join(work, 'features', 'teacher', 'ObjectNet', 'manifest.json'), 'utf8'));
    assert.deepEqual(
      manifest.ignored
        .filter((e: { images?: number }) => e.images)
        .map((e: { file: string; images: number }) => [e.file, e.images]),
      [[`images/${UNMAPPED.folder}`, 3]],
    );
    for (const who of ['teacher', 'student']) {
      const metrics = JSON.parse(readFileSync(join(work, 'probes', who, 'metrics.json'), 'utf8'));
      const e = metrics.sets.find((x: { name: string }) => x.name === 'ObjectNet');
      assert.equal(e.leftOut, 3, `${who}: metrics.json counts the unmapped folder`);
      assert.deepEqual(e.leftOutBy, on.leftOut!.entries);
      assert.equal(metrics.sets.find((x: { name: string }) => x.name === 'ImageNet-R').leftOut, 0);
    }

    // The report: each missing set in one Missing sets row (folders tried, no number) and in no other table.
    const report = buildReport(saved);
    assert.deepEqual(
      report.missingSets.map((x) => x.name),
      ['ImageNet-V2', 'ImageNet-Sketch', 'ImageNet-A'],
    );
    const md = renderMarkdown(report);
    assert.match(md, /## Missing sets/);
    assert.deepEqual(mdRows(md, 'ImageNet-A'), [['ImageNet-A', 'ood', 'missing', 'imagenet-a']]);
    assert.deepEqual(mdRows(md, 'ImageNet-Sketch'), [
      ['ImageNet-Sketch', 'ood', 'missing', 'imagenet-sketch/sketch, imagenet-sketch, sketch'],
    ]);
    assert.equal(mdRows(md, 'ObjectNet').length, 3, 'a found set: Sets, accuracy and representation-fit rows');
    const html = renderHtml(report);
    const htmlRows = html.match(/<tr><td>ImageNet-A<\/td>.*?<\/tr>/g) ?? [];
    assert.deepEqual(htmlRows, ['<tr><td>ImageNet-A</td><td>ood</td><td>missing</td><td>imagenet-a</td></tr>']);
    for (const svg of html.match(/<svg[\s\S]*?<\/svg>/g) ?? []) assert.doesNotMatch(svg, /ImageNet-A|ImageNet-Sketch/);
    const csv = renderResultsCsv(saved)
      .trim()
      .split('\n')
      .map((l) => l.split(','));
    assert.deepEqual(
      csv.filter((c) => c[1] === 'ImageNet-A'),
      [['', 'ImageNet-A', 'not_found', '', '', '', '']],
    );
    assert.ok(csv.some((c) => c[1] === 'ObjectNet' && c[2] === 'top1' && Number(c[3]) >= 0));

    // A second run without ObjectNet: compare refuses, unless --allow-different-sets, and then shows no number
    // for the run that did not find it; sets missing in both runs are no column.
    renameSync(join(data, 'objectnet-1.0'), join(dir, 'objectnet-away'));
    const without = await run();
    assert.equal(missingOf(without.sets).length, 4);
    cpSync(join(work, 'results.json'), join(dir, 'run-b', 'results.json'));
    const inputs = [
      { workDir: join(dir, 'run-a'), results: withObjectnet },
      { workDir: join(dir, 'run-b'), results: without },
    ];
    assert.throws(
      () => buildComparison(inputs),
      (e: unknown) =>
        e instanceof FcprobeError &&
        e.code === 'BAD_DATA' &&
        /set "ObjectNet" was found in .* not found in /.test(e.message) &&
        /--allow-different-sets/.test(e.hint ?? ''),
    );
    const out = join(dir, 'compare');
    const { comparison: c } = compareWorkDirs([join(dir, 'run-a'), join(dir, 'run-b')], out, {
      allowDifferentSets: true,
    });
    assert.equal(c.differences.length, 1);
    assert.match(c.differences[0]!, /ObjectNet/);
    assert.deepEqual(
      c.sets.map((s) => s.name),
      ['ImageNet', 'ImageNet-R', 'ObjectNet'],
    );
    const col = c.sets.findIndex((s) => s.name === 'ObjectNet');
    // The sets differ, so no model is the same in both runs: each row is one run's.
    for (const row of c.models) assert.equal(row.top1[col] === null, row.runs.join() === 'run-b', row.label);
    const compareCsv = readFileSync(join(out, 'compare.csv'), 'utf8');
    // Runs are named by their work folders (the title, with commas, is shown in the Runs table).
    assert.equal(c.runs[1]!.name, 'run-b');
    assert.equal(c.runs[1]!.title, 'imagenet-ood: ImageNet, ImageNet-R');
    assert.ok(compareCsv.split('\n').includes('run-b,ObjectNet,not_found,,,,'));
  });
});
