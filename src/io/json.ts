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
  let v: unknown;
  try {
    v = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (e) {
    throw bad(`invalid JSON (${(e as Error).message})`);
  }
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
