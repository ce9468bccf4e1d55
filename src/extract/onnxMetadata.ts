/**
 * The `metadata_props` of an ONNX model file, read without decoding the graph: the top-level fields of the
 * ModelProto are walked by their protobuf headers, and every field but metadata_props (field 14) is skipped
 * by seeking past it, so that a model of gigabytes of initializers costs a few small reads.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { FcprobeError } from '../errors.js';
import type { PreprocessOverrides } from '../image/preprocessSpec.js';
import { parseJsonText } from '../io/json.js';

/** The metadata key under which fcprobe (distill, models/export) stores a model's preprocessing. */
export const PREPROCESS_METADATA_KEY = 'fcprobe.preprocess';

const METADATA_PROPS = 14;

function varint(buf: Uint8Array, pos: number): { value: number; next: number } {
  let value = 0;
  let scale = 1;
  for (let i = pos; i < buf.length && i < pos + 10; i++) {
    const b = buf[i]!;
    value += (b & 0x7f) * scale;
    scale *= 128;
    if ((b & 0x80) === 0) return { value, next: i + 1 };
  }
  return { value: -1, next: -1 };
}

/** key/value of one StringStringEntryProto (key = 1, value = 2). */
function entry(buf: Uint8Array): [string, string] {
  let key = '';
  let value = '';
  let p = 0;
  const dec = new TextDecoder();
  while (p < buf.length) {
    const tag = varint(buf, p);
    if (tag.next < 0) break;
    const wire = tag.value % 8;
    if (wire !== 2) break;
    const len = varint(buf, tag.next);
    if (len.next < 0 || len.next + len.value > buf.length) break;
    const s = dec.decode(buf.subarray(len.next, len.next + len.value));
    if (Math.floor(tag.value / 8) === 1) key = s;
    else if (Math.floor(tag.value / 8) === 2) value = s;
    p = len.next + len.value;
  }
  return [key, value];
}

/**
 * The model's metadata_props as a map (later entries of one key win, as in onnxruntime).
 * @throws FcprobeError NOT_FOUND when the file cannot be read; BAD_MODEL when it is not a protobuf ModelProto.
 */
export function readOnnxMetadata(path: string): Map<string, string> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new FcprobeError('NOT_FOUND', `Cannot read model ${path}: ${(e as Error).message}.`);
  }
  const bad = (why: string): FcprobeError =>
    new FcprobeError('BAD_MODEL', `${path} is not a readable ONNX model (${why}).`);
  const out = new Map<string, string>();
  try {
    const size = fstatSync(fd).size;
    const head = new Uint8Array(20);
    let pos = 0;
    while (pos < size) {
      const got = readSync(fd, head, 0, Math.min(head.length, size - pos), pos);
      const h = head.subarray(0, got);
      const tag = varint(h, 0);
      if (tag.next < 0) throw bad(`truncated field header at byte ${pos}`);
      const field = Math.floor(tag.value / 8);
      const wire = tag.value % 8;
      let next: number;
      let body: { start: number; len: number } | null = null;
      if (wire === 0) {
        const v = varint(h, tag.next);
        if (v.next < 0) throw bad(`truncated varint at byte ${pos}`);
        next = pos + v.next;
      } else if (wire === 1) next = pos + tag.next + 8;
      else if (wire === 5) next = pos + tag.next + 4;
      else if (wire === 2) {
        const len = varint(h, tag.next);
        if (len.next < 0) throw bad(`truncated length at byte ${pos}`);
        body = { start: pos + len.next, len: len.value };
        next = body.start + body.len;
      } else throw bad(`wire type ${wire} at byte ${pos}`);
      if (field === 0 || next > size) throw bad(`field ${field} runs past the end of the file`);
      if (field === METADATA_PROPS && body) {
        const buf = new Uint8Array(body.len);
        readSync(fd, buf, 0, body.len, body.start);
        const [k, v] = entry(buf);
        if (k) out.set(k, v);
      }
      pos = next;
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

const FIELDS = ['preset', 'resize', 'crop', 'interpolation', 'mean', 'std'] as const;

/**
 * The preprocessing a model declares under `fcprobe.preprocess` (JSON of the preset fields: preset, resize,
 * crop, interpolation, mean, std; others ignored), or null when it declares none. Values are checked as
 * the flags are; resolvePreprocess validates their ranges.
 * @throws FcprobeError BAD_MODEL when the value is not JSON of that shape; as readOnnxMetadata.
 */
export function readPreprocessMetadata(
  path: string,
  metadata: Map<string, string> = readOnnxMetadata(path),
): PreprocessOverrides | null {
  const raw = metadata.get(PREPROCESS_METADATA_KEY);
  if (raw === undefined) return null;
  const bad = (why: string): FcprobeError =>
    new FcprobeError(
      'BAD_MODEL',
      `${path}: metadata "${PREPROCESS_METADATA_KEY}" ${why}.`,
      'Give the preprocessing with flags (--preset, --resize, ...), or rewrite the metadata.',
    );
  // Depth-capped like every JSON fcprobe reads (src/io/json.ts): the checks below recurse into it.
  const v = parseJsonText(raw, (why, syntax) => bad(syntax ? 'is not JSON' : `is not usable JSON (${why})`)).value;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('is not a JSON object');
  const o = v as Record<string, unknown>;
  const out: PreprocessOverrides = {};
  const triple = (x: unknown): x is [number, number, number] =>
    Array.isArray(x) && x.length === 3 && x.every((n) => typeof n === 'number' && Number.isFinite(n));
  for (const k of FIELDS) {
    const x = o[k];
    if (x === undefined || x === null) continue;
    if (k === 'preset' || k === 'interpolation') {
      if (typeof x !== 'string') throw bad(`has a ${k} that is not a string`);
      out[k] = x;
    } else if (k === 'resize' || k === 'crop') {
      if (typeof x !== 'number' || !Number.isInteger(x) || x < 1)
        throw bad(`has a ${k} that is not a positive integer`);
      out[k] = x;
    } else {
      if (!triple(x)) throw bad(`has a ${k} that is not three numbers`);
      out[k] = x;
    }
  }
  return out;
}

/**
 * True when the model's `fcprobe.preprocess` metadata says it was itself assumed (`"assumed": true`, written by
 * distill when the backbone's features were extracted with the default preset): resolution then reports the
 * source as 'default', with its warning, rather than as the model's statement.
 */
export function preprocessMetadataAssumed(metadata: Map<string, string>): boolean {
  const raw = metadata.get(PREPROCESS_METADATA_KEY);
  if (raw === undefined) return false;
  try {
    const v = JSON.parse(raw) as unknown;
    return typeof v === 'object' && v !== null && (v as Record<string, unknown>).assumed === true;
  } catch {
    return false;
  }
}
