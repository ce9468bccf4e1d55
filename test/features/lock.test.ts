/** The folder lock: exclusive, named holder, stale locks of dead processes taken over, release idempotent. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { acquireLock, LOCK_FILE } from '../../src/features/lock.js';
import { FcprobeError } from '../../src/errors.js';
import { tempDir } from '../helpers/fixtures.js';

/** The pid of a process that has exited (spawnSync waits for it). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

describe('acquireLock', () => {
  it('a second holder fails at once, naming the first (pid, host, command)', () => {
    const dir = tempDir('fcprobe-lock-');
    const a = acquireLock(dir, 'extract');
    assert.throws(
      () => acquireLock(dir, 'merge'),
      (e: unknown) =>
        e instanceof FcprobeError &&
        e.code === 'LOCKED' &&
        e.exitCode === 6 &&
        e.message.includes(`process ${process.pid} on ${hostname()} (fcprobe extract`),
    );
    a.release();
    assert.equal(existsSync(join(dir, LOCK_FILE)), false);
    const b = acquireLock(dir, 'merge');
    a.release(); // a second release of an old lock must not remove the new holder's
    assert.equal(existsSync(join(dir, LOCK_FILE)), true);
    b.release();
  });

  it('takes over the lock of a process that no longer runs, with a notice', () => {
    const dir = tempDir('fcprobe-lock-');
    const pid = deadPid();
    const stale = { pid, host: hostname(), startedAt: '2020-01-01T00:00:00.000Z', command: 'extract', token: 'x' };
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify(stale));
    const notices: string[] = [];
    const l = acquireLock(dir, 'extract', (m) => notices.push(m));
    assert.equal(notices.length, 1);
    assert.match(notices[0]!, new RegExp(`Took over the lock .* process ${pid} .*no longer runs`));
    assert.equal(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid, process.pid);
    l.release();
  });

  it('never takes over a lock of another host', () => {
    const dir = tempDir('fcprobe-lock-');
    const other = { pid: deadPid(), host: `${hostname()}-elsewhere`, startedAt: 'x', command: 'run', token: 'y' };
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify(other));
    assert.throws(() => acquireLock(dir, 'extract'), /in use by process .* on .*-elsewhere/);
  });
});
