/** Hashes that name cached work: the streamed form must give exactly the one-shot digest (old keys stay valid). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { hashValue, hashWithRows, stableStringify } from '../../src/io/hash.js';
import { listingHash } from '../../src/extract/extract.js';
import type { DatasetListing } from '../../src/dataset/listing.js';

describe('stableStringify / hashValue', () => {
  it('sorts keys, drops undefined, keeps null, and hashes the text with sha256', () => {
    const v = { b: [1, { y: 'é', x: null }], a: undefined, c: 'q"' };
    const text = '{"b":[1,{"x":null,"y":"é"}],"c":"q\\""}';
    assert.equal(stableStringify(v), text);
    assert.equal(hashValue(v), createHash('sha256').update(text).digest('hex'));
  });
});

describe('hashWithRows', () => {
  const rows = (n: number): [string, number][] =>
    Array.from({ length: n }, (_, i) => [`c${i % 7}/ímg_${i}.jpg`, i % 7]);
  for (const n of [0, 1, 3, 5000]) {
    it(`equals hashValue of the whole object (${n} rows, rows key sorted among the others)`, () => {
      const r = rows(n);
      const head = { z: ['last'], a: null, skip: undefined };
      assert.equal(
        hashWithRows(head, 'm', n, (i) => r[i]),
        hashValue({ ...head, m: r }),
      );
    });
  }

  it('keeps the listing hash of existing feature directories', () => {
    const items = rows(3000).map(([file, label]) => ({ file, label }));
    for (const classMap of [null, [['a', 'b'], ['c']]]) {
      const listing: DatasetListing = {
        root: '/x',
        layout: 'folder',
        classes: ['a', 'b'],
        classMap,
        items,
        ignored: [],
        borderCrop: 0,
      };
      assert.equal(
        listingHash(listing),
        hashValue({ classes: listing.classes, classMap, items: items.map((i) => [i.file, i.label]) }),
      );
    }
  });
});
