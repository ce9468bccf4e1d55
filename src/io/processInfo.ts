/**
 * What the kernel says about a live process, to tell whether a pid still names the process that wrote a lock
 * (pids are reused: after a container restart the same pid, even our own, belongs to someone else). Linux only
 * (/proc); elsewhere every answer is null ("cannot tell") and callers must not guess.
 */
import { readFileSync } from 'node:fs';

function readProc(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/**
 * The start time of `pid` in clock ticks since boot (field 22 of /proc/<pid>/stat), as a decimal string, or
 * null when it cannot be read. Unchanged by exec, different for every process started later on the same pid.
 */
export function processStartTicks(pid: number): string | null {
  const stat = readProc(`/proc/${pid}/stat`);
  if (stat === null) return null;
  // Field 2 (the command name) is in parentheses and may hold spaces or ')': count fields after the last ')'.
  const close = stat.lastIndexOf(')');
  if (close < 0) return null;
  // After ')' come fields 3, 4, ...; field 22 is the 20th of them.
  const rest = stat.slice(close + 2).split(' ');
  const v = rest[19];
  return v !== undefined && /^\d+$/.test(v) ? v : null;
}

/** The wall-clock start of `pid` in ms since the epoch (boot time + start ticks at 100 Hz), or null. */
export function processStartMs(pid: number): number | null {
  const ticks = processStartTicks(pid);
  const stat = readProc('/proc/stat');
  const btime = stat === null ? null : /^btime (\d+)$/m.exec(stat);
  if (ticks === null || !btime) return null;
  // USER_HZ is 100 on every Linux architecture node supports (it is fixed in the kernel ABI).
  return Number(btime[1]) * 1000 + Number(ticks) * 10;
}

/** The command line of `pid` (argv as the kernel keeps it), or null when it cannot be read. */
export function processCmdline(pid: number): string[] | null {
  const raw = readProc(`/proc/${pid}/cmdline`);
  if (raw === null || raw === '') return null;
  return raw.replace(/\0$/, '').split('\0');
}

/** This boot's random id (/proc/sys/kernel/random/boot_id), or null: start ticks restart at every boot. */
export function bootId(): string | null {
  return readProc('/proc/sys/kernel/random/boot_id')?.trim() || null;
}
