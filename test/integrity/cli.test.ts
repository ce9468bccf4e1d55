/**
 * Whole-process behaviour (spawned CLI): a second process on a locked folder exits at once naming the holder;
 * anything unexpected is one line asking for a report (exit 1), the trace only with --debug; an output folder
 * that cannot be created fails at once.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { acquireLock } from '../../src/features/lock.js';
import { ensureWritableDir } from '../../src/io/atomic.js';
import { FcprobeError } from '../../src/errors.js';
import { CLI, linearEncoder, makeNoiseFolder, tempDir, writeModel } from '../helpers/fixtures.js';

const RUN_COMMAND = new URL('../../src/cli/run-command.js', import.meta.url).href;

describe('integrity at the command line', () => {
  it('extract on a folder another process holds: exit 6 at once, naming the holder; nothing written', async () => {
    const dir = tempDir('fcprobe-cli-lock-');
    await makeNoiseFolder(join(dir, 'data'), ['a', 'b'], 2, 16);
    const model = writeModel(join(dir, 'm.onnx'), linearEncoder([[1, 0, 0]], null));
    const out = join(dir, 'out');
    mkdirSync(out);
    const lock = acquireLock(out, 'extract');
    try {
      const r = spawnSync(
        process.execPath,
        [CLI, 'extract', '--model', model, '--data', join(dir, 'data'), '--out', out, '--resize', '16', '--crop', '16'],
        { encoding: 'utf8' },
      );
      assert.equal(r.status, 6, r.stderr);
      assert.match(r.stderr, new RegExp(`in use by process ${process.pid} on .*fcprobe extract`));
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.equal(existsSync(join(out, 'manifest.json')), false);
      assert.equal(existsSync(join(out, '.partial')), false);
    } finally {
      lock.release();
    }
  });

  it('probe --load of a probe.json that is null: exit 5, one clear line', () => {
    const dir = tempDir('fcprobe-cli-probe-');
    mkdirSync(join(dir, 'p'));
    writeFileSync(join(dir, 'p', 'probe.json'), 'null');
    const r = spawnSync(process.execPath, [CLI, 'probe', '--load', join(dir, 'p'), '--out', join(dir, 'o')], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 5, r.stderr);
    assert.match(r.stderr, /probe\.json is not a probe file/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });

  it('an unexpected error: one line + "please report", exit 1; the stack only with --debug', () => {
    const code = (debug: boolean): string =>
      `import(${JSON.stringify(RUN_COMMAND)}).then((m) => m.lastResort(new TypeError('boom'), ${debug}))`;
    const plain = spawnSync(process.execPath, ['-e', code(false)], { encoding: 'utf8' });
    assert.equal(plain.status, 1);
    assert.match(plain.stderr, /fcprobe: internal error: TypeError: boom\n.*please report/);
    assert.doesNotMatch(plain.stderr, /\n\s+at /);
    const debug = spawnSync(process.execPath, ['-e', code(true)], { encoding: 'utf8' });
    assert.equal(debug.status, 1);
    assert.match(debug.stderr, /\n\s+at /, 'the trace with --debug');
  });

  it('an output folder under /proc cannot be created: an error at once (exit 6), no retry loop', {
    skip: !existsSync('/proc/self') && 'no /proc here',
  }, () => {
    assert.throws(
      () => ensureWritableDir('/proc/fcprobe-x/y'),
      (e: unknown) => e instanceof FcprobeError && e.exitCode === 6 && /\/proc\/fcprobe-x\/y/.test(e.message),
    );
  });
});
