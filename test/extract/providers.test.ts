/**
 * Provider fallbacks: a GPU provider that cannot run here is named with the reason once, in one line, and
 * nothing from onnxruntime's or the graphics library's native logging reaches the terminal.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  explainProviderError,
  fallbackNotice,
  noUsableProvider,
  providerUnavailableReason,
  usableProviders,
} from '../../src/extract/providers.js';
import { probeProviderInChild } from '../../src/extract/providerProbe.js';
import { CLI, linearEncoder, makeSolidFolder, tempDir, writeModel } from '../helpers/fixtures.js';

describe('execution providers', () => {
  it('words onnxruntime failures as causes, and the fallback as one line', () => {
    assert.equal(
      explainProviderError(
        'webgpu',
        'webgpu_context.cc:136 adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get ' +
          'a WebGPU adapter: No supported adapters',
      ),
      'no GPU adapter was found',
    );
    assert.match(
      explainProviderError('cuda', 'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library'),
      /libraries could not be loaded/,
    );
    assert.equal(explainProviderError('cpu', 'first line\nsecond'), 'first line');
    const line = fallbackNotice(
      [
        { provider: 'cuda', reason: 'not installed' },
        { provider: 'webgpu', reason: 'no GPU adapter was found' },
      ],
      'cpu',
    );
    assert.equal(
      line,
      'Execution provider cuda not used: not installed; webgpu not used: no GPU adapter was found; running on cpu.',
    );
    assert.ok(!line.includes('\n'));
  });

  it('skips providers known not to work here, with the reason; cpu always stays', () => {
    const { usable, skipped } = usableProviders(['tensorrt', 'cuda', 'webgpu', 'cpu']);
    assert.equal(usable[usable.length - 1], 'cpu');
    assert.equal(usable.length + skipped.length, 4);
    for (const s of skipped) assert.equal(s.reason, providerUnavailableReason(s.provider));
    const webgpu = providerUnavailableReason('webgpu');
    // WebGPU is bundled: when it cannot run the cause is the GPU adapter, never "not installed".
    if (webgpu !== null) assert.match(webgpu, /^no GPU adapter was found/);
    const e = noUsableProvider([{ provider: 'webgpu', reason: 'no GPU adapter was found' }]);
    assert.equal(e.exitCode, 7);
    assert.equal(e.message, 'Execution provider "webgpu" cannot be used: no GPU adapter was found.');
    assert.match(e.hint ?? '', /bundled with onnxruntime-node/);
    assert.match(e.hint ?? '', /--ep webgpu,cpu/);
  });

  it('tries a provider in a child process: cpu loads, a junk model fails with a reason', {
    timeout: 60_000,
  }, async () => {
    const dir = tempDir('fcprobe-providers-');
    const model = writeModel(join(dir, 'm.onnx'), linearEncoder([[1, 0, 0]], 8));
    assert.equal(await probeProviderInChild(model, 'cpu'), null);
    writeFileSync(join(dir, 'junk.onnx'), 'not a protobuf');
    const reason = await probeProviderInChild(join(dir, 'junk.onnx'), 'cpu');
    assert.ok(reason !== null && reason.length > 0);
    if (providerUnavailableReason('webgpu') !== null && process.platform === 'linux') {
      // No GPU here: Dawn prints a Vulkan warning with a stack trace to fd 2 of the child, which is dropped.
      assert.equal(await probeProviderInChild(model, 'webgpu'), 'no GPU adapter was found');
    }
  });

  it('extract --ep <gpu>,cpu -q: one notice line on stderr, no native log lines', { timeout: 120_000 }, async () => {
    const dir = tempDir('fcprobe-providers-');
    await makeSolidFolder(join(dir, 'data'), { a: [[10, 20, 30]], b: [[200, 100, 0]] });
    const model = writeModel(join(dir, 'm.onnx'), linearEncoder([[1, 0, 0]], 8));
    for (const gpu of ['cuda', 'webgpu']) {
      if (providerUnavailableReason(gpu as 'cuda' | 'webgpu') === null) continue; // the GPU works here
      const args = ['extract', '--model', model, '--data', join(dir, 'data'), '--out', join(dir, gpu)];
      const r = spawnSync(
        process.execPath,
        [CLI, ...args, '--ep', `${gpu},cpu`, '-q', '--preset', 'torchvision', '--resize', '8', '--crop', '8'],
        {
          encoding: 'utf8',
        },
      );
      assert.equal(r.status, 0, r.stderr);
      // Besides the provider notice, only the line naming the preprocessing in use (issue 14) may appear.
      const lines = r.stderr
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('preprocessing '));
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, new RegExp(`^Execution provider ${gpu} not used: .+; running on cpu\\.$`));
      const alone = spawnSync(process.execPath, [CLI, ...args, '--ep', gpu, '--force'], { encoding: 'utf8' });
      assert.equal(alone.status, 7);
      assert.match(alone.stderr, new RegExp(`fcprobe: error: Execution provider "${gpu}" cannot be used: `));
      assert.doesNotMatch(alone.stderr, /is not installed"?\.$|onnxruntime:|\n\s+at /m);
    }
  });
});
