/**
 * Every JSON file fcprobe reads back (manifests, progress records, probe files, locks, configs) goes through
 * readJsonObject: a missing, unreadable, garbled, `null` or `[]` file, or one of another format or version,
 * becomes one clear error naming the file, what it should be and the format version expected.
 */
import { readFileSync } from 'node:fs';
import { type ErrorCode, FcprobeError } from '../errors.js';
import { fromSystemError } from './sysError.js';

export interface JsonKind {
  /** What the file is, in words: "feature manifest", "probe file". */
  kind: string;
  /** Expected value of the "format" field, if the file has one. */
  format?: string;
  /** Expected value of the "formatVersion" field, if the file has one. */
  formatVersion?: number;
  /** Error code of a file that is there but wrong (BAD_FEATURES, BAD_CONFIG, ...). */
  code: ErrorCode;
  hint?: string;
}

function expectedText(k: JsonKind): string {
  const parts = [`a ${k.kind}`];
  if (k.format !== undefined) parts.push(`"format": "${k.format}"`);
  if (k.formatVersion !== undefined) parts.push(`"formatVersion": ${k.formatVersion}`);
  return parts.join(', ');
}

/** Parses JSON text (a UTF-8 byte order mark is accepted) as an object of the given kind; see readJsonObject. */
export function parseJsonObject(text: string, path: string, k: JsonKind): Record<string, unknown> {
  const bad = (why: string): FcprobeError =>
    new FcprobeError(k.code, `${path} is not ${expectedText(k)}: ${why}.`, k.hint);
  const v = parseJsonText(text, (why, syntax) => bad(syntax ? `invalid JSON (${why})` : why)).value;
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw bad(`it holds ${v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`}, not an object`);
  const o = v as Record<string, unknown>;
  if (k.format !== undefined && o.format !== k.format) throw bad(`"format" is ${JSON.stringify(o.format)}`);
  if (k.formatVersion !== undefined && o.formatVersion !== k.formatVersion)
    throw bad(`"formatVersion" is ${JSON.stringify(o.formatVersion)} (this fcprobe reads version ${k.formatVersion})`);
  return o;
}

/**
 * Reads `path` as a JSON object of the kind described. Throws: NOT_FOUND (missing), IO (unreadable, with the
 * errno), k.code (garbled, not an object, other format or version).
 */
export function readJsonObject(path: string, k: JsonKind): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw fromSystemError(e, path, 'reading');
  }
  return parseJsonObject(text, path, k);
}

/**
 * Deepest nesting fcprobe accepts in a JSON file. Its own files nest fewer than 12 levels; the cap exists
 * because JSON.parse accepts any depth while every later recursive walk (revivers, validators, JSON.stringify)
 * overflows the stack near 10,000 levels, which would surface as an "internal error" instead of a bad file.
 */
export const MAX_JSON_DEPTH = 100;

/** The parsed value, and every key that appears twice in one object (JSON.parse keeps the last silently). */
export interface ParsedJson {
  value: unknown;
  /** Duplicate keys as paths (`teacher.crop`, `sets[1].name`), in order of appearance. */
  duplicateKeys: string[];
}

interface Frame {
  path: string;
  isObject: boolean;
  keys: Set<string>;
  expectKey: boolean;
  lastKey: string;
  index: number;
}

/**
 * Parses JSON text (a UTF-8 byte order mark is accepted), then walks the text once, iteratively, to refuse
 * nesting deeper than MAX_JSON_DEPTH and to list duplicate keys. Every error is `bad(why, syntax)` (syntax: the
 * parser's own message), so each caller names its file and error code; a RangeError of the parser itself (stack
 * or string limits) is caught too.
 */
export function parseJsonText(text: string, bad: (why: string, syntax: boolean) => Error): ParsedJson {
  const t = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let value: unknown;
  try {
    value = JSON.parse(t);
  } catch (e) {
    throw bad((e as Error).message, true);
  }
  const duplicateKeys: string[] = [];
  const stack: Frame[] = [];
  const childPath = (): string => {
    const top = stack[stack.length - 1];
    if (!top) return '';
    return top.isObject ? `${top.path ? `${top.path}.` : ''}${top.lastKey}` : `${top.path}[${top.index}]`;
  };
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      // indexOf, not a loop per character: a manifest is mostly strings (a million file names).
      i = t.indexOf('"', i + 1);
      for (;;) {
        let backslashes = 0;
        while (t.charCodeAt(i - 1 - backslashes) === 0x5c /* \ */) backslashes++;
        if (backslashes % 2 === 0) break;
        i = t.indexOf('"', i + 1);
      }
      const top = stack[stack.length - 1];
      if (top?.isObject && top.expectKey) {
        // The text parsed above, so every key is a valid JSON string literal.
        const key = JSON.parse(t.slice(start, i + 1)) as string;
        top.lastKey = key;
        if (top.keys.has(key)) duplicateKeys.push(`${top.path ? `${top.path}.` : ''}${key}`);
        top.keys.add(key);
        top.expectKey = false;
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length >= MAX_JSON_DEPTH) {
        // The path down there is mostly [0][0]...: its start says where.
        const at = childPath() || 'the top';
        throw bad(
          `nested deeper than ${MAX_JSON_DEPTH} levels (at ${at.length > 40 ? `${at.slice(0, 40)}...` : at})`,
          false,
        );
      }
      stack.push({
        path: childPath(),
        isObject: c === 0x7b,
        keys: new Set(),
        expectKey: c === 0x7b,
        lastKey: '',
        index: 0,
      });
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top?.isObject) top.expectKey = true;
      else if (top) top.index++;
    }
  }
  return { value, duplicateKeys };
}
