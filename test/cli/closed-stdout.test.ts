/**
 * A reader that stops early (`fcprobe models list | head -1`) must end fcprobe quietly with status 0
 * (docs/exit-codes.md), for the help, a command's help and commands that print results: the child's stdout is
 * a pipe whose reading end is closed before the child writes anything, so every write fails with EPIPE.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { writeResults } from '../../src/experiment/results.js';
import { sampleResults } from '../report/fixtures.js';
import { CLI, tempDir } from '../helpers/fixtures.js';

function closedStdout(args: string[]): Promise<{ status: number | null; signal: string | null; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    // Closed at once: node takes tens of milliseconds to start, so the child's first write meets a closed pipe.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => {
      stderr += c;
    });
    child.on('error', fail);
    child.on('close', (status, signal) => done({ status, signal, stderr }));
  });
}

describe('a closed stderr ends fcprobe with the status of the command', () => {
  it('fcprobe extract without --data: exit 2, not a loop of failed error messages', async () => {
    const r = await new Promise<{ status: number | null; signal: string | null }>((done, fail) => {
      const child = spawn(process.execPath, [CLI, 'extract', '--model', 'x.onnx'], {
        stdio: ['ignore', 'ignore', 'pipe'],
        timeout: 60_000,
      });
      child.stderr.destroy();
      child.on('error', fail);
      child.on('close', (status, signal) => done({ status, signal }));
    });
    assert.deepEqual([r.status, r.signal], [2, null]);
  });
});

describe('a closed stdout ends fcprobe quietly with status 0', () => {
  const work = tempDir('fcprobe-epipe-');
  writeResults(work, sampleResults());
  const cases: [string, string[]][] = [
    ['fcprobe --help', ['--help']],
    ['fcprobe --version', ['--version']],
    ['fcprobe extract --help', ['extract', '--help']],
    ['fcprobe models list', ['models', 'list']],
    ['fcprobe report DIR', ['report', work, '--out', join(work, 'out')]],
  ];
  for (const [name, args] of cases)
    it(name, async () => {
      const r = await closedStdout(args);
      assert.equal(r.stderr, '', 'nothing on stderr (no EPIPE error)');
      assert.deepEqual([r.status, r.signal], [0, null]);
    });
});
