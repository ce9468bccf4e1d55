/**
 * Every check of fcprobe in one module (as sharp's lib/is.js and scikit-learn's `_parameter_constraints`).
 * A check is data (`Check`), so one declaration parses a command-line string, checks a value handed to the
 * library or read from a config file, and becomes a JSON-schema property. The option tables that use them (one
 * per command, with each option's flag, help text, check and default) are in src/options.ts; the commander
 * options (src/cli/run-command.ts), the library defaults and schema/experiment.schema.json
 * (src/experiment/schema.ts) are built from those tables. See docs/options.md.
 *
 * Every failure has one shape: `Expected --crop to be a positive integer, got "abc".`, naming the flag for
 * options and the field (`config field "teacher.crop"`) for config files.
 */
import { badOption, FcprobeError } from './errors.js';

// ---------------------------------------------------------------------------------------------------------
// Checks.

/** A constraint on one value; `describe` turns it into the "expected" part of a message. */
export type Check =
  | { readonly kind: 'int'; readonly min: number; readonly max?: number }
  | {
      readonly kind: 'number';
      readonly min?: number;
      readonly minExclusive?: boolean;
      readonly max?: number;
      readonly maxExclusive?: boolean;
    }
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  /** Three finite numbers: "r,g,b" on the command line, [r, g, b] in a config. */
  | { readonly kind: 'triple'; readonly example: string }
  /** Comma-separated on the command line, an array in a config. */
  | {
      readonly kind: 'list';
      readonly of: Check;
      readonly example: string;
      readonly unique?: boolean;
      /** Most items: a list that would multiply the work without bound (--seeds) is capped. */
      readonly maxItems?: number;
    }
  /** "k/n" with 0 <= k < n, parsed into { index: k, count: n }. */
  | { readonly kind: 'shard' }
  /** A byte count: an integer, or a number with K, M, G or T (binary; optional "iB"/"B"), e.g. "512M". */
  | { readonly kind: 'bytes' }
  | { readonly kind: 'string' }
  | { readonly kind: 'boolean' };

/** The checks by name, e.g. `is.positiveInt`, `is.oneOf(PRESET_NAMES)`. */
export const is = {
  positiveInt: { kind: 'int', min: 1 },
  nonNegativeInt: { kind: 'int', min: 0 },
  intAtLeast: (min: number): Check => ({ kind: 'int', min }),
  intBetween: (min: number, max: number): Check => ({ kind: 'int', min, max }),
  number: { kind: 'number' },
  positiveNumber: { kind: 'number', min: 0, minExclusive: true },
  nonNegativeNumber: { kind: 'number', min: 0 },
  /** Strictly between 0 and 1. */
  fraction: { kind: 'number', min: 0, minExclusive: true, max: 1, maxExclusive: true },
  /** In [0, 1). */
  unitInterval: { kind: 'number', min: 0, max: 1, maxExclusive: true },
  oneOf: (values: readonly string[]): Check => ({ kind: 'enum', values }),
  triple: (example: string): Check => ({ kind: 'triple', example }),
  listOf: (of: Check, example: string, unique = false, maxItems?: number): Check => ({
    kind: 'list',
    of,
    example,
    unique,
    ...(maxItems !== undefined ? { maxItems } : {}),
  }),
  shard: { kind: 'shard' },
  bytes: { kind: 'bytes' },
  string: { kind: 'string' },
  boolean: { kind: 'boolean' },
} as const satisfies Record<string, Check | ((...a: never[]) => Check)>;

/**
 * What a check expects, in words; `form` 'text' for a command-line string, 'value' for a JSON/JS value;
 * `quote` shows choices as JSON strings (for config files).
 */
export function describe(c: Check, form: 'text' | 'value' = 'value', { quote = false } = {}): string {
  switch (c.kind) {
    case 'int':
      if (c.max !== undefined) return `an integer from ${c.min} to ${c.max}`;
      return c.min === 0 ? 'a non-negative integer' : c.min === 1 ? 'a positive integer' : `an integer >= ${c.min}`;
    case 'number': {
      if (c.max === undefined) {
        if (c.min === undefined) return 'a number';
        if (c.min === 0) return c.minExclusive ? 'a positive number' : 'a non-negative number';
        return `a number ${c.minExclusive ? '>' : '>='} ${c.min}`;
      }
      if (c.min === 0 && c.minExclusive && c.max === 1 && c.maxExclusive) return 'a fraction strictly between 0 and 1';
      return (
        `a number in ${c.minExclusive || c.min === undefined ? '(' : '['}${c.min ?? '-inf'}, ` +
        `${c.max}${c.maxExclusive ? ')' : ']'}`
      );
    }
    case 'enum':
      return `one of ${(quote ? c.values.map((v) => JSON.stringify(v)) : c.values).join(', ')}`;
    case 'triple':
      return form === 'text' ? `three comma-separated numbers, e.g. ${c.example}` : 'an array of three numbers';
    case 'list': {
      const each = `${c.unique ? 'distinct ' : ''}${describe(c.of, form).replace(/^an? /, '')}s`;
      const most = c.maxItems !== undefined ? ` (at most ${c.maxItems})` : '';
      return form === 'text' ? `comma-separated ${each}${most}, e.g. ${c.example}` : `an array of ${each}${most}`;
    }
    case 'shard':
      return 'k/n with 0 <= k < n, e.g. 0/4 (0-based, as SLURM_ARRAY_TASK_ID and JOB_COMPLETION_INDEX)';
    case 'bytes':
      return form === 'text' ? 'a size of at least 1 byte, such as 512M or 4G' : 'a positive whole number of bytes';
    case 'string':
      return 'a non-empty string';
    case 'boolean':
      return 'true or false';
  }
}

/** Whether `v` satisfies `c` (a value, not a command-line string). */
export function satisfies(c: Check, v: unknown): boolean {
  switch (c.kind) {
    case 'int':
      return typeof v === 'number' && Number.isInteger(v) && v >= c.min && (c.max === undefined || v <= c.max);
    case 'number':
      return (
        typeof v === 'number' &&
        Number.isFinite(v) &&
        (c.min === undefined || (c.minExclusive ? v > c.min : v >= c.min)) &&
        (c.max === undefined || (c.maxExclusive ? v < c.max : v <= c.max))
      );
    case 'enum':
      return typeof v === 'string' && c.values.includes(v);
    case 'triple':
      return Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x));
    case 'list':
      return (
        Array.isArray(v) &&
        v.length > 0 &&
        (c.maxItems === undefined || v.length <= c.maxItems) &&
        v.every((x) => satisfies(c.of, x)) &&
        (!c.unique || new Set(v).size === v.length)
      );
    case 'shard': {
      const s = v as { index?: unknown; count?: unknown } | null;
      return (
        typeof s === 'object' &&
        s !== null &&
        satisfies(is.nonNegativeInt, s.index) &&
        satisfies(is.positiveInt, s.count) &&
        (s.index as number) < (s.count as number)
      );
    }
    case 'bytes':
      return typeof v === 'number' && Number.isInteger(v) && v >= 1;
    case 'string':
      return typeof v === 'string' && v.length > 0;
    case 'boolean':
      return typeof v === 'boolean';
  }
}

/**
 * The error of every bad value: `Expected <name> to be <expected>, got <what arrived>.` `name` is a flag
 * (`--crop`, exit code 2 as BAD_OPTION) or, with `config`, a config field (`teacher.crop`, BAD_CONFIG).
 */
export function invalid(
  name: string,
  expected: string,
  got: unknown,
  options: { config?: boolean; hint?: string } = {},
): FcprobeError {
  if (!options.config) return badOption(name, expected, got, options.hint);
  const shown = got === undefined ? 'nothing' : JSON.stringify(got);
  return new FcprobeError(
    'BAD_CONFIG',
    `Expected ${name} to be ${expected}, got ${shown.length > 80 ? `${shown.slice(0, 77)}...` : shown}.`,
    options.hint,
  );
}

/**
 * Checks a value (from the library's caller or a parsed config) and returns it.
 * @throws FcprobeError BAD_OPTION (BAD_CONFIG with `config`) naming `name` when `v` does not satisfy `c`.
 * @example checkValue('--batch', is.positiveInt, 0) // throws: Expected --batch to be a positive integer, got 0.
 */
export function checkValue<T>(name: string, c: Check, v: T, options: { config?: boolean } = {}): T {
  if (!satisfies(c, v)) throw invalid(name, describe(c, 'value'), v, options);
  return v;
}

/** Parses a command-line string for `c`; undefined when it is not one. */
function parseText(c: Check, text: string): unknown {
  const t = text.trim();
  switch (c.kind) {
    case 'int':
      return /^\d+$/.test(t) ? Number(t) : undefined;
    case 'number':
      return t === '' ? undefined : Number(t);
    case 'triple':
      return t.split(',').map((s) => (s.trim() === '' ? Number.NaN : Number(s)));
    case 'list':
      return t.split(',').map((s) => parseText(c.of, s));
    case 'shard': {
      const m = /^(\d+)\/(\d+)$/.exec(t);
      return m ? { index: Number(m[1]), count: Number(m[2]) } : undefined;
    }
    case 'bytes': {
      const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(t);
      if (!m) return undefined;
      const unit = ['', 'K', 'M', 'G', 'T'].indexOf(m[2]!.toUpperCase());
      return Math.floor(Number(m[1]) * 1024 ** unit);
    }
    case 'boolean':
      return t === 'true' ? true : t === 'false' ? false : undefined;
    default:
      return text;
  }
}

/**
 * Parses the command-line string of flag `name` into the value `c` describes.
 * @throws FcprobeError BAD_OPTION: `Expected --crop to be a positive integer, got "abc".`
 * @example parseArg('--mean', is.triple('0.5,0.5,0.5'), '0.5,0.5,0.5') // [0.5, 0.5, 0.5]
 */
export function parseArg(name: string, c: Check, text: string): unknown {
  const v = parseText(c, text);
  if (!satisfies(c, v)) throw invalid(name, describe(c, 'text'), text);
  return v;
}

/** The JSON-schema (draft 2020-12) form of a check, for a config value. */
export function jsonSchemaOf(c: Check): Record<string, unknown> {
  switch (c.kind) {
    case 'int':
      return { type: 'integer', minimum: c.min, ...(c.max !== undefined ? { maximum: c.max } : {}) };
    case 'number': {
      const p: Record<string, unknown> = { type: 'number' };
      if (c.min !== undefined) p[c.minExclusive ? 'exclusiveMinimum' : 'minimum'] = c.min;
      if (c.max !== undefined) p[c.maxExclusive ? 'exclusiveMaximum' : 'maximum'] = c.max;
      return p;
    }
    case 'enum':
      return { enum: [...c.values] };
    case 'triple':
      return { type: 'array', items: { type: 'number' }, minItems: 3, maxItems: 3 };
    case 'list':
      return {
        type: 'array',
        items: jsonSchemaOf(c.of),
        minItems: 1,
        ...(c.maxItems !== undefined ? { maxItems: c.maxItems } : {}),
        ...(c.unique ? { uniqueItems: true } : {}),
      };
    case 'bytes':
      return { type: 'integer', minimum: 1 };
    case 'shard':
      return { type: 'string', pattern: '^\\d+/\\d+$' };
    case 'string':
      return { type: 'string', minLength: 1 };
    case 'boolean':
      return { type: 'boolean' };
  }
}

// ---------------------------------------------------------------------------------------------------------
// Option tables.

/** One command-line option (and library option) of a command. */
export interface OptionSpec {
  /** commander flags, e.g. '-m, --model <file.onnx>'; the table key is commander's attribute name. */
  readonly flags: string;
  readonly description: string;
  /** Absent: a string (flags with <arg>) or a switch. */
  readonly check?: Check;
  readonly default?: unknown;
  /**
   * 'help': the default is shown in --help but the library applies it (it depends on other options, e.g. the
   * sgd settings apply only with --solver sgd), so the command line leaves the option undefined.
   */
  readonly defaultIn?: 'help';
  readonly required?: boolean;
  /** The flag may be given several times; its value is the array of the values given, in order. */
  readonly repeatable?: true;
}
export type OptionTable = Readonly<Record<string, OptionSpec>>;

type Widen<D> = D extends number
  ? number
  : D extends boolean
    ? boolean
    : D extends readonly (infer E)[]
      ? readonly Widen<E>[]
      : D;
/** The defaults of a table, keyed as the table. */
export type Defaults<T extends OptionTable> = {
  readonly [K in keyof T as T[K] extends { default: unknown } ? K : never]: T[K] extends { default: infer D }
    ? Widen<D>
    : never;
};

/** The defaults of a table as a frozen object (what the library falls back to). */
export function defaultsOf<T extends OptionTable>(table: T): Defaults<T> {
  const d: Record<string, unknown> = {};
  for (const [k, s] of Object.entries(table)) if (s.default !== undefined) d[k] = s.default;
  return Object.freeze(d) as Defaults<T>;
}

/** '--crop' from '--crop <px>', '--no-bias' from '--no-bias'. */
export function flagName(s: OptionSpec): string {
  const m = /--[^\s,<[]+/.exec(s.flags);
  if (!m) throw new Error(`option flags without a long name: ${s.flags}`);
  return m[0];
}

/**
 * An option's value as the library resolves it: `v` checked against the table's check, or the table's default
 * when `v` is undefined.
 * @throws FcprobeError BAD_OPTION naming the flag.
 */
export function optionValue<T>(table: OptionTable, key: string, v: T | undefined): T {
  const s = table[key];
  if (!s) throw new Error(`no option ${key}`);
  if (v === undefined) return s.default as T;
  return s.check ? checkValue(flagName(s), s.check, v) : v;
}

// ---------------------------------------------------------------------------------------------------------
// Fields of a config file.

/** One field of a config object. */
export interface FieldSpec {
  readonly check: Check;
  readonly description?: string;
  readonly required?: boolean;
  readonly default?: unknown;
}
export type FieldTable = Readonly<Record<string, FieldSpec>>;
