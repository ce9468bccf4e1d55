import {
  accessSync,
  closeSync,
  constants,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  type Stats,
  statSync,
  writeSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { FcprobeError } from '../errors.js';

const TMP_SUFFIX = /\.tmp-(\d+)$/;

/**
 * Writes a file so that readers see either the old content or the complete new one: the bytes go to
 * `<path>.tmp-<pid>`, are fsync'ed, and the temporary file is renamed over `path` (then the folder is synced so
 * the rename itself survives a power cut). A failed write removes its temporary file. Throws node's system
 * errors (ENOSPC, EACCES, ...) unchanged; callers name the file (io/sysError.ts).
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  let closed = false;
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
    closed = true;
    closeSync(fd);
    renameSync(tmp, path);
  } catch (e) {
    if (!closed) closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  syncDir(dirname(path));
}

/** fsync of a folder, so that renames and creations in it are durable; best effort (not every fs allows it). */
export function syncDir(dir: string): void {
  let fd: number | null = null;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on a folder; the rename is still atomic there.
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/** Whether a process with this id runs on this machine (EPERM: it exists but belongs to another user). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes `*.tmp-<pid>` files left in `dir` by writeFileAtomic in processes that no longer run (killed between
 * the write and the rename). Returns the names removed. A missing folder is not an error.
 */
export function removeDeadTempFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TMP_SUFFIX.exec(name);
    if (!m || isProcessAlive(Number(m[1]))) continue;
    rmSync(join(dir, name), { force: true, recursive: true });
    removed.push(name);
  }
  return removed;
}

/**
 * Creates `dir` and its missing parents one level at a time (no recursive mkdir: on some special file systems,
 * /proc for one, node's recursive mkdir retries forever; on a read-only mount it reports ENOENT), then checks it
 * is a writable folder. Throws IO (exit 6) naming the folder, and EROFS by name, at once when it cannot be
 * created or written. Every folder fcprobe creates goes through here (see features/outputFolder.ts).
 */
export function ensureWritableDir(dir: string): void {
  const missing: string[] = [];
  let p = resolve(dir);
  for (;;) {
    let st: Stats | undefined;
    try {
      st = statSync(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && (e as NodeJS.ErrnoException).code !== 'ENOTDIR')
        throw cannotCreate(dir, e);
    }
    if (st) {
      if (!st.isDirectory())
        throw new FcprobeError('IO', `Cannot write to output directory ${dir}: ${p} is not a folder.`);
      break;
    }
    missing.push(p);
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  for (const m of missing.reverse()) {
    try {
      mkdirSync(m);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw cannotCreate(dir, e);
    }
  }
  try {
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw cannotCreate(dir, e);
  }
}

function cannotCreate(dir: string, e: unknown): FcprobeError {
  const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  if (code === 'ENOSPC')
    return new FcprobeError(
      'IO',
      `Cannot write to output directory ${dir}: disk full (ENOSPC).`,
      'Free space on that disk.',
    );
  if (code === 'EROFS')
    return new FcprobeError(
      'IO',
      `Cannot write to output directory ${dir}: read-only file system (EROFS).`,
      'Choose a folder on a writable disk.',
    );
  if (code === 'EACCES' || code === 'EPERM')
    return new FcprobeError('IO', `Cannot write to output directory ${dir}: permission denied (${code}).`);
  // ENOENT here is a parent that exists but refuses new entries (/proc, /sys): still the folder's fault, not a
  // missing input, so IO (exit 6) and never NOT_FOUND.
  return new FcprobeError('IO', `Cannot write to output directory ${dir} (${code}).`);
}
