import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  CLI,
  linearEncoder,
  makeNoiseFolder,
  slowEncoder,
  tempDir,
  writeModel,
  runCli as cli,
} from '../helpers/fixtures.js';

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

describe('fcprobe extract (CLI)', () => {
  it('explains every option in --help, with examples', () => {
    const r = cli(['extract', '--help']);
    assert.equal(r.status, 0);
    for (const flag of [
      '--model',
      '--data',
      '--out',
      '--classes',
      '--preset',
      '--resize',
      '--crop',
      '--interpolation',
      '--mean',
      '--std',
      '--border-crop',
      '--auto-orient',
      '--output',
      '--pool',
      '--ep',
      '--threads',
      '--batch',
      '--shard',
      '--strict',
      '--force',
      '--quiet',
    ]) {
      assert.ok(r.stdout.includes(flag), `help mentions ${flag}`);
    }
    assert.match(r.stdout, /Examples:/);
    assert.equal(cli(['--help']).status, 0);
  });

  it('reports user errors in one clean message with a non-zero exit code and no stack trace', () => {
    const dir = tempDir();
    const r = cli(['extract', '--model', join(dir, 'none.onnx'), '--data', dir, '--out', join(dir, 'o')]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /fcprobe: error: /);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    const bad = cli(['extract', '--model', 'm', '--data', 'd', '--out', 'o', '--batch', 'abc']);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /Expected --batch to be a positive integer, got "abc"/);
    const shard = cli(['extract', '--model', 'm', '--data', 'd', '--out', 'o', '--shard', '4/4']);
    assert.match(shard.stderr, /k\/n with 0 <= k < n/);
  });

  it('resumes a killed extraction and ends with the same bytes as an uninterrupted run', async () => {
    const dir = tempDir();
    await makeNoiseFolder(join(dir, 'data'), ['a', 'b', 'c'], 40, 32);
    writeFileSync(join(dir, 'data', 'b', 'corrupt.png'), 'corrupt');
    const model = writeModel(join(dir, 'slow.onnx'), slowEncoder(32, 10));
    const args = (out: string): string[] => [
      'extract',
      '--model',
      model,
      '--data',
      join(dir, 'data'),
      '--out',
      out,
      '--batch',
      '4',
      '--quiet',
      '--threads',
      '1',
      '--commit-every',
      '0',
    ];
    assert.equal(cli(args(join(dir, 'ref'))).status, 0);

    const out = join(dir, 'killed');
    const progress = join(out, '.partial', 'progress.json');
    let killedAt = -1;
    for (let attempt = 0; attempt < 3 && killedAt < 0; attempt++) {
      const child = spawn(process.execPath, [CLI, ...args(out)], { stdio: 'ignore' });
      const exited = new Promise<void>((r) => child.on('exit', () => r()));
      // Kill without warning once some (not all) batches are committed.
      for (let i = 0; i < 2000; i++) {
        await sleep(5);
        if (existsSync(progress)) {
          const done = (JSON.parse(readFileSync(progress, 'utf8')) as { itemsDone: number }).itemsDone;
          if (done >= 16) {
            child.kill('SIGKILL');
            killedAt = done;
            break;
          }
        }
        if (child.exitCode !== null) break;
      }
      await exited;
    }
    assert.ok(killedAt > 0 && killedAt < 121, `killed midway (at ${killedAt} of 121)`);
    assert.equal(existsSync(join(out, 'manifest.json')), false, 'no manifest: the killed run does not look finished');
    assert.equal(existsSync(join(out, 'features.npy')), false, 'no features.npy visible before the end');
    const resumed = spawnSync(process.execPath, [CLI, ...args(out).filter((a) => a !== '--quiet')], {
      encoding: 'utf8',
    });
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stderr, /Resuming/);
    for (const f of ['features.npy', 'labels.npy']) {
      assert.ok(readFileSync(join(dir, 'ref', f)).equals(readFileSync(join(out, f))), `${f} identical`);
    }
    const a = JSON.parse(readFileSync(join(dir, 'ref', 'manifest.json'), 'utf8'));
    const b = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    assert.deepEqual(b.files, a.files);
    assert.deepEqual(b.skipped, a.skipped);
    const again = cli(args(out));
    assert.equal(again.status, 0);
    assert.match(again.stdout, /already extracted/);
  });

  it('a second Ctrl-C during a batch ends the process by the signal, without a native abort, and resumes', async () => {
    const dir = tempDir();
    await makeNoiseFolder(join(dir, 'data'), ['a', 'b'], 48, 48);
    const model = writeModel(join(dir, 'slow.onnx'), slowEncoder(48, 30, 64));
    const args = (out: string): string[] => [
      'extract',
      '--model',
      model,
      '--data',
      join(dir, 'data'),
      '--out',
      out,
      '--batch',
      '32',
      '--threads',
      '1',
      '--resize',
      '48',
      '--crop',
      '48',
    ];
    const out = join(dir, 'twice');
    const child = spawn(process.execPath, [CLI, ...args(out)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let sent = 0;
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      // First signal once the first batch is in (the next one is running), the second right after its notice.
      if (sent === 0 && /extract 32\/96/.test(stderr)) {
        sent = 1;
        child.kill('SIGINT');
      }
      if (sent === 1 && /Stopping after the current batch/.test(stderr)) {
        sent = 2;
        child.kill('SIGINT');
      }
    });
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((r) =>
      child.on('exit', (c, s) => r([c, s])),
    );
    assert.equal(sent, 2, stderr);
    assert.doesNotMatch(stderr, /Napi|terminate called/);
    assert.ok(signal === 'SIGINT' || code === 130, `ended by SIGINT (code ${code}, signal ${signal}): ${stderr}`);
    assert.equal(existsSync(join(out, 'manifest.json')), false);
    assert.equal(cli(args(join(dir, 'ref'))).status, 0);
    const resumed = cli(args(out));
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.ok(
      readFileSync(join(dir, 'ref', 'features.npy')).equals(readFileSync(join(out, 'features.npy'))),
      'features identical',
    );
  });

  it('prints a summary with the provider and the skipped count', async () => {
    const dir = tempDir();
    await makeNoiseFolder(join(dir, 'data'), ['a'], 3, 16);
    writeFileSync(join(dir, 'data', 'a', 'z.jpg'), 'nope');
    const model = writeModel(join(dir, 'm.onnx'), linearEncoder([[1, 0, 0]], null));
    const r = cli([
      'extract',
      '-m',
      model,
      '-d',
      join(dir, 'data'),
      '-o',
      join(dir, 'o'),
      '--resize',
      '16',
      '--crop',
      '16',
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Extracted 3 images x 1 features/);
    assert.match(r.stdout, /provider cpu/);
    assert.match(r.stdout, /skipped 1 file/);
    assert.match(r.stderr, /extract .*3\/4|4\/4/);
  });
});
