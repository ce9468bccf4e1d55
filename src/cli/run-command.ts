/** Shared wrapper for command actions: user errors print cleanly with their exit code; bugs keep their stack. */
import { isFcprobeError } from '../errors.js';

export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      if (isFcprobeError(e)) {
        process.stderr.write(`\nfcprobe: error: ${e.message}\n`);
        if (e.hint) process.stderr.write(`  hint: ${e.hint}\n`);
        process.exitCode = e.exitCode;
        return;
      }
      throw e;
    }
  };
}
