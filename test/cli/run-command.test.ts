import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { addOptions } from '../../src/cli/run-command.js';
import {
  BENCH_OPTIONS,
  CHECK_EXPORT_OPTIONS,
  COMPARE_OPTIONS,
  DEMO_OPTIONS,
  DISTILL_OPTIONS,
  EXTRACT_OPTIONS,
  PROBE_OPTIONS,
  REPORT_OPTIONS,
  RUN_OPTIONS,
  SIMULATE_OPTIONS,
} from '../../src/options.js';
import type { OptionTable } from '../../src/validate.js';

const TABLES: Record<string, OptionTable> = {
  extract: EXTRACT_OPTIONS,
  probe: PROBE_OPTIONS,
  run: RUN_OPTIONS,
  simulate: SIMULATE_OPTIONS,
  demo: DEMO_OPTIONS,
  distill: DISTILL_OPTIONS,
  bench: BENCH_OPTIONS,
  report: REPORT_OPTIONS,
  'check-export': CHECK_EXPORT_OPTIONS,
  compare: COMPARE_OPTIONS,
};

/** Parses `args` with the table's options; required options get a value so that parsing gets through. */
function parse(table: OptionTable, args: string[]): Record<string, unknown> {
  const cmd = new Command().exitOverride();
  addOptions(cmd, table);
  const required = Object.entries(table)
    .filter(([, s]) => s.required)
    .flatMap(([, s]) => [/--[\w-]+/.exec(s.flags)![0], 'x']);
  cmd.parse([...required, ...args], { from: 'user' });
  return cmd.opts();
}

describe('commander options from the tables', () => {
  for (const [name, table] of Object.entries(TABLES)) {
    it(`${name}: every key is commander's attribute; a value-taking option with a default gets it`, () => {
      const opts = parse(table, []);
      for (const [key, s] of Object.entries(table)) {
        const fillsIn = s.flags.includes('<') && s.default !== undefined && s.defaultIn !== 'help';
        if (fillsIn) assert.deepEqual(opts[key], s.default, `${name} ${key}`);
        else if (!s.required && !s.flags.startsWith('--no-')) assert.equal(opts[key], undefined, `${name} ${key}`);
      }
    });
  }

  it('parses values with the table checks and leaves help-only defaults to the library', () => {
    const o = parse(EXTRACT_OPTIONS, ['--batch', '8', '--mean', '0.5,0.5,0.5', '--shard', '1/4', '--preset', 'clip']);
    assert.equal(o.batch, 8);
    assert.deepEqual(o.mean, [0.5, 0.5, 0.5]);
    assert.deepEqual(o.shard, { index: 1, count: 4 });
    assert.equal(o.preset, 'clip');
    assert.equal(o.borderCrop, undefined);
    const p = parse(PROBE_OPTIONS, ['--C-sweep', '--C-grid', '0.1,1']);
    assert.equal(p.CSweep, true);
    assert.deepEqual(p.CGrid, [0.1, 1]);
    assert.equal(p.lr, undefined, 'the sgd defaults apply only with --solver sgd');
    assert.equal(p.standardize, true);
    assert.equal(parse(SIMULATE_OPTIONS, ['--no-bias']).bias, false);
    assert.equal(parse(RUN_OPTIONS, ['--C-sweep']).CSweep, true);
    // A repeatable option collects every value given, in order, each checked.
    assert.deepEqual(parse(COMPARE_OPTIONS, ['--label', 'a=x', '--label', 'b=y']).label, ['a=x', 'b=y']);
    assert.throws(
      () => parse(COMPARE_OPTIONS, ['--label', 'a=x', '--label', '']),
      /Expected --label to be a non-empty/,
    );
  });

  it('refuses a bad choice with the one message shape', () => {
    assert.throws(
      () => parse(EXTRACT_OPTIONS, ['--pool', 'max']),
      /^FcprobeError: Expected --pool to be one of cls, mean, got "max"\.$/,
    );
  });
});
