import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FcprobeError } from '../src/errors.js';
import { checkValue, describe as describeCheck, invalid, is, optionValue, parseArg } from '../src/validate.js';

function rejects(f: () => unknown, message: string, code = 'BAD_OPTION'): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof FcprobeError);
    assert.equal(e.code, code);
    assert.equal(e.exitCode, 2);
    assert.equal(e.message, message);
    return true;
  });
}

describe('parseArg (command-line strings)', () => {
  it('parses integers, numbers, choices, triples, lists and shards', () => {
    assert.equal(parseArg('--n', is.positiveInt, ' 12 '), 12);
    assert.equal(parseArg('--n', is.nonNegativeInt, '0'), 0);
    assert.equal(parseArg('--x', is.number, '-2.5e-3'), -2.5e-3);
    assert.equal(parseArg('--x', is.fraction, '0.2'), 0.2);
    assert.equal(parseArg('--p', is.oneOf(['a', 'b']), 'b'), 'b');
    assert.deepEqual(parseArg('--mean', is.triple('1,2,3'), '0.5, 0.25,1'), [0.5, 0.25, 1]);
    assert.deepEqual(parseArg('--b', is.listOf(is.positiveInt, '1,8'), '1,8,32'), [1, 8, 32]);
    assert.deepEqual(parseArg('--shard', is.shard, '3/8'), { index: 3, count: 8 });
  });

  it('names the flag, what was expected and the string that arrived', () => {
    rejects(() => parseArg('--crop', is.positiveInt, 'abc'), 'Expected --crop to be a positive integer, got "abc".');
    rejects(() => parseArg('--crop', is.positiveInt, '0'), 'Expected --crop to be a positive integer, got "0".');
    rejects(() => parseArg('--crop', is.positiveInt, '2.5'), 'Expected --crop to be a positive integer, got "2.5".');
    rejects(() => parseArg('--layers', is.intAtLeast(2), '1'), 'Expected --layers to be an integer >= 2, got "1".');
    rejects(() => parseArg('--lr', is.positiveNumber, ''), 'Expected --lr to be a positive number, got "".');
    rejects(
      () => parseArg('--lr', is.positiveNumber, 'Infinity'),
      'Expected --lr to be a positive number, got "Infinity".',
    );
    rejects(() => parseArg('--m', is.unitInterval, '1'), 'Expected --m to be a number in [0, 1), got "1".');
    rejects(
      () => parseArg('--h', is.fraction, '1'),
      'Expected --h to be a fraction strictly between 0 and 1, got "1".',
    );
    rejects(() => parseArg('--p', is.oneOf(['a', 'b']), 'c'), 'Expected --p to be one of a, b, got "c".');
    rejects(
      () => parseArg('--mean', is.triple('0.5,0.5,0.5'), '1,2'),
      'Expected --mean to be three comma-separated numbers, e.g. 0.5,0.5,0.5, got "1,2".',
    );
    rejects(
      () => parseArg('--mean', is.triple('0.5,0.5,0.5'), '1,,2'),
      'Expected --mean to be three comma-separated numbers, e.g. 0.5,0.5,0.5, got "1,,2".',
    );
    rejects(
      () => parseArg('--C-grid', is.listOf(is.positiveNumber, '0.1,1'), '0.1,-1'),
      'Expected --C-grid to be comma-separated positive numbers, e.g. 0.1,1, got "0.1,-1".',
    );
    assert.throws(() => parseArg('--shard', is.shard, '4/4'), /k\/n with 0 <= k < n/);
    assert.throws(() => parseArg('--shard', is.shard, '0/0'), /k\/n with 0 <= k < n/);
  });
});

describe('checkValue (library and config values)', () => {
  it('returns a good value and refuses a bad one, naming the option or the config field', () => {
    assert.equal(checkValue('--batch', is.positiveInt, 4), 4);
    rejects(() => checkValue('--batch', is.positiveInt, 0), 'Expected --batch to be a positive integer, got 0.');
    rejects(() => checkValue('--batch', is.positiveInt, '4'), 'Expected --batch to be a positive integer, got "4".');
    rejects(() => checkValue('--x', is.number, Number.NaN), 'Expected --x to be a number, got null.');
    rejects(
      () => checkValue('teacher.crop', is.positiveInt, 'abc', { config: true }),
      'Expected teacher.crop to be a positive integer, got "abc".',
      'BAD_CONFIG',
    );
    rejects(
      () => checkValue('teacher.mean', is.triple('1,2,3'), [1, 2], { config: true }),
      'Expected teacher.mean to be an array of three numbers, got [1,2].',
      'BAD_CONFIG',
    );
  });

  it('shows nothing for a missing value and shortens a long one', () => {
    assert.equal(
      invalid('train', 'a set', undefined, { config: true }).message,
      'Expected train to be a set, got nothing.',
    );
    const long = invalid('x', 'short', 'y'.repeat(200), { config: true }).message;
    assert.ok(long.length < 120 && long.endsWith('....'), long);
  });

  it('describes every check kind', () => {
    assert.equal(describeCheck(is.nonNegativeNumber), 'a non-negative number');
    assert.equal(describeCheck(is.boolean), 'true or false');
    assert.equal(describeCheck(is.listOf(is.positiveInt, '1,2')), 'an array of positive integers');
  });
});

describe('optionValue', () => {
  const table = {
    batch: { flags: '--batch <n>', description: 'b', check: is.positiveInt, default: 32 },
    name: { flags: '--name <s>', description: 'n' },
  };
  it('falls back to the default, checks a given value against the flag', () => {
    assert.equal(optionValue(table, 'batch', undefined), 32);
    assert.equal(optionValue(table, 'batch', 8), 8);
    rejects(() => optionValue(table, 'batch', 0), 'Expected --batch to be a positive integer, got 0.');
    assert.equal(optionValue(table, 'name', undefined), undefined);
  });
});
