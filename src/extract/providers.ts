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

const VULKAN_DIRS = [
  '/usr/lib/x86_64-linux-gnu',
  '/usr/lib/aarch64-linux-gnu',
  '/usr/lib64',
  '/usr/lib',
  '/lib64',
  '/lib',
];

/** Whether the Vulkan loader Dawn (onnxruntime's WebGPU) opens on Linux can be found. */
function vulkanLoaderPresent(): boolean {
  const dirs = [...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), ...VULKAN_DIRS];
  return dirs.some((d) => existsSync(join(d, 'libvulkan.so.1')));
}

/**
 * Why a provider cannot be used on this machine, found without loading it (which prints native log lines
 * and stack traces on stderr that no session option silences); null when it may work.
 */
export function providerUnavailableReason(p: ProviderName): string | null {
  if (p === 'cpu') return null;
  if (p === 'webgpu') {
    // WebGPU ships inside onnxruntime-node: what is missing is a GPU adapter, never the provider.
    if (process.platform !== 'linux') return null;
    if (!existsSync('/dev/dri') && !existsSync('/dev/nvidiactl'))
      return 'no GPU adapter was found (no GPU device in /dev/dri or /dev/nvidiactl)';
    if (!vulkanLoaderPresent()) return 'no GPU adapter was found (the Vulkan loader libvulkan.so.1 is not installed)';
    return null;
  }
  const dir = bindingDir();
  const lib = p === 'cuda' ? 'libonnxruntime_providers_cuda.so' : 'libonnxruntime_providers_tensorrt.so';
  if (!dir || !existsSync(join(dir, lib))) return `not installed (no ${lib} next to onnxruntime's binding)`;
  return null;
}

/** Whether the provider may work here (installed and, for WebGPU, a GPU adapter can exist). */
export function providerInstalled(p: ProviderName): boolean {
  return providerUnavailableReason(p) === null;
}

export interface ProviderFailure {
  provider: ProviderName;
  reason: string;
}

/** Splits a provider list into those worth trying and those known not to work here (with why). */
export function usableProviders(list: ProviderName[]): { usable: ProviderName[]; skipped: ProviderFailure[] } {
  const usable: ProviderName[] = [];
  const skipped: ProviderFailure[] = [];
  for (const provider of list) {
    const reason = providerUnavailableReason(provider);
    if (reason === null) usable.push(provider);
    else skipped.push({ provider, reason });
  }
  return { usable, skipped };
}

/** onnxruntime's error for a provider that failed to load, in words a user can act on. */
export function explainProviderError(provider: ProviderName, message: string): string {
  const first = message.split('\n')[0] ?? message;
  if (/Failed to get a WebGPU adapter|No supported adapters/i.test(message)) return 'no GPU adapter was found';
  if ((provider === 'cuda' || provider === 'tensorrt') && /Failed to load shared library/i.test(message))
    return 'its libraries could not be loaded (CUDA 12, cuDNN 9 or TensorRT missing from the library path?)';
  return first;
}

/**
 * One line for the providers that were tried and not used: `Execution provider webgpu not used: no GPU adapter
 * was found; running on cpu.`
 */
export function fallbackNotice(failures: ProviderFailure[], used: ProviderName): string {
  const why = failures.map((f) => `${f.provider} not used: ${f.reason}`).join('; ');
  return `Execution provider ${why}; running on ${used}.`;
}

export const INSTALL_HINT: Record<ProviderName, string> = {
  cuda:
    'Install the CUDA provider: `npm rebuild onnxruntime-node --onnxruntime-node-install=cuda12` on a machine that ' +
    'can reach the onnxruntime feed (see docs/gpu.md), with CUDA 12 and cuDNN 9 libraries on the library path.',
  tensorrt:
    'Install the CUDA provider as for --ep cuda and TensorRT 10 libraries on the library path (see docs/gpu.md).',
  webgpu:
    'WebGPU is bundled with onnxruntime-node but needs a GPU with a Vulkan driver (libvulkan.so.1 and a device in ' +
    '/dev/dri or /dev/nvidiactl) visible to this process (see docs/gpu.md).',
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

/** The error for a provider list none of whose members can run here; `skipped` says why for each. */
export function noUsableProvider(skipped: ProviderFailure[]): FcprobeError {
  const only = skipped.length === 1 ? skipped[0]! : null;
  return new FcprobeError(
    'PROVIDER_UNAVAILABLE',
    only
      ? `Execution provider "${only.provider}" cannot be used: ${only.reason}.`
      : `No requested execution provider can be used: ${skipped.map((s) => `${s.provider}: ${s.reason}`).join('; ')}.`,
    (
      `${[...new Set(skipped.map((s) => INSTALL_HINT[s.provider]).filter(Boolean))].join(' ')} Add cpu as a fallback ` +
      `(e.g. --ep ${skipped[0]?.provider ?? 'cuda'},cpu) to run on the CPU instead.`
    ).trim(),
  );
}

/** Fails early when the providers requested explicitly cannot work here and nothing after them may take over. */
export function checkProvidersInstalled(list: ProviderName[]): void {
  const { usable, skipped } = usableProviders(list);
  if (usable.length === 0) throw noUsableProvider(skipped);
}
