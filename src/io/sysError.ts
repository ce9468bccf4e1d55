/**
 * System errors (errno codes from node:fs) turned into user errors with the documented exit codes, naming the
 * path: a full disk or a missing permission is the user's to fix, never a stack trace.
 */
import { FcprobeError, isFcprobeError } from '../errors.js';

/** The errno code of a node:fs error ('ENOSPC', 'EACCES', ...), or undefined for anything else. */
export function errnoCode(e: unknown): string | undefined {
  const c = (e as NodeJS.ErrnoException | null)?.code;
  return typeof c === 'string' ? c : undefined;
}

/**
 * Maps a system error met while doing `what` ("writing", "reading", "creating the folder") on `path` to an
 * FcprobeError: ENOSPC/EDQUOT -> IO (exit 6) "disk full"; EACCES/EPERM/EROFS -> IO (exit 6); ENOENT ->
 * NOT_FOUND (exit 3); other errno codes -> IO. FcprobeErrors pass through; anything that is not a system error
 * is returned unchanged (a bug keeps its stack).
 */
export function fromSystemError(e: unknown, path: string, what: string): unknown {
  if (isFcprobeError(e)) return e;
  const code = errnoCode(e);
  if (code === undefined) return e;
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new FcprobeError(
        'IO',
        `Disk full while ${what} ${path} (${code}).`,
        'Free space on that disk (or choose another output folder); work committed before the error is kept.',
      );
    case 'EACCES':
    case 'EPERM':
      return new FcprobeError('IO', `Permission denied while ${what} ${path} (${code}).`, 'Check its permissions.');
    case 'EROFS':
      return new FcprobeError('IO', `Cannot write ${path}: read-only file system.`);
    case 'ENOENT':
      return new FcprobeError('NOT_FOUND', `${path} does not exist (while ${what} it).`);
    default:
      return new FcprobeError('IO', `I/O error while ${what} ${path}: ${code}.`);
  }
}

/** Runs `fn`, rethrowing system errors as fromSystemError does. */
export function withSystemErrors<T>(path: string, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw fromSystemError(e, path, what);
  }
}
