/**
 * Every error a user can cause is an FcprobeError: the CLI prints its message (and hint) without a stack
 * trace and exits with its exitCode. Anything else is a bug and keeps its stack.
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
  PROVIDER_UNAVAILABLE: 7,
  INTERRUPTED: 130,
};

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

export function isFcprobeError(e: unknown): e is FcprobeError {
  return e instanceof FcprobeError;
}
