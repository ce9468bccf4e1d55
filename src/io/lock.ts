/**
 * One writer per output folder. `extract`, `merge`, `probe --out` and `run` (its work folder) take
 * <dir>/.fcprobe.lock before writing anything there; a second process fails at once naming the holder instead
 * of interleaving its rows with the first one's (which published a "finished" folder of 0 rows).
 *
 * The lock file is created complete and atomically (written to a temporary file, then hard-linked to the lock
 * name, which fails if it exists) and holds the owner's pid, host, start time, command and a random token. A
 * lock whose process is gone (same host, pid no longer running: a kill -9, a power cut) is taken over with a
 * notice. A lock from another host is never taken over: fcprobe cannot see that host's processes.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { FcprobeError } from '../errors.js';
import { isProcessAlive } from './atomic.js';
import { errnoCode, fromSystemError } from './sysError.js';

export const LOCK_FILE = '.fcprobe.lock';

export interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
  command: string;
  token: string;
}

export interface FolderLock {
  path: string;
  info: LockInfo;
  /** Removes the lock if it is still this one; safe to call twice. */
  release(): void;
}

function readLock(path: string): LockInfo | null | 'gone' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return 'gone';
    throw fromSystemError(e, path, 'reading the lock');
  }
  try {
    const v = JSON.parse(text) as Partial<LockInfo> | null;
    if (v && Number.isInteger(v.pid) && typeof v.host === 'string' && typeof v.token === 'string') return v as LockInfo;
  } catch {
    // fall through: not a lock fcprobe wrote
  }
  return null;
}

function describe(h: LockInfo): string {
  return `process ${h.pid} on ${h.host} (fcprobe ${h.command}, started ${h.startedAt})`;
}

/**
 * Takes the lock of `dir` (which must exist) for `command`. Throws LOCKED (exit 6) naming the holder when a
 * live process (or any process on another host) holds it; IO when the lock cannot be written. `onNotice` hears
 * about a stale lock taken over.
 */
export function acquireLock(dir: string, command: string, onNotice?: (message: string) => void): FolderLock {
  const path = join(dir, LOCK_FILE);
  const info: LockInfo = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    command,
    token: randomBytes(8).toString('hex'),
  };
  const text = `${JSON.stringify(info)}\n`;
  const tmp = `${path}.tmp-${process.pid}`;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      writeFileSync(tmp, text);
      linkSync(tmp, path);
      rmSync(tmp, { force: true });
      let released = false;
      return {
        path,
        info,
        release: () => {
          if (released) return;
          released = true;
          const now = readLock(path);
          if (now !== 'gone' && now !== null && now.token === info.token) rmSync(path, { force: true });
        },
      };
    } catch (e) {
      rmSync(tmp, { force: true });
      if (errnoCode(e) !== 'EEXIST') throw fromSystemError(e, path, 'creating the lock');
    }
    const holder = readLock(path);
    if (holder === 'gone') continue;
    if (holder === null)
      throw new FcprobeError(
        'LOCKED',
        `${dir} is locked by ${path}, which fcprobe cannot read.`,
        `If no fcprobe process is using ${dir}, remove ${path}.`,
      );
    if (holder.host !== info.host || isProcessAlive(holder.pid)) {
      throw new FcprobeError(
        'LOCKED',
        `${dir} is in use by ${describe(holder)}.`,
        holder.host !== info.host
          ? `Wait for it to finish, or use another folder. If that process no longer runs, remove ${path}.`
          : 'Wait for it to finish, or use another folder.',
      );
    }
    // Stale: move it aside under a name of our own, and check that what we moved is the stale lock we read (a
    // concurrent taker may have replaced it with its own live lock in between: then put that one back).
    const aside = `${path}.stale-${process.pid}`;
    try {
      renameSync(path, aside);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') continue;
      throw fromSystemError(e, path, 'taking over the lock');
    }
    const moved = readLock(aside);
    if (moved !== 'gone' && moved !== null && moved.token !== holder.token) {
      try {
        linkSync(aside, path);
      } catch {
        // someone else holds it now; the next attempt reports them
      }
      rmSync(aside, { force: true });
      continue;
    }
    rmSync(aside, { force: true });
    onNotice?.(`Took over the lock of ${dir} left by ${describe(holder)}, which no longer runs.`);
  }
  throw new FcprobeError('LOCKED', `Could not take the lock of ${dir}: other processes keep taking it.`);
}
