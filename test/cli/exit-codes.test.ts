/**
 * Each documented exit status (docs/exit-codes.md) driven through the real CLI in a child process: the
 * status, the one-line `fcprobe: error:` message, no stack trace.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { providerUnavailableReason } from '../../src/extract/providers.js';
import {
  CLI,
  linearEncoder,
  makeSolidFolder,
  slowEncoder,
  tempDir,
  writeModel,
  runCli as cli,
} from '../helpers/fixtures.js';

function expectExit(args: string[], status: number, message: RegExp): void {
  const r = cli(args);
  assert.equal(r.status, status, `${args.join(' ')}\n${r.stderr}`);
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

describe('exit statuses, through the CLI', () => {
  const dir = tempDir('fcprobe-exit-');
  const data = join(dir, 'data');
  const model = join(dir, 'm.onnx');
  const size = ['--resize', '8', '--crop', '8'];
  before(async () => {
    await makeSolidFolder(data, { a: [[10, 20, 30]], b: [[200, 100, 0]] });
    writeModel(model, linearEncoder([[1, 0, 0]], 8));
  });

  it('2: bad config (a missing or unparsable --config file)', () => {
    expectExit(
      ['run', '--config', join(dir, 'none.json')],
      2,
      /fcprobe: error: Config file .*none\.json does not exist\./,
    );
    writeFileSync(join(dir, 'bad.json'), '{ not json');
    expectExit(['run', '--config', join(dir, 'bad.json')], 2, /is not valid JSON/);
  });

  // Commander's own usage errors are bad options too: exit 2, not commander's 1.
  it('2: bad option value', () => {
    expectExit(['extract', '--model', model, '--data', data, '--out', join(dir, 'o2'), '--batch', 'abc'], 2, /--batch/);
  });

  it('3: bad data (a missing data folder)', () => {
    expectExit(
      ['extract', '--model', model, '--data', join(dir, 'nowhere'), '--out', join(dir, 'o3')],
      3,
      /fcprobe: error: Data folder .*nowhere does not exist/,
    );
  });

  it('4: bad model (a missing model file, a file that is not ONNX)', () => {
    expectExit(
      ['extract', '--model', join(dir, 'none.onnx'), '--data', data, '--out', join(dir, 'o4')],
      4,
      /fcprobe: error: Model file .*none\.onnx does not exist\./,
    );
    writeFileSync(join(dir, 'junk.onnx'), 'not a protobuf');
    expectExit(
      ['extract', '--model', join(dir, 'junk.onnx'), '--data', data, '--out', join(dir, 'o4b'), ...size],
      4,
      /fcprobe: error: Cannot load model/,
    );
  });

  it('5: bad features (a folder that is not a finished feature directory)', () => {
    mkdirSync(join(dir, 'empty-features'), { recursive: true });
    expectExit(
      ['probe', '--train', join(dir, 'empty-features'), '--out', join(dir, 'p5')],
      5,
      /fcprobe: error: .*is not a finished feature directory/,
    );
  });

  it('6: I/O (an output directory under a file)', () => {
    writeFileSync(join(dir, 'afile'), 'x');
    expectExit(
      ['extract', '--model', model, '--data', data, '--out', join(dir, 'afile', 'sub'), ...size],
      6,
      /fcprobe: error: Cannot write to output directory/,
    );
  });

  it('7: provider unavailable (a GPU provider this machine cannot run)', (t) => {
    const gpu = (['cuda', 'webgpu'] as const).find((p) => providerUnavailableReason(p) !== null);
    if (!gpu) return t.skip('every GPU provider works here');
    expectExit(
      ['extract', '--model', model, '--data', data, '--out', join(dir, 'o7'), '--ep', gpu, ...size],
      7,
      new RegExp(`fcprobe: error: Execution provider "${gpu}" cannot be used: `),
    );
  });

  it('130: interrupted (Ctrl-C during extract)', { timeout: 120_000 }, async () => {
    const slowData = join(dir, 'slow-data');
    await makeSolidFolder(slowData, {
      a: Array.from({ length: 48 }, (_, i) => [i, 2 * i, 3 * i] as [number, number, number]),
      b: Array.from({ length: 48 }, (_, i) => [200 - i, 100, i] as [number, number, number]),
    });
    const slow = writeModel(join(dir, 'slow.onnx'), slowEncoder(48, 30, 64));
    const args = ['extract', '--model', slow, '--data', slowData, '--out', join(dir, 'o130')];
    const child = spawn(
      process.execPath,
      [CLI, ...args, '--batch', '32', '--threads', '1', '--resize', '48', '--crop', '48'],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    let sent = false;
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (!sent && /extract 32\/96/.test(stderr)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    assert.ok(sent, stderr);
    assert.equal(code, 130, stderr);
    assert.doesNotMatch(stderr, /\n\s+at /);
  });
});
