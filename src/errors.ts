/**
 * Every error a user can cause is an FcprobeError: the CLI prints its message (and hint) without a stack
 * trace and exits with its exitCode. Anything else is a bug and keeps its stack.
 */
/**
 * The kind of a user-caused failure; each maps to the CLI's exit code: BAD_OPTION and BAD_CONFIG 2,
 * BAD_DATA and NOT_FOUND 3, BAD_MODEL 4, BAD_FEATURES and MISMATCH 5, IO 6, PROVIDER_UNAVAILABLE 7,
 * INTERRUPTED 130.
 */
export type ErrorCode =
  | 'BAD_OPTION'
  | 'BAD_CONFIG'
  | 'BAD_DATA'
  | 'BAD_MODEL'
  | 'BAD_FEATURES'
  | 'MISMATCH'
  | 'NOT_FOUND'
  | 'IO'
  | 'LOCKED'
  | 'PROVIDER_UNAVAILABLE'
  | 'INTERRUPTED';

const EXIT_CODES: Record<ErrorCode, number> = {
  BAD_OPTION: 2,
  BAD_CONFIG: 2,
  BAD_DATA: 3,
  BAD_MODEL: 4,
  BAD_FEATURES: 5,
  MISMATCH: 5,
  NOT_FOUND: 3,
  IO: 6,
  LOCKED: 6,
  PROVIDER_UNAVAILABLE: 7,
  INTERRUPTED: 130,
};

/**
 * A failure the caller can fix: `message` is one line naming what was expected and what arrived, `hint` (when
 * set) says what to do, `code` the kind and `exitCode` the CLI's exit status for it. Library functions throw
 * only this for bad input, data, models or files; any other error is a bug in fcprobe.
 *
 * @example
 * ```js
 * try {
 *   await extractFeatures({ modelPath: 'missing.onnx', listing, outDir: 'out' });
 * } catch (e) {
 *   if (e instanceof FcprobeError) console.error(`${e.code}: ${e.message}`); // NOT_FOUND: Model file ...
 *   else throw e;
 * }
 * ```
 */
export class FcprobeError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  constructor(code: ErrorCode, message: string, hint?: string) {
    super(message);
    this.name = 'FcprobeError';
    this.code = code;
    this.hint = hint;
  }
  get exitCode(): number {
    return EXIT_CODES[this.code];
  }
}

/** `Expected --crop to be a positive integer, got "abc".` : one shape for every bad argument. */
export function badOption(name: string, expected: string, got: unknown, hint?: string): FcprobeError {
  return new FcprobeError('BAD_OPTION', `Expected ${name} to be ${expected}, got ${JSON.stringify(got)}.`, hint);
}

/** True when `e` is an {@link FcprobeError} (a user-caused failure, not a bug). */
export function isFcprobeError(e: unknown): e is FcprobeError {
  return e instanceof FcprobeError;
}
