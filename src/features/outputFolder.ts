/**
 * The one way a command that writes results prepares its output folder, so that every command gets the same
 * guarantees (issue 26): the folder is created level by level and checked writable at once (never node's
 * recursive mkdir, which spins forever on /proc and reports a read-only mount as "does not exist"); a folder
 * of extracted features is never written into (results there would be mistaken for, or overwrite, the
 * feature contract's files); one writer at a time (the folder lock); and temporary files that killed
 * processes left behind are removed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { FcprobeError } from '../errors.js';
import { ensureWritableDir, removeDeadTempFiles } from '../io/atomic.js';
import { acquireLock, type FolderLock } from './lock.js';

/** Whether `dir` holds the manifest.json of an extracted feature folder (format fcprobe-features). */
export function isFeatureFolder(dir: string): boolean {
  const path = join(dir, 'manifest.json');
  if (!existsSync(path)) return false;
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as { format?: unknown } | null;
    return v?.format === 'fcprobe-features';
  } catch {
    // Unreadable or not JSON: not something fcprobe wrote, so nothing of ours to protect.
    return false;
  }
}

/**
 * Throws BAD_OPTION (exit 2) naming `flag` when `dir` is, or lies inside, a feature folder: writing results
 * there would mix them with the features (and `extract --force` on that folder would delete them).
 */
export function refuseFeatureFolder(dir: string, flag: string): void {
  let p = resolve(dir);
  for (;;) {
    if (isFeatureFolder(p))
      throw new FcprobeError(
        'BAD_OPTION',
        `Expected ${flag} to be a folder outside extracted features, got ${JSON.stringify(dir)}` +
          `${p === resolve(dir) ? '' : ` (inside ${p})`}, which holds the features of an extract.`,
        'Choose a folder of its own for the results, e.g. next to the feature folder.',
      );
    const up = dirname(p);
    if (up === p) return;
    p = up;
  }
}

/**
 * Prepares `dir` for `command`: refuses a feature folder (`flag` names the option), creates it (IO, exit 6, at
 * once when it cannot be created or written), takes its lock (LOCKED, exit 6, when another process holds it)
 * and removes the temporary files of dead processes. The caller releases the returned lock when done.
 */
export function openOutputFolder(
  dir: string,
  command: string,
  flag: string,
  onNotice?: (message: string) => void,
): FolderLock {
  refuseFeatureFolder(dir, flag);
  ensureWritableDir(dir);
  const lock = acquireLock(resolve(dir), command, onNotice);
  try {
    for (const name of removeDeadTempFiles(dir))
      onNotice?.(`removed ${join(dir, name)}, left by a process that no longer runs`);
  } catch (e) {
    lock.release();
    throw e;
  }
  return lock;
}
