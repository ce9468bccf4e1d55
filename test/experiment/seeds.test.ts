/**
 * `run --split --seeds`: the ID folder is extracted once, each seed's split selects rows of it, and seed s of
 * a many-seed run gives exactly the numbers of a single-seed run with --seed s; mean and sample std across
 * seeds are recomputed here from the per-seed values; bad seed lists exit 2 naming the flag or field.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseRunConfig } from '../../src/experiment/config.js';
import { runExperiment } from '../../src/experiment/run.js';
import { isFoundSet, type RunResults } from '../../src/experiment/types.js';
import { writeReport } from '../../src/report/write.js';
import { renderResultsCsv } from '../../src/report/csv.js';
import {
  CHANNELS,
  makeColourSet,
  tempDir,
  unextractedRunDir,
  writeLinearPair,
  runCli as cli,
} from '../helpers/fixtures.js';

/** Class c's images lean to colour channel c, with noise; `shift` varies the background (OOD). */
const makeSet = (root: string, classes: string[], perClass: number, seed: number, shift: number) =>
  makeColourSet(root, classes, perClass, seed, shift, { lean: 40, noise: 110, size: 8 });

async function setup(): Promise<string> {
  const dir = tempDir();
  const classes = ['red', 'green', 'blue'];
  await makeSet(join(dir, 'photo'), classes, 10, 5, 0.3);
  await makeSet(join(dir, 'shifted'), classes, 6, 6, 1.0);
  writeLinearPair(
    dir,
    CHANNELS,
    [
      [1, 0.6, 0],
      [0, 1, 0.6],
      [0.5, 0, 1],
    ],
    null,
  );
  return dir;
}

const model = (path: string) => ({ path, resize: 8, crop: 8 });

async function runWith(dir: string, extra: Record<string, unknown>, stages: string[] = []): Promise<RunResults> {
  const config = parseRunConfig(
    {
      teacher: model('t.onnx'),
      student: model('s.onnx'),
      train: 'photo',
      ood: ['shifted'],
      split: 0.3,
      bootstrap: 200,
      ...extra,
    },
    dir,
  );
  return (await runExperiment({ config, onStage: (m) => stages.push(m) })).results;
}

describe('run --seeds', () => {
  it('gives each seed the numbers of a single-seed run, extracts once, and reports mean and sample std', async () => {
    const dir = await setup();
    const seeds = [0, 1, 2];
    const stages: string[] = [];
    const many = await runWith(dir, { workDir: 'many', seeds }, stages);
    const single: RunResults[] = [];
    for (const s of seeds) single.push(await runWith(dir, { workDir: `one-${s}`, probe: { seed: s } }));

    // One extraction per model, of the whole ID folder (30 images) and the OOD set; no part folders.
    for (const m of ['teacher', 'student']) {
      assert.deepEqual(readdirSync(join(dir, 'many', 'features', m)).sort(), ['photo', 'shifted']);
      const man = JSON.parse(readFileSync(join(dir, 'many', 'features', m, 'photo', 'manifest.json'), 'utf8'));
      assert.equal(man.rows, 30);
      assert.equal(stages.filter((x) => x.startsWith(`extract ${m} / `)).length, 2, stages.join('\n'));
      assert.deepEqual(readdirSync(join(dir, 'many', 'probes', m)).sort(), ['seed-0', 'seed-1', 'seed-2']);
    }
    // A single-seed split run uses the same one-folder layout.
    assert.deepEqual(readdirSync(join(dir, 'one-1', 'features', 'teacher')).sort(), ['photo', 'shifted']);

    // The parts: a stratified 30% of each class (3 of 10) per seed, the seeds' draws differ, files recorded.
    const trainEntry = many.sets.filter(isFoundSet).find((s) => s.role === 'id-train')!;
    const testEntry = many.sets.filter(isFoundSet).find((s) => s.role === 'id-test')!;
    assert.equal(trainEntry.name, 'photo-train');
    assert.equal(testEntry.name, 'photo-test');
    assert.equal(testEntry.n, 9);
    assert.equal(trainEntry.n, 21);
    assert.equal(testEntry.split?.folder, 'photo');
    assert.deepEqual(
      testEntry.split?.seeds?.map((x) => x.seed),
      seeds,
    );
    seeds.forEach((s, k) => {
      const one = single[k]!;
      assert.deepEqual(
        testEntry.split!.seeds![k]!.files,
        one.sets.filter(isFoundSet).find((x) => x.role === 'id-test')!.split!.files,
      );
      assert.deepEqual(
        trainEntry.split!.seeds![k]!.files,
        one.sets.filter(isFoundSet).find((x) => x.role === 'id-train')!.split!.files,
      );
      const probe = JSON.parse(readFileSync(join(dir, 'many', 'probes', 'student', `seed-${s}`, 'probe.json'), 'utf8'));
      assert.equal(probe.train.rows, 21);
      assert.equal(probe.train.selection.of, 30);
    });
    const tests = testEntry.split!.seeds!.map((x) => x.files.join('|'));
    assert.equal(new Set(tests).size, 3, 'three different test parts');

    const meanStd = (v: number[]): [number, number] => {
      const mean = (v[0]! + v[1]! + v[2]!) / 3;
      return [mean, Math.sqrt(((v[0]! - mean) ** 2 + (v[1]! - mean) ** 2 + (v[2]! - mean) ** 2) / 2)];
    };
    const checkAcross = (
      a: { seeds: number[]; values: number[]; mean: number; std: number } | undefined,
      v: number[],
    ) => {
      assert.ok(a);
      assert.deepEqual(a.seeds, seeds);
      assert.deepEqual(a.values, v);
      const [mean, std] = meanStd(v);
      assert.ok(Math.abs(a.mean - mean) < 1e-15 && Math.abs(a.std - std) < 1e-15, JSON.stringify({ a, mean, std }));
    };
    assert.equal(many.accuracy.length, 4);
    for (const acc of many.accuracy) {
      const per = single.map((r) => r.accuracy.find((x) => x.model === acc.model && x.set === acc.set)!);
      // The first seed's entry is the single run's, interval and all.
      assert.deepEqual({ ...acc, acrossSeeds: undefined }, { ...per[0], acrossSeeds: undefined });
      assert.equal(per[0]!.acrossSeeds, undefined, 'a single-seed run has no acrossSeeds');
      checkAcross(
        acc.acrossSeeds,
        per.map((p) => p.top1),
      );
    }
    assert.equal(many.gaps.length, 2);
    for (const g of many.gaps) {
      const per = single.map((r) => r.gaps.find((x) => x.set === g.set)!);
      assert.deepEqual({ ...g, acrossSeeds: undefined }, { ...per[0], acrossSeeds: undefined });
      checkAcross(
        g.acrossSeeds,
        per.map((p) => p.top1Gap),
      );
    }
    assert.equal(many.contamination.length, 1);
    checkAcross(
      many.contamination[0]!.acrossSeeds,
      single.map((r) => r.contamination[0]!.estimate),
    );
    assert.ok(many.contamination[0]!.acrossSeeds!.std > 0, 'the seeds differ in this data');

    // Every renderer shows the spread beside the numbers.
    const c = many.contamination[0]!.acrossSeeds!;
    const shown = `${(c.mean * 100 >= 0 ? '+' : '') + (c.mean * 100).toFixed(2)} ± ${(c.std * 100).toFixed(2)}`;
    const out = writeReport(many, ['terminal', 'md', 'html'], join(dir, 'many'));
    for (const text of [out.terminal!, readFileSync(join(dir, 'many', 'report.md'), 'utf8')]) {
      assert.ok(text.includes(shown), `${shown} in\n${text}`);
      assert.match(text, /over 3 seeds/);
    }
    assert.ok(readFileSync(join(dir, 'many', 'report.html'), 'utf8').includes(shown));
    const csv = renderResultsCsv(many).split('\n');
    assert.ok(csv.includes(`student,ood-vs-id,contamination_seed_std,${c.std},,,`), csv.join('\n'));
    assert.ok(csv.includes(`student,ood-vs-id,contamination_seed_mean,${c.mean},,,`));
  });

  it('refuses bad seed lists with exit 2 and one line naming the flag or config field', () => {
    const dir = unextractedRunDir();
    const base = ['run', '--teacher', 't.onnx', '--student', 's.onnx', '--train', 'photo', '--ood', 'sketch'];
    const cases: [string[], RegExp][] = [
      [['--test', 'sketch', '--seeds', '0,1'], /^fcprobe: error: --seeds applies to the ID split: give --split too\./],
      [['--split', '0.3', '--seeds', '0,0'], /^fcprobe: error: Expected --seeds to be .*got "0,0"/],
      [['--split', '0.3', '--seeds', '0,1.5'], /^fcprobe: error: Expected --seeds to be .*got "0,1.5"/],
      [['--split', '0.3', '--seeds', '0,1', '--seed', '3'], /^fcprobe: error: Give --seeds or --seed, not both/],
    ];
    for (const [flags, re] of cases) {
      const r = cli([...base, ...flags, '--work', 'w'], dir);
      assert.equal(r.status, 2, `${flags.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr.trim(), re, flags.join(' '));
      assert.equal(existsSync(join(dir, 'w')), false, 'nothing was extracted');
    }
    const config = (extra: object): string => {
      const p = join(dir, `c${Math.random().toString(36).slice(2)}.json`);
      const c = { teacher: 't.onnx', student: 's.onnx', train: 'photo', ood: ['sketch'], workDir: 'w', ...extra };
      writeFileSync(p, JSON.stringify(c));
      return p;
    };
    const fromConfig: [object, RegExp][] = [
      [{ seeds: [1, 1], split: 0.3 }, /^fcprobe: error: Expected config field "seeds" to be an array of distinct/],
      [{ seeds: [0, 0.5], split: 0.3 }, /^fcprobe: error: Expected config field "seeds" to be an array of distinct/],
      [{ seeds: [0, 1], test: ['sketch'] }, /^fcprobe: error: Config field "seeds" applies to the ID split/],
    ];
    for (const [extra, re] of fromConfig) {
      const r = cli(['run', '--config', config(extra)], dir);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr.trim(), re, JSON.stringify(extra));
    }
  });
});
