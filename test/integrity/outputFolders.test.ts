/**
 * Issue 26, through the CLI: an output folder that cannot be created (/proc, a read-only mount) fails at once
 * with exit 6 in every command that creates one (it used to spin forever, or say "does not exist", exit 3);
 * `datasets check` does not hang on a FIFO named like an image; the benchmark suite reports bad arguments and a
 * bad --out like any command (one line, exit code, no stack trace) and before measuring anything.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { writeResults } from '../../src/experiment/results.js';
import { Rng } from '../../src/math/rng.js';
import { writeFeatureDir } from '../helpers/featureDir.js';
import { CLI, tempDir, writeNoiseImage } from '../helpers/fixtures.js';
import { sampleResults } from '../report/fixtures.js';

const hasProc = existsSync('/proc/self');
/** Generous: a working command ends in a few seconds; the old behaviour never ended. */
const LIMIT_MS = 60_000;
const NO_STACK = /\n\s+at /;

function fcprobe(args: string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    timeout: LIMIT_MS,
    // SIGKILL: the old distill, spinning in mkdir, never ran its SIGTERM handler.
    killSignal: 'SIGKILL',
    env: { ...process.env, ...env },
  });
}

function featurePair(dir: string): { td: string; sd: string } {
  const rng = new Rng(1);
  const x = new Float32Array(20 * 4).map(() => rng.normal());
  const labels = Array.from({ length: 20 }, (_, i) => i % 2);
  const sd = writeFeatureDir(join(dir, 's'), {
    x,
    d: 4,
    labels,
    classes: ['a', 'b'],
    model: { sha256: 'b'.repeat(64) },
  });
  const td = writeFeatureDir(join(dir, 't'), { x, d: 4, labels, classes: ['a', 'b'] });
  return { td, sd };
}

/** Whether this machine lets a test mount a read-only tmpfs in its own mount namespace (root, util-linux). */
function canMountReadOnly(): boolean {
  const probe = tempDir('fcprobe-ro-probe-');
  const r = spawnSync('unshare', ['-m', 'sh', '-c', `mount -t tmpfs -o ro tmpfs ${probe} && touch ${probe}/x`], {
    encoding: 'utf8',
  });
  return r.status !== null && r.status !== 0 && /Read-only/i.test(r.stderr);
}

describe('output folders that cannot be created, special files, the benchmark suite (issue 26)', () => {
  it('--out under /proc: distill, simulate, compare, the bench suite (and its cache) fail at once, exit 6', {
    skip: !hasProc && 'no /proc here',
  }, () => {
    const dir = tempDir('fcprobe-i26-proc-');
    const { td, sd } = featurePair(dir);
    for (const w of ['a', 'b']) mkdirSync(join(dir, w));
    writeResults(join(dir, 'a'), sampleResults());
    writeResults(join(dir, 'b'), sampleResults());
    const out = '/proc/fcprobe-i26/out';
    const runs: [string, SpawnSyncReturns<string>][] = [
      ['distill', fcprobe(['distill', '--teacher-features', td, '--student-features', sd, '--out', out, '-q'])],
      ['simulate', fcprobe(['simulate', '--iterations', '10', '--out', out, '-q'])],
      ['compare', fcprobe(['compare', join(dir, 'a'), join(dir, 'b'), '--out', out])],
      ['bench', fcprobe(['bench', '--only', 'gemm', '--out', `${out}/`])],
      // The suite's own model cache, which it creates before building its models.
      [
        'bench cache',
        fcprobe(['bench', '--only', 'ceiling', '--quick', '--out', `${dir}/`], { FCPROBE_BENCH_CACHE: out }),
      ],
    ];
    for (const [name, r] of runs) {
      assert.equal(r.status, 6, `${name}: ${r.error ?? ''} ${r.stderr}`);
      assert.match(r.stderr, /fcprobe: error: Cannot write to output directory \/proc\/fcprobe-i26\/out/, name);
      assert.doesNotMatch(r.stderr, NO_STACK, name);
    }
    assert.doesNotMatch(runs[3]![1].stderr, /GEMM rate/, 'the suite stops before measuring');
  });

  it('models pull with FCPROBE_CACHE under /proc: exit 6 naming the cache, before any transfer', {
    skip: !hasProc && 'no /proc here',
  }, () => {
    // Port 9 (discard) on 127.0.0.1: nothing listens; the cache must fail before any connection is tried.
    const r = fcprobe(['models', 'pull', 'hf:someone/encoder/model.onnx'], {
      FCPROBE_CACHE: '/proc/fcprobe-i26-cache',
      HF_ENDPOINT: 'http://127.0.0.1:9',
    });
    assert.equal(r.status, 6, `${r.error ?? ''} ${r.stderr}`);
    assert.match(r.stderr, /Cannot write to output directory \/proc\/fcprobe-i26-cache/);
    assert.doesNotMatch(r.stderr, /127\.0\.0\.1/, 'no transfer was tried');
  });

  it('--out on a read-only mount: exit 6 naming EROFS, not "does not exist" (exit 3)', {
    skip: !canMountReadOnly() && 'cannot mount a read-only tmpfs here (needs root and unshare)',
  }, () => {
    const dir = tempDir('fcprobe-i26-ro-');
    const ro = join(dir, 'ro');
    mkdirSync(ro);
    const { td, sd } = featurePair(dir);
    const commands = [
      ['distill', '--teacher-features', td, '--student-features', sd, '--out', `${ro}/a/b`, '-q'],
      ['simulate', '--iterations', '10', '--out', `${ro}/a/b`, '-q'],
    ];
    for (const args of commands) {
      const r = spawnSync(
        'unshare',
        ['-m', 'sh', '-c', `mount -t tmpfs -o ro tmpfs "${ro}" && exec "$0" "$@"`, process.execPath, CLI, ...args],
        { encoding: 'utf8', timeout: LIMIT_MS },
      );
      assert.equal(r.status, 6, `${args[0]}: ${r.stderr}`);
      assert.match(r.stderr, /read-only file system \(EROFS\)/, args[0]);
    }
  });

  it('datasets check with a FIFO named like an image: reported, never opened (no hang)', {
    skip: !existsSync('/usr/bin/mkfifo') && 'needs mkfifo',
  }, async () => {
    const root = tempDir('fcprobe-i26-fifo-');
    const cls = join(root, 'imagenet', 'val', 'n01440764');
    mkdirSync(cls, { recursive: true });
    await writeNoiseImage(join(cls, 'good.png'), 1, 16, 16);
    execFileSync('/usr/bin/mkfifo', [join(cls, 'a.JPEG')]);
    const r = fcprobe(['datasets', 'check', '--data-root', root, '--json']);
    assert.equal(r.error, undefined, 'it ended by itself');
    assert.equal(r.status, 3, r.stderr);
    const val = JSON.parse(r.stdout).sets.find((s: { id: string }) => s.id === 'imagenet-val');
    assert.equal(val.images, 2);
    assert.deepEqual(
      val.unreadable.map((u: { file: string; reason: string }) => [
        u.file,
        /not a regular file \(a FIFO\)/.test(u.reason),
      ]),
      [['n01440764/a.JPEG', true]],
    );
  });

  it('bench suite: an unknown part is a usage error (exit 2); --out <file>/ fails before measuring', () => {
    const dir = tempDir('fcprobe-i26-bench-');
    const bogus = fcprobe(['bench', '--only', 'bogus']);
    assert.equal(bogus.status, 2, bogus.stderr);
    assert.match(bogus.stderr, /fcprobe: error: Expected --only to be a comma-separated list of parts .*"bogus"/);
    assert.doesNotMatch(bogus.stderr, NO_STACK);
    const file = join(dir, 'results.json');
    writeFileSync(file, '{}');
    const r = fcprobe(['bench', '--only', 'gemm', '--out', `${file}/`]);
    assert.equal(r.status, 6, r.stderr);
    assert.match(r.stderr, /is not a folder/);
    assert.doesNotMatch(r.stderr, /GEMM rate/, 'nothing was measured');
    assert.doesNotMatch(r.stderr, NO_STACK);
  });

  it('SIGTERM to `fcprobe bench` stops the suite it runs, not only fcprobe', {
    skip: !hasProc && 'needs /proc to find the child',
  }, async () => {
    const dir = tempDir('fcprobe-i26-sig-');
    const parent = spawn(process.execPath, [CLI, 'bench', '--only', 'gemm', '--out', `${dir}/`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const exited = new Promise<number | null>((res) =>
      parent.on('exit', (code, signal) => res(code ?? (signal ? -1 : null))),
    );
    let err = '';
    parent.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    // The suite is measuring once it says so.
    while (!/GEMM rate/.test(err) && parent.exitCode === null) await new Promise((r) => setTimeout(r, 20));
    const children = readFileSync(`/proc/${parent.pid}/task/${parent.pid}/children`, 'utf8').trim().split(/\s+/);
    assert.equal(children.length, 1, `one child, the suite: ${children.join(' ')}`);
    const suite = Number(children[0]);
    parent.kill('SIGTERM');
    const code = await exited;
    const suiteAlive =
      existsSync(`/proc/${suite}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${suite}/status`, 'utf8'));
    if (suiteAlive) process.kill(suite, 'SIGKILL');
    assert.equal(suiteAlive, false, 'the suite ended with fcprobe');
    assert.equal(code, 143, err);
  });
});
