/**
 * Issue 26, through the CLI: distill takes the folder lock like extract and run; a lock whose pid was reused
 * (a live process that is not the fcprobe that took it, or the new process's own pid) is taken over, one whose
 * holder cannot be confirmed is refused with the way to remove it; temporary files of killed runs are removed;
 * results are never written into a feature folder.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Rng } from '../../src/math/rng.js';
import { writeFeatureDir } from '../helpers/featureDir.js';
import { CLI, tempDir } from '../helpers/fixtures.js';

const LOCK = '.fcprobe.lock';
const linux = existsSync('/proc/self/stat');

/** A teacher/student pair of `n` rows (teacher = a fixed linear map of the student's features). */
function pair(dir: string, n: number, ds = 8, dt = 4): { td: string; sd: string } {
  const rng = new Rng(3);
  const x = new Float32Array(n * ds).map(() => rng.normal());
  const t = new Float32Array(n * dt);
  for (let i = 0; i < n; i++) for (let k = 0; k < dt; k++) t[i * dt + k] = x[i * ds + k]! - 0.5 * x[i * ds + k + 1]!;
  const labels = Array.from({ length: n }, (_, i) => i % 2);
  const classes = ['a', 'b'];
  const sd = writeFeatureDir(join(dir, 'student'), { x, d: ds, labels, classes, model: { sha256: 'b'.repeat(64) } });
  const td = writeFeatureDir(join(dir, 'teacher'), { x: t, d: dt, labels, classes });
  return { td, sd };
}

function distillArgs(td: string, sd: string, out: string, extra: string[] = []): string[] {
  return [CLI, 'distill', '--teacher-features', td, '--student-features', sd, '--threads', '1', '--out', out, ...extra];
}

const exitOf = (c: ChildProcess): Promise<number | null> =>
  new Promise((res) => (c.exitCode !== null ? res(c.exitCode) : c.on('exit', (code) => res(code))));

/** Field 22 of /proc/<pid>/stat read independently of src/io/processInfo.ts (split after the ") "). */
function startTicks(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.split(') ')[1]!.split(' ')[19]!;
}

describe('folder locks and output folders (issue 26)', () => {
  it('two distill runs into one --out: the second fails at once (exit 6), the first ends consistent', async () => {
    const dir = tempDir('fcprobe-i26-distill-');
    const { td, sd } = pair(dir, 3000, 16, 8);
    const out = join(dir, 'out');
    const first = spawn(
      process.execPath,
      // 30 epochs (a few seconds): on an idle machine 3 epochs ended before the second process had started.
      distillArgs(td, sd, out, ['--head', 'mlp', '--hidden', '1024', '--epochs', '30', '--batch', '32', '-q']),
      { stdio: 'ignore' },
    );
    const firstExit = exitOf(first);
    // The lock (or, without one, the first checkpoint) shows the first run is writing into the folder.
    while (!existsSync(join(out, LOCK)) && !existsSync(join(out, 'checkpoint.fcpd')) && first.exitCode === null)
      await new Promise((r) => setTimeout(r, 10));
    assert.equal(first.exitCode, null, 'the first run is still running when the second starts');
    const second = spawnSync(
      process.execPath,
      distillArgs(td, sd, out, ['--head', 'mlp', '--hidden', '512', '--epochs', '1', '-q']),
      { encoding: 'utf8' },
    );
    assert.equal(second.status, 6, second.stderr);
    assert.match(second.stderr, new RegExp(`in use by process ${first.pid} on .*fcprobe distill`));
    assert.doesNotMatch(second.stderr, /\n\s+at /);
    assert.equal(await firstExit, 0);
    const result = JSON.parse(readFileSync(join(out, 'distill.json'), 'utf8'));
    assert.equal(result.settings.head.hidden, 1024);
    const sha = createHash('sha256')
      .update(readFileSync(join(out, 'head.onnx')))
      .digest('hex');
    assert.equal(sha, result.outputs.headSha256, 'head.onnx is the head distill.json describes');
    assert.equal(existsSync(join(out, LOCK)), false, 'the lock is released at the end');
  });

  it('a lock naming a live process that is not fcprobe is taken over (old lock, and pid reused)', {
    skip: !linux && 'needs /proc',
  }, async () => {
    const dir = tempDir('fcprobe-i26-reuse-');
    const { td, sd } = pair(dir, 40);
    const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 50));
      // Old format (no start time): `sleep` is not node, so it cannot be the fcprobe that took the lock.
      const old = join(dir, 'old');
      const oldLock = { pid: sleeper.pid, host: hostname(), startedAt: new Date().toISOString(), command: 'distill' };
      mkdirSync(old);
      writeFileSync(join(old, LOCK), JSON.stringify({ ...oldLock, token: 'old' }));
      const a = spawnSync(process.execPath, distillArgs(td, sd, old, ['--epochs', '1', '-q']), { encoding: 'utf8' });
      assert.equal(a.status, 0, a.stderr);
      assert.match(a.stderr, new RegExp(`Took over the lock .* process ${sleeper.pid} .*no longer runs`));
      // New format, pid 1 alive but started at another time than recorded: the pid was reused.
      const reused = join(dir, 'reused');
      mkdirSync(reused);
      const wrongStart = String(Number(startTicks(1)) + 12345);
      writeFileSync(join(reused, LOCK), JSON.stringify({ ...oldLock, pid: 1, token: 'r', procStart: wrongStart }));
      const b = spawnSync(process.execPath, distillArgs(td, sd, reused, ['--epochs', '1', '-q']), { encoding: 'utf8' });
      assert.equal(b.status, 0, b.stderr);
      assert.match(b.stderr, /Took over the lock .* process 1 .*no longer runs \(pid 1 now belongs to/);
    } finally {
      sleeper.kill();
    }
  });

  it("a lock naming the new process's own pid (as after a container restart) is taken over", {
    skip: !linux && 'needs /proc',
  }, () => {
    const dir = tempDir('fcprobe-i26-self-');
    const { td, sd } = pair(dir, 40);
    const out = join(dir, 'out');
    // The shell writes a lock with its own pid and start time, then execs fcprobe on that same pid (exec keeps
    // both): everything in the lock matches the live process except that this process never took it.
    const script =
      `mkdir -p "$OUT" && printf '{"pid":%s,"host":"%s","startedAt":"%s","command":"distill","token":"t",` +
      `"procStart":"%s"}' $$ "$HOSTNAME_" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" ` +
      `"$(sed 's/.*) //' /proc/$$/stat | cut -d' ' -f20)" > "$OUT/${LOCK}" && exec "$NODE" "$@"`;
    const r = spawnSync('sh', ['-c', script, 'sh', ...distillArgs(td, sd, out, ['--epochs', '1', '-q'])], {
      encoding: 'utf8',
      env: { ...process.env, OUT: out, HOSTNAME_: hostname(), NODE: process.execPath },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /Took over the lock .*no longer runs \(its pid \d+ is now this process's own\)/);
    assert.ok(existsSync(join(out, 'distill.json')));
  });

  it('a live fcprobe holder is refused with "wait"; an unconfirmable one with how to remove the lock', {
    skip: !linux && 'needs /proc',
  }, () => {
    const dir = tempDir('fcprobe-i26-held-');
    const { td, sd } = pair(dir, 40);
    const argv = readFileSync('/proc/self/cmdline', 'utf8').replace(/\0$/, '').split('\0');
    const me = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), command: 'distill' };
    // This test process, recorded with its real start time and command line: a confirmed holder.
    const held = join(dir, 'held');
    mkdirSync(held);
    writeFileSync(join(held, LOCK), JSON.stringify({ ...me, token: 'h', procStart: startTicks(process.pid), argv }));
    const a = spawnSync(process.execPath, distillArgs(td, sd, held, ['--epochs', '1', '-q']), { encoding: 'utf8' });
    assert.equal(a.status, 6, a.stderr);
    assert.match(a.stderr, new RegExp(`in use by process ${process.pid} .*\\n  hint: Wait for it to finish`));
    assert.equal(existsSync(join(held, 'distill.json')), false);
    // The same process in an old lock (no start time): it runs node and started before the lock, so it may be
    // the holder, but nothing confirms it: refused, saying which file to remove.
    const old = join(dir, 'old');
    mkdirSync(old);
    writeFileSync(join(old, LOCK), JSON.stringify({ ...me, token: 'o' }));
    const b = spawnSync(process.execPath, distillArgs(td, sd, old, ['--epochs', '1', '-q']), { encoding: 'utf8' });
    assert.equal(b.status, 6, b.stderr);
    assert.match(b.stderr, new RegExp(`hint: If process ${process.pid} is not an fcprobe .*remove ${join(old, LOCK)}`));
    assert.doesNotMatch(b.stderr, /\n\s+at /);
  });

  it("distill removes a dead run's checkpoint temporary file on start", () => {
    const dir = tempDir('fcprobe-i26-tmp-');
    const { td, sd } = pair(dir, 40);
    const out = join(dir, 'out');
    mkdirSync(out);
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    writeFileSync(join(out, `checkpoint.fcpd.tmp-${dead}`), 'half an epoch');
    const r = spawnSync(process.execPath, distillArgs(td, sd, out, ['--epochs', '1', '-q']), { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readdirSync(out).sort(), ['distill.json', 'head.onnx']);
  });

  it('--out inside a feature folder is refused (exit 2) before anything is written', () => {
    const dir = tempDir('fcprobe-i26-intofeat-');
    const { td, sd } = pair(dir, 40);
    const before = readdirSync(td).sort();
    for (const out of [td, join(td, 'distilled')]) {
      const r = spawnSync(process.execPath, distillArgs(td, sd, out, ['--epochs', '1', '-q']), { encoding: 'utf8' });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /Expected --out to be a folder outside extracted features/);
      assert.deepEqual(readdirSync(td).sort(), before, 'nothing written into the feature folder');
    }
    const sim = spawnSync(process.execPath, [CLI, 'simulate', '--iterations', '10', '-q', '--out', join(sd, 's')], {
      encoding: 'utf8',
    });
    assert.equal(sim.status, 2, sim.stderr);
    assert.equal(existsSync(join(sd, 's')), false);
  });
});
