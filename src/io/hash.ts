import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** sha256 of a file, streamed (models can be GBs). */
export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (c) => h.update(c))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

/** JSON with sorted keys: the same value always hashes the same. */
export function stableStringify(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .filter((k) => o[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${stableStringify(o[k])}`)
    .join(',')}}`;
}

export function sha256Text(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function hashValue(v: unknown): string {
  return sha256Text(stableStringify(v));
}

/**
 * hashValue({ ...head, [rowsKey]: [row(0), ..., row(count - 1)] }) without building that JSON text: the rows
 * are streamed into the hash in ~64 KB pieces. A file list of ImageNet's 1.28 M images would otherwise take
 * ~0.5 GB of transient strings.
 */
export function hashWithRows(
  head: Record<string, unknown>,
  rowsKey: string,
  count: number,
  row: (i: number) => unknown,
): string {
  const h = createHash('sha256');
  let pending = '';
  const put = (s: string): void => {
    pending += s;
    if (pending.length >= 65536) {
      h.update(pending);
      pending = '';
    }
  };
  const keys = [...Object.keys(head).filter((k) => head[k] !== undefined && k !== rowsKey), rowsKey].sort();
  put('{');
  keys.forEach((k, j) => {
    put(`${j > 0 ? ',' : ''}${JSON.stringify(k)}:`);
    if (k !== rowsKey) {
      put(stableStringify(head[k]));
      return;
    }
    put('[');
    for (let i = 0; i < count; i++) put(`${i > 0 ? ',' : ''}${stableStringify(row(i))}`);
    put(']');
  });
  put('}');
  h.update(pending);
  return h.digest('hex');
}
