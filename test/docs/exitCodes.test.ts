/** docs/exit-codes.md's table agrees with src/errors.ts: every code listed once, with the status it exits with. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { type ErrorCode, FcprobeError } from '../../src/errors.js';

const root = new URL('../../../', import.meta.url);

describe('docs/exit-codes.md', () => {
  it('lists every error code with its exit status', () => {
    const doc = readFileSync(new URL('docs/exit-codes.md', root), 'utf8');
    const table = new Map<string, number>();
    for (const line of doc.split('\n')) {
      const m = /^\| (\d+) \|[^|]*\|([^|]*)\|/.exec(line);
      if (!m) continue;
      for (const c of m[2]!.matchAll(/`([A-Z_]+)`/g)) {
        assert.equal(table.has(c[1]!), false, `${c[1]} listed twice`);
        table.set(c[1]!, Number(m[1]));
      }
    }
    const src = readFileSync(new URL('src/errors.ts', root), 'utf8');
    const union = /export type ErrorCode =([^;]+);/.exec(src)![1]!;
    const codes = [...union.matchAll(/'([A-Z_]+)'/g)].map((m) => m[1]!);
    assert.ok(codes.length >= 10);
    for (const code of codes) {
      assert.ok(table.has(code), `${code} is in the table`);
      assert.equal(table.get(code), new FcprobeError(code as ErrorCode, '').exitCode, `${code}'s status`);
    }
    assert.deepEqual([...table.keys()].sort(), [...codes].sort());
  });
});
