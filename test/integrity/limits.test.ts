/**
 * Issue 26: counts that multiply resources are capped where options are defined (src/options.ts): a thread
 * count above 1024 or more than 100 seeds is a usage error (exit 2) before anything is loaded or started, on
 * the command line and in a run config. (100,000 threads used to pass, and passed 5 GB of memory.)
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CLI, tempDir } from '../helpers/fixtures.js';

const fcprobe = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
const seeds = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('caps on threads and seeds', () => {
  it('--threads above 1024 is exit 2 in every command that takes it, before the model is even looked at', () => {
    const dir = tempDir('fcprobe-i26-caps-');
    const missing = join(dir, 'missing.onnx');
    const commands = [
      ['extract', '--model', missing, '--data', dir, '--out', join(dir, 'o')],
      ['probe', '--train', join(dir, 'missing'), '--out', join(dir, 'p')],
      ['distill', '--teacher-features', join(dir, 't'), '--student-features', join(dir, 's'), '--out', join(dir, 'd')],
      ['bench', '--model', missing, '--data', dir],
    ];
    for (const args of commands) {
      const r = fcprobe([...args, '--threads', '100000']);
      assert.equal(r.status, 2, `${args[0]}: ${r.stderr}`);
      assert.match(r.stderr, /Expected --threads to be an integer from 1 to 1024, got "100000"/, args[0]);
    }
    // 1024 itself is allowed: the same extract then fails on the missing model (exit 3), not on --threads.
    const ok = fcprobe(['extract', '--model', missing, '--data', dir, '--out', join(dir, 'o'), '--threads', '1024']);
    assert.equal(ok.status, 3, ok.stderr);
  });

  it('more than 100 seeds is exit 2, on the command line and in a run config; 100 are accepted', () => {
    const dir = tempDir('fcprobe-i26-seeds-');
    const r = fcprobe(['run', '--config', join(dir, 'missing.json'), '--seeds', seeds(101).join(',')]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /Expected --seeds to be comma-separated distinct non-negative integers \(at most 100\)/);
    const cfg = (s: number[], threads: number): string => {
      const path = join(dir, `c-${s.length}-${threads}.json`);
      // Complete but for the models, which do not exist: what is checked first decides the error.
      const models = { teacher: join(dir, 't.onnx'), student: join(dir, 's.onnx') };
      writeFileSync(
        path,
        JSON.stringify({ workDir: join(dir, 'w'), ...models, train: dir, split: 0.2, seeds: s, threads }),
      );
      return path;
    };
    const tooMany = fcprobe(['run', '--config', cfg(seeds(101), 4)]);
    assert.equal(tooMany.status, 2, tooMany.stderr);
    assert.match(
      tooMany.stderr,
      /Expected config field "seeds" to be an array of distinct non-negative integers \(at most 100\)/,
    );
    const threads = fcprobe(['run', '--config', cfg(seeds(3), 100000)]);
    assert.equal(threads.status, 2, threads.stderr);
    assert.match(threads.stderr, /Expected config field "threads" to be an integer from 1 to 1024/);
    // 100 seeds and 1024 threads pass the checks: the run then stops on the missing teacher model.
    const hundred = fcprobe(['run', '--config', cfg(seeds(100), 1024)]);
    assert.match(hundred.stderr, /teacher\.path.*does not exist/);
  });
});
