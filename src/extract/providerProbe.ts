/** Tries a GPU provider in a child process first, so that its native stderr never reaches the terminal. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ProviderName } from './protocol.js';

const ENTRY = fileURLToPath(new URL('./providerProbeEntry.js', import.meta.url));

/**
 * Loads `modelPath` on `provider` in a child process. Resolves null when it loads, else the reason in words
 * (what the child reported, or how it ended). The child's stderr is read and dropped: that is the point.
 */
export function probeProviderInChild(
  modelPath: string,
  provider: ProviderName,
  timeoutMs = 120_000,
): Promise<string | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [ENTRY, modelPath, provider], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.resume();
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve(`the provider check could not start (${e.message})`);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      try {
        const r = JSON.parse(line) as { ok: boolean; reason?: string };
        resolve(r.ok ? null : (r.reason ?? 'unknown error'));
      } catch {
        resolve(
          signal === 'SIGKILL'
            ? `loading it did not finish within ${timeoutMs / 1000} s`
            : `loading it crashed the process (exit ${code ?? signal})`,
        );
      }
    });
  });
}
