/**
 * `run --plan`: the planned `extract --shard` jobs, run as separate processes (a simulated Slurm / Kubernetes
 * array), leave shards that a later `run` merges into features byte-identical to an unsharded run.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { mergeFoundShards, planExtractJobs, type ExtractPlan } from '../../src/experiment/plan.js';
import { parseRunConfig } from '../../src/experiment/config.js';
import { CHANNELS, CLI, makeNoiseFolder, tempDir, writeLinearPair } from '../helpers/fixtures.js';

function runCli(args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs `fcprobe <args>` as its own process, like one array task. */
function job(args: string[], cwd: string): Promise<number | null> {
  return new Promise((res) => {
    const p = spawn(process.execPath, [CLI, ...args, '-q'], { cwd, stdio: 'ignore' });
    p.on('exit', (code) => res(code));
  });
}

describe('run --plan (cluster jobs)', () => {
  it('planned shard jobs run as separate processes, then run merges them: features identical to one run', async () => {
    const dir = tempDir();
    for (const [set, seed] of [
      ['train', 4],
      ['test', 3],
      ['ood', 2],
    ] as const)
      await makeNoiseFolder(join(dir, set), ['a', 'b', 'c'], seed, 20);
    writeLinearPair(
      dir,
      CHANNELS,
      [
        [1, 0.5, 0],
        [0, 1, -0.5],
      ],
      16,
    );
    const flags = ['--teacher', 't.onnx', '--student', 's.onnx', '--preset', 'clip', '--train', 'train'];
    flags.push('--test', 'test', '--ood', 'ood', '--batch', '4', '-q');
    const planned = runCli(['run', ...flags, '--work', 'sharded', '--plan', '--shards', '2'], dir);
    assert.equal(planned.status, 0, planned.stderr);
    const plan = JSON.parse(planned.stdout) as ExtractPlan;
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'sharded', 'plan.json'), 'utf8')), plan);
    assert.equal(plan.jobs.length, 2 * 3 * 2, 'models x sets x shards');
    const last = plan.jobs[11]!;
    assert.equal(last.index, 11);
    assert.deepEqual([last.model, last.set, last.shard], ['s', 'ood', { index: 1, count: 2 }]);
    assert.equal(last.out, join(dir, 'sharded', 'features', 's', 'ood', 'shard-1-of-2'));
    assert.match(
      last.command,
      /^fcprobe extract --model \S+s\.onnx --preset clip --data \S+ood --batch 4 --shard 1\/2 --out \S+shard-1-of-2$/,
    );
    // The array: every job its own process, four at a time.
    const codes: (number | null)[] = [];
    for (let i = 0; i < plan.jobs.length; i += 4)
      codes.push(...(await Promise.all(plan.jobs.slice(i, i + 4).map((j) => job(j.args, dir)))));
    assert.deepEqual(codes, new Array(12).fill(0));
    // An unfinished array is refused by name before merging.
    const half = join(dir, 'half', 't', 'train');
    mkdirSync(half, { recursive: true });
    cpSync(join(dir, 'sharded', 'features', 't', 'train', 'shard-0-of-2'), join(half, 'shard-0-of-2'), {
      recursive: true,
    });
    assert.throws(() => mergeFoundShards(half), /shard\(s\) 1\/2 of the cluster plan are not finished/);
    const merged = runCli(['run', ...flags.filter((f) => f !== '-q'), '--work', 'sharded'], dir);
    assert.equal(merged.status, 0, merged.stderr);
    // Each merge names its model and set: six different lines, one per (model, set) pair.
    const said = merged.stderr.match(/merged 2 shard\(s\) of the cluster plan into \S+ \/ \S+/g) ?? [];
    assert.equal(new Set(said).size, 6, merged.stderr);
    assert.doesNotMatch(merged.stderr, /Extracting again|Discarding/);
    const whole = runCli(['run', ...flags, '--work', 'whole'], dir);
    assert.equal(whole.status, 0, whole.stderr);
    // The teacher given by --teacher t.onnx is named after its file, as the student is.
    for (const m of ['t', 's'])
      for (const set of ['train', 'test', 'ood'])
        for (const f of ['features.npy', 'labels.npy'])
          assert.ok(
            readFileSync(join(dir, 'sharded', 'features', m, set, f)).equals(
              readFileSync(join(dir, 'whole', 'features', m, set, f)),
            ),
            `${m}/${set}/${f} identical`,
          );
  });

  it('plans a split run as its whole ID folder, and refuses run-distilled students', () => {
    const dir = tempDir();
    const cfg = parseRunConfig(
      { teacher: 't.onnx', student: 's.onnx', train: 'train', split: 0.3, seeds: [0, 1], ood: ['o'], workDir: 'w' },
      dir,
    );
    const plan = planExtractJobs(cfg, 2);
    // The same folders a split run extracts (test/experiment/seeds.test.ts: features/<model>/<train>/).
    assert.deepEqual(
      plan.jobs.map((j) => j.out),
      ['teacher', 'student'].flatMap((m) =>
        ['train', 'o'].flatMap((set) => [0, 1].map((k) => join(dir, 'w', 'features', m, set, `shard-${k}-of-2`))),
      ),
    );
    assert.ok(plan.jobs.every((j) => !j.args.includes('--split')));
    assert.throws(() => planExtractJobs(cfg, 0), /--shards to be an integer from 1 to 10000, got 0\./);
    const distilled = parseRunConfig(
      {
        teacher: 't.onnx',
        students: [{ name: 'd', distill: { backbone: 'b.onnx' } }],
        train: 'train',
        test: ['t'],
        ood: ['o'],
        workDir: 'w',
      },
      dir,
    );
    assert.throws(() => planExtractJobs(distilled, 2), /cannot plan student "d": run distils it/);
  });
});
