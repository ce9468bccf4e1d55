/** String -> value parsers for CLI flags; every failure names the flag, what was expected and what arrived. */
import { InvalidArgumentError } from 'commander';

function fail(expected: string, got: string): never {
  throw new InvalidArgumentError(`expected ${expected}, got "${got}".`);
}

export function positiveInt(v: string): number {
  if (!/^\d+$/.test(v.trim()) || Number(v) < 1) fail('a positive integer', v);
  return Number(v);
}

export function nonNegativeInt(v: string): number {
  if (!/^\d+$/.test(v.trim())) fail('a non-negative integer', v);
  return Number(v);
}

export function positiveNumber(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0) fail('a positive number', v);
  return n;
}

export function nonNegativeNumber(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) fail('a non-negative number', v);
  return n;
}

export function finiteNumber(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) fail('a number', v);
  return n;
}

export function triple(v: string): [number, number, number] {
  const parts = v.split(',').map((s) => Number(s.trim()));
  if (parts.length !== 3 || parts.some((n) => !Number.isFinite(n)))
    fail('three comma-separated numbers, e.g. 0.485,0.456,0.406', v);
  return parts as [number, number, number];
}

/** "k/n" with 0 <= k < n: the k-th (0-based) of n shards. */
export function shard(v: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(v.trim());
  if (!m) fail('k/n with 0 <= k < n, e.g. 0/4 (0-based, as SLURM_ARRAY_TASK_ID and JOB_COMPLETION_INDEX)', v);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index >= count) fail('k/n with 0 <= k < n, e.g. 0/4', v);
  return { index, count };
}

export function oneOf<T extends string>(values: readonly T[]): (v: string) => T {
  return (v: string) => {
    if (!(values as readonly string[]).includes(v)) fail(`one of ${values.join(', ')}`, v);
    return v as T;
  };
}

/** A byte count: an integer, or a number with K, M, G or T (binary: 2^10...; optional "iB"/"B"), e.g. "512M". */
export function byteSize(v: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$/i.exec(v);
  if (!m) fail('a size such as 512M or 4G', v);
  const unit = { '': 0, K: 1, M: 2, G: 3, T: 4 }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G' | 'T'];
  const n = Math.floor(Number(m[1]) * 1024 ** unit);
  if (!(n >= 1)) fail('a size of at least 1 byte', v);
  return n;
}
