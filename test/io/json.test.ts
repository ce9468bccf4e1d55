/**
 * parseJsonText (src/io/json.ts): the same value as JSON.parse on tricky text (braces, quotes and escapes inside
 * strings), duplicate keys found with their paths, nesting refused past MAX_JSON_DEPTH and accepted at it.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { MAX_JSON_DEPTH, parseJsonText } from '../../src/io/json.js';

const bad = (why: string): Error => new Error(why);

it("gives JSON.parse's value; keys that look alike or hide in strings are not duplicates", () => {
  const text =
    '{"a": "{[\\"x\\", ]}", "b": [1, {"a": 2, "a\\u0041": 3}, [{"k": "}"}]], "c\\"": {"b": null}, ' +
    '"e": [], "f": {}, "g": "\\\\"}';
  const r = parseJsonText(text, bad);
  assert.deepEqual(r.value, JSON.parse(text));
  assert.deepEqual(r.duplicateKeys, []);
});

it('lists each repeated key with its path, in objects nested in arrays too', () => {
  const text = '{"t": {"crop": 1, "x": [0, {"k": 1, "k": 2}], "crop": 2}, "t2": 0, "t2": 1, "\\u0074": 5}';
  const r = parseJsonText(text, bad);
  assert.deepEqual(r.value, JSON.parse(text));
  // "\u0074" is "t": a duplicate by value, not by spelling.
  assert.deepEqual(r.duplicateKeys, ['t.x[1].k', 't.crop', 't2', 't']);
});

it('accepts MAX_JSON_DEPTH levels and refuses one more, naming where', () => {
  const nest = (n: number): string => `${'['.repeat(n)}${']'.repeat(n)}`;
  assert.doesNotThrow(() => parseJsonText(nest(MAX_JSON_DEPTH), bad));
  assert.throws(
    () => parseJsonText(`{"a": [${nest(MAX_JSON_DEPTH)}]}`, bad),
    /nested deeper than 100 levels \(at a\[0\]/,
  );
  assert.throws(
    () => parseJsonText('{"a": ', bad),
    (e: Error) => !/nested/.test(e.message),
  );
});
