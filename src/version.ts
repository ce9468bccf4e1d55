import { readFileSync } from 'node:fs';

/** Read once from package.json so the manifest always states the version that wrote it. */
function readVersion(): string {
  const url = new URL('../../package.json', import.meta.url);
  const pkg = JSON.parse(readFileSync(url, 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * fcprobe's version, read from its package.json (two folders above this module in both src/ and dist/src/).
 * Written into every manifest, probe and results file.
 */
export const FCPROBE_VERSION: string = readVersion();
