import { readFileSync } from 'node:fs';

/** Read once from package.json so the manifest always states the version that wrote it. */
function readVersion(): string {
  const url = new URL('../../package.json', import.meta.url);
  const pkg = JSON.parse(readFileSync(url, 'utf8')) as { version: string };
  return pkg.version;
}

export const FCPROBE_VERSION: string = readVersion();
