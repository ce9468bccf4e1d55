/** Shared wrapper for command actions: user errors print cleanly with their exit code; bugs keep their stack. */
import { type FcprobeError, isFcprobeError } from '../errors.js';
import { errnoCode, fromSystemError } from '../io/sysError.js';

function printUserError(e: FcprobeError): void {
  process.stderr.write(`\nfcprobe: error: ${e.message}\n`);
  if (e.hint) process.stderr.write(`  hint: ${e.hint}\n`);
  process.exitCode = e.exitCode;
}

/**
 * What reaches the top unhandled: a system error (ENOSPC, EACCES, ... with the path node reports) becomes its
 * documented user error; anything else is a bug, printed as one line asking for a report, exit 1. The stack
 * trace only with --debug.
 */
export function lastResort(e: unknown, debug: boolean): void {
  if (isFcprobeError(e)) {
    printUserError(e);
    return;
  }
  if (errnoCode(e) !== undefined) {
    const mapped = fromSystemError(e, (e as NodeJS.ErrnoException).path ?? '(unknown path)', 'accessing');
    if (isFcprobeError(mapped)) {
      printUserError(mapped);
      if (debug) process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
      return;
    }
  }
  const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  process.stderr.write(
    `\nfcprobe: internal error: ${msg.split('\n')[0]}\n  This is a bug in fcprobe: please report it with the command you ran${debug ? '.' : ' and the output of the same command with --debug.'}\n`,
  );
  if (debug && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  process.exitCode = 1;
  // An uncaught exception leaves node in an undefined state: end now, with the code set above.
  process.exit(1);
}

export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      if (isFcprobeError(e)) {
        printUserError(e);
        return;
      }
      throw e;
    }
  };
}
