/**
 * Execution-provider availability. onnxruntime-node bundles cpu and webgpu; cuda and tensorrt need provider
 * libraries that its install script fetches from outside npm (skipped by our .npmrc), so we check for the
 * library files before asking for them and name the fix when they are missing.
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { badOption, FcprobeError } from '../errors.js';
import type { ProviderName } from './protocol.js';

export const PROVIDERS: readonly ProviderName[] = ['tensorrt', 'cuda', 'webgpu', 'cpu'];

const require = createRequire(import.meta.url);

function bindingDir(): string | null {
  try {
    const pkg = dirname(require.resolve('onnxruntime-node/package.json'));
    const base = join(pkg, 'bin');
    for (const napi of readdirSync(base)) {
      const d = join(base, napi, process.platform, process.arch);
      if (existsSync(d)) return d;
    }
  } catch {
    return null;
  }
  return null;
}

/** Whether the provider's shared library is installed next to onnxruntime's binding. */
export function providerInstalled(p: ProviderName): boolean {
  if (p === 'cpu') return true;
  if (p === 'webgpu') return process.platform !== 'linux' || existsSync('/dev/dri') || existsSync('/dev/nvidiactl');
  const dir = bindingDir();
  if (!dir) return false;
  const lib = p === 'cuda' ? 'libonnxruntime_providers_cuda.so' : 'libonnxruntime_providers_tensorrt.so';
  return existsSync(join(dir, lib));
}

export const INSTALL_HINT: Record<ProviderName, string> = {
  cuda: 'Install the CUDA provider: `npm rebuild onnxruntime-node --onnxruntime-node-install=cuda12` on a machine that can reach the onnxruntime feed (see docs/gpu.md), with CUDA 12 and cuDNN 9 libraries on the library path.',
  tensorrt:
    'Install the CUDA provider as for --ep cuda and TensorRT 10 libraries on the library path (see docs/gpu.md).',
  webgpu: 'WebGPU needs a GPU with a Vulkan driver visible to this process.',
  cpu: '',
};

export function parseProviders(text: string | undefined): { list: ProviderName[]; explicit: boolean } {
  if (text === undefined || text === 'auto') {
    // Default: the best installed provider, CPU last. WebGPU is opt-in: on machines without a GPU its
    // adapter search can fail slowly, and on CUDA machines cuda is the better choice.
    const list = (['tensorrt', 'cuda'] as ProviderName[]).filter((p) => p === 'cuda' && providerInstalled(p));
    return { list: [...list, 'cpu'], explicit: false };
  }
  const list = text
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  for (const p of list) {
    if (!(PROVIDERS as readonly string[]).includes(p))
      throw badOption('--ep', `a comma-separated list of ${PROVIDERS.join(', ')}`, text);
  }
  if (list.length === 0) throw badOption('--ep', 'at least one provider', text);
  return { list: list as ProviderName[], explicit: true };
}

/** Fails early when an explicitly requested provider is missing and nothing after it may take over. */
export function checkProvidersInstalled(list: ProviderName[]): void {
  const last = list[list.length - 1]!;
  if (list.length === 1 && !providerInstalled(last)) {
    throw new FcprobeError(
      'PROVIDER_UNAVAILABLE',
      `Execution provider "${last}" is not installed.`,
      INSTALL_HINT[last],
    );
  }
}
