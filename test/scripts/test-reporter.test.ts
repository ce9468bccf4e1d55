import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers/fixtures.js';

const REPORTER = new URL('../../../scripts/test-reporter.mjs', import.meta.url).pathname;

/** Runs `node --test` with the short reporter on one file, in the file's folder, outside this runner's context. */
function runReporter(dir: string, file: string): { status: number | null; out: string } {
  const env = { ...process.env };
  // Set by the runner for the files it starts; inherited, it would make the inner runner report to us in
  // its child protocol instead of through the reporter.
  delete env.NODE_TEST_CONTEXT;
  const r = spawnSync(
    process.execPath,
    ['--test', `--test-reporter=${REPORTER}`, '--test-reporter-destination=stdout', file],
    { cwd: dir, env, encoding: 'utf8' },
  );
  return { status: r.status, out: r.stdout + r.stderr };
}

const MIXED = `import test from 'node:test';
import assert from 'node:assert/strict';
test('adds up', () => { assert.equal(1 + 1, 2); });
test('wrong sum', () => {
  console.log('printed by the failing file');
  assert.equal(2 + 2, 5);
});
test('needs realdata', { skip: 'realdata absent' }, () => {});
`;

const PASSING = `import test from 'node:test';
test('one', () => { console.log('quiet when passing'); });
test('two', () => {});
`;

describe('scripts/test-reporter.mjs', () => {
  it('prints a failure in full, a skip with its reason, and node closing counts; exits non-zero', () => {
    const dir = tempDir('fcprobe-reporter-');
    writeFileSync(join(dir, 'mixed.test.mjs'), MIXED);
    const { status, out } = runReporter(dir, 'mixed.test.mjs');
    assert.equal(status, 1, out);

    // The failure: name, file:line, the assertion's values, and a stack frame in the test file.
    assert.match(out, /^FAIL wrong sum \(mixed\.test\.mjs:4:1\)$/m);
    assert.match(out, /4 !== 5/);
    assert.match(out, /at .*mixed\.test\.mjs:6:\d+/);
    // What the failing file printed comes with it.
    assert.match(out, /Output of mixed\.test\.mjs:\n\s+printed by the failing file/);
    assert.match(out, /^skip needs realdata \(mixed\.test\.mjs:8:1\): realdata absent$/m);
    // One pass: one dot, alone on its line before the failure block.
    assert.match(out, /^\.$/m);
    assert.doesNotMatch(out, /^ok |^not ok /m, 'no TAP test lines');

    const lines = out.trimEnd().split('\n');
    const closing = lines.slice(-9);
    assert.deepEqual(closing.slice(0, 7), [
      '# tests 3',
      '# suites 0',
      '# pass 1',
      '# fail 1',
      '# cancelled 0',
      '# skipped 1',
      '# todo 0',
    ]);
    assert.match(closing[7]!, /^# duration_ms \d+(\.\d+)?$/);
    assert.equal(closing[8], '1 passed, 1 failed, 1 skipped');
  });

  it('stays short on success: dots, counts, no output from the tests; exits 0', () => {
    const dir = tempDir('fcprobe-reporter-');
    writeFileSync(join(dir, 'passing.test.mjs'), PASSING);
    const { status, out } = runReporter(dir, 'passing.test.mjs');
    assert.equal(status, 0, out);
    assert.match(out, /^\.\.$/m);
    assert.doesNotMatch(out, /quiet when passing|FAIL/);
    assert.match(out, /^# pass 2$/m);
    assert.match(out, /^# fail 0$/m);
    assert.equal(out.trimEnd().split('\n').at(-1), '2 passed, 0 failed, 0 skipped');
  });

  it('reports a file that throws while loading, with its output, and exits non-zero', () => {
    const dir = tempDir('fcprobe-reporter-');
    writeFileSync(join(dir, 'broken.test.mjs'), "console.error('loading');\nthrow new Error('cannot load');\n");
    const { status, out } = runReporter(dir, 'broken.test.mjs');
    assert.equal(status, 1, out);
    assert.match(out, /^FAIL the file itself \(see its output below\) \(broken\.test\.mjs:1:1\)$/m);
    assert.match(out, /Output of broken\.test\.mjs:[\s\S]*Error: cannot load/);
    assert.match(out, /^# fail 1$/m);
    assert.equal(out.trimEnd().split('\n').at(-1), '0 passed, 1 failed, 0 skipped');
  });
});
