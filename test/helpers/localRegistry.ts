/**
 * A throw-away npm registry on 127.0.0.1 that serves exactly the packages of the project's package-lock.json,
 * so that a test can run npm's own `npm install <tarball>` (local and global) with no network.
 *
 * Why not `npm install --offline`: npm 11 resolves every new dependency from its *full* packument, while
 * `npm ci` caches only the abbreviated one, so after a CI `npm ci` an offline install fails with ENOTCACHED.
 * Here the packuments are written from the lockfile (name, version, dependency ranges, os/cpu, integrity) and
 * the tarballs are the ones `npm ci` left in npm's content-addressed cache (`<cache>/_cacache/content-v2`,
 * keyed by the integrity the lockfile records). They are hard-linked into a private cache given to the
 * install, where npm finds them by integrity; the HTTP tarball route is the fallback.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, createReadStream, existsSync, linkSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';

interface LockEntry {
  version?: string;
  integrity?: string;
  dev?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, unknown>;
  os?: string[];
  cpu?: string[];
  libc?: string[];
  engines?: Record<string, string>;
  bin?: Record<string, string>;
  license?: string;
}

export interface LocalRegistry {
  /** Base URL, with a trailing slash (what `--registry` takes). */
  url: string;
  /** A private npm cache holding (hard links to) the lockfile's tarballs; pass it as `--cache`. */
  cache: string;
  /** Tarballs asked for over HTTP that npm's cache did not have (so the install could not finish). */
  missing: string[];
  close(): Promise<void>;
}

/** `sha512-<base64>` -> the file cacache stores that content in. */
export function cacacheContentPath(cacheDir: string, integrity: string): string {
  const dash = integrity.indexOf('-');
  const algorithm = integrity.slice(0, dash);
  const hex = Buffer.from(integrity.slice(dash + 1), 'base64').toString('hex');
  return join(cacheDir, '_cacache', 'content-v2', algorithm, hex.slice(0, 2), hex.slice(2, 4), hex.slice(4));
}

/** npm's cache folder, as npm itself reports it (`npm config get cache`). */
export function npmCacheDir(): string {
  return execFileSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' }).trim();
}

function packageName(lockKey: string): string {
  const at = lockKey.lastIndexOf('node_modules/');
  return lockKey.slice(at + 'node_modules/'.length);
}

export async function startLocalRegistry(
  lockfile: string,
  sourceCache: string,
  privateCache: string,
): Promise<LocalRegistry> {
  const lock = JSON.parse(readFileSync(lockfile, 'utf8')) as { packages: Record<string, LockEntry> };
  const byName = new Map<string, Map<string, LockEntry>>();
  for (const [key, entry] of Object.entries(lock.packages)) {
    if (key === '' || entry.dev || !entry.version || !entry.integrity) continue;
    const name = packageName(key);
    const versions = byName.get(name) ?? new Map<string, LockEntry>();
    byName.set(name, versions);
    versions.set(entry.version, entry);
    const src = cacacheContentPath(sourceCache, entry.integrity);
    const dst = cacacheContentPath(privateCache, entry.integrity);
    if (existsSync(src) && !existsSync(dst)) {
      mkdirSync(dirname(dst), { recursive: true });
      try {
        linkSync(src, dst);
      } catch {
        copyFileSync(src, dst);
      }
    }
  }
  const missing: string[] = [];
  let base = '';
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!.slice(1));
    const tar = /^-\/tarball\/(.+)\/([^/]+)\.tgz$/.exec(path);
    if (tar) {
      const entry = byName.get(tar[1]!)?.get(tar[2]!);
      const file = entry?.integrity ? cacacheContentPath(sourceCache, entry.integrity) : null;
      if (!file || !existsSync(file)) {
        missing.push(`${tar[1]}@${tar[2]}`);
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': statSync(file).size });
      createReadStream(file).pipe(res);
      return;
    }
    const versions = byName.get(path);
    if (!versions) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    const docs: Record<string, unknown> = {};
    for (const [version, e] of versions) {
      docs[version] = {
        name: path,
        version,
        ...(e.dependencies ? { dependencies: e.dependencies } : {}),
        ...(e.optionalDependencies ? { optionalDependencies: e.optionalDependencies } : {}),
        ...(e.peerDependencies ? { peerDependencies: e.peerDependencies } : {}),
        ...(e.peerDependenciesMeta ? { peerDependenciesMeta: e.peerDependenciesMeta } : {}),
        ...(e.os ? { os: e.os } : {}),
        ...(e.cpu ? { cpu: e.cpu } : {}),
        ...(e.libc ? { libc: e.libc } : {}),
        ...(e.engines ? { engines: e.engines } : {}),
        ...(e.bin ? { bin: e.bin } : {}),
        ...(e.license ? { license: e.license } : {}),
        dist: { tarball: `${base}-/tarball/${path}/${version}.tgz`, integrity: e.integrity },
      };
    }
    const latest = [...versions.keys()].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).at(-1)!;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ name: path, 'dist-tags': { latest }, versions: docs }));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url: base,
    cache: privateCache,
    missing,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}
