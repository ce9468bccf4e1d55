/**
 * One writer per output folder. `extract`, `merge`, `probe --out`, `distill`, `simulate`, `compare` and `run`
 * (its work folder) take <dir>/.fcprobe.lock before writing anything there; a second process fails at once
 * naming the holder instead of interleaving its rows with the first one's (which published a "finished" folder
 * of 0 rows).
 *
 * The lock file is created complete and atomically (written to a temporary file, then hard-linked to the lock
 * name, which fails if it exists) and holds the owner's pid, host, start time, command and a random token, and
 * (Linux) the kernel's start time of that pid, the boot id and the command line. Pids are reused (a container
 * restart hands the same pids out again, our own included), so a live pid alone does not prove the holder
 * runs. On the same host the lock is taken over, with a notice, when its holder is shown gone: the pid does not
 * run, or it is this very process (which does not hold it), or the live process on that pid started at another
 * time, boot or command line than the one recorded. A lock whose holder can neither be confirmed nor ruled out
 * (an old lock without these fields, no /proc) is refused with the way to remove it. A lock from another host
 * is never taken over: fcprobe cannot see that host's processes.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { FcprobeError } from '../errors.js';
import { isProcessAlive } from './atomic.js';
import { bootId, processCmdline, processStartMs, processStartTicks } from './processInfo.js';
import { errnoCode, fromSystemError } from './sysError.js';

export const LOCK_FILE = '.fcprobe.lock';

export interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
  command: string;
  token: string;
  /** The holder's start in clock ticks since boot (/proc/<pid>/stat field 22); absent in older lock files. */
  procStart?: string;
  /** The boot the ticks count from (/proc/sys/kernel/random/boot_id). */
  bootId?: string;
  /** The holder's command line as the kernel keeps it (/proc/<pid>/cmdline). */
  argv?: string[];
}

/** Tokens of the locks this process holds: a lock naming our own pid is ours only if its token is here. */
const heldTokens = new Set<string>();

type Verdict = { kind: 'held' } | { kind: 'gone'; why: string } | { kind: 'unconfirmed'; why: string };

/** Tolerance when comparing a process start with a lock's startedAt (btime has 1 s resolution; clock skew). */
const START_SLACK_MS = 2000;

/** Whether the holder named by a lock of this host still runs; see the header for the rule. */
function judge(h: LockInfo): Verdict {
  if (h.pid === process.pid)
    return heldTokens.has(h.token)
      ? { kind: 'held' }
      : { kind: 'gone', why: `its pid ${h.pid} is now this process's own` };
  if (!isProcessAlive(h.pid)) return { kind: 'gone', why: `process ${h.pid} no longer exists` };
  const liveArgv = processCmdline(h.pid);
  if (h.procStart !== undefined) {
    const here = bootId();
    if (h.bootId !== undefined && here !== null && h.bootId !== here)
      return { kind: 'gone', why: 'it was taken before the machine restarted' };
    const start = processStartTicks(h.pid);
    if (start === null) return { kind: 'unconfirmed', why: `the start time of process ${h.pid} cannot be read` };
    if (start !== h.procStart) return { kind: 'gone', why: `pid ${h.pid} now belongs to a process started later` };
    if (h.argv !== undefined && liveArgv !== null && liveArgv.join('\0') !== h.argv.join('\0'))
      return { kind: 'gone', why: `pid ${h.pid} now runs another command (${liveArgv.join(' ').slice(0, 80)})` };
    return { kind: 'held' };
  }
  // A lock written before start times were recorded: rule out what can be ruled out, confirm nothing.
  const startMs = processStartMs(h.pid);
  const lockMs = Date.parse(h.startedAt);
  if (startMs !== null && Number.isFinite(lockMs) && startMs > lockMs + START_SLACK_MS)
    return { kind: 'gone', why: `process ${h.pid} started after the lock was taken` };
  // fcprobe always runs in node (its argv[0] is node, or the fcprobe launcher).
  if (liveArgv !== null && !liveArgv.slice(0, 2).some((a) => /node|fcprobe/.test(basename(a))))
    return { kind: 'gone', why: `process ${h.pid} is not fcprobe (${liveArgv.join(' ').slice(0, 80)})` };
  return { kind: 'unconfirmed', why: 'the lock comes from an older fcprobe that did not record its start time' };
}

/** This process's identity as the kernel reports it, for the lock (absent fields where /proc is missing). */
function selfIdentity(): Pick<LockInfo, 'procStart' | 'bootId' | 'argv'> {
  const procStart = processStartTicks(process.pid);
  const boot = bootId();
  const argv = processCmdline(process.pid);
  return {
    ...(procStart !== null ? { procStart } : {}),
    ...(boot !== null ? { bootId: boot } : {}),
    ...(argv !== null ? { argv } : {}),
  };
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
    if (v && Number.isInteger(v.pid) && typeof v.host === 'string' && typeof v.token === 'string') {
      // Optional fields of a wrong type (a hand-edited file) are dropped: the lock is then judged as an old one.
      const { procStart, bootId: boot, argv, ...base } = v as LockInfo;
      return {
        ...base,
        startedAt: typeof base.startedAt === 'string' ? base.startedAt : '?',
        command: typeof base.command === 'string' ? base.command : '?',
        ...(typeof procStart === 'string' ? { procStart } : {}),
        ...(typeof boot === 'string' ? { bootId: boot } : {}),
        ...(Array.isArray(argv) && argv.every((a) => typeof a === 'string') ? { argv } : {}),
      };
    }
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
    ...selfIdentity(),
  };
  const text = `${JSON.stringify(info)}\n`;
  const tmp = `${path}.tmp-${process.pid}`;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      writeFileSync(tmp, text);
      linkSync(tmp, path);
      rmSync(tmp, { force: true });
      heldTokens.add(info.token);
      let released = false;
      return {
        path,
        info,
        release: () => {
          if (released) return;
          released = true;
          heldTokens.delete(info.token);
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
    if (holder.host !== info.host)
      throw new FcprobeError(
        'LOCKED',
        `${dir} is in use by ${describe(holder)}.`,
        `Wait for it to finish, or use another folder. If that process no longer runs, remove ${path}.`,
      );
    const verdict = judge(holder);
    if (verdict.kind === 'held')
      throw new FcprobeError(
        'LOCKED',
        `${dir} is in use by ${describe(holder)}.`,
        'Wait for it to finish, or use another folder.',
      );
    if (verdict.kind === 'unconfirmed')
      throw new FcprobeError(
        'LOCKED',
        `${dir} is locked by ${describe(holder)}, which may still run: ${verdict.why}.`,
        `If process ${holder.pid} is not an fcprobe writing to ${dir}, remove ${path} and rerun; ` +
          'otherwise wait for it to finish, or use another folder.',
      );
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
    onNotice?.(`Took over the lock of ${dir} left by ${describe(holder)}, which no longer runs (${verdict.why}).`);
  }
  throw new FcprobeError('LOCKED', `Could not take the lock of ${dir}: other processes keep taking it.`);
}
