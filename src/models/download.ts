/**
 * One file over HTTP(S) into the cache, the way Hugging Face's hub serves it: redirects followed by hand (the
 * bearer token goes only to the endpoint's own origin, never to the storage host a file is redirected to),
 * resume of an interrupted transfer from `<dest>.part` with an HTTP Range request (kept only when the server
 * answers 206 with a Content-Range that starts where the part file ends; anything else restarts from byte 0),
 * sha256 verification, and an atomic publish (fsync, rename, fsync of the folder).
 */
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { ensureWritableDir } from '../io/atomic.js';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { FcprobeError } from '../errors.js';
import { sha256File } from '../io/hash.js';

export interface DownloadOptions {
  /** Sent as `Authorization: Bearer <token>` to `authOrigin` only. */
  token?: string | undefined;
  /** Origin (scheme://host:port) that may see the token; default: the first URL's. */
  authOrigin?: string | undefined;
  /** Verify against this sha256 (lower-case hex); null: record whatever arrives (first pull). */
  expectedSha256: string | null;
  /** Resumed attempts after a transfer breaks off (default 3). */
  retries?: number | undefined;
  onProgress?: ((done: number, total: number | null) => void) | undefined;
  /** What the error messages call the file (default: the URL). */
  label?: string | undefined;
}

export interface DownloadResult {
  path: string;
  sha256: string;
  size: number;
  /** X-Repo-Commit of the hub's answer, when present. */
  commit: string | null;
  /** Bytes the last transfer started from (0: a fresh download). */
  resumedFrom: number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const NETWORK_CODES = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNREFUSED',
  'ECONNRESET',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);

function errorCode(e: unknown): string {
  const cause = (e as { cause?: { code?: string } }).cause;
  return cause?.code ?? (e as { code?: string }).code ?? (e as Error).message;
}

/** GET with redirects followed by hand (at most 10), the token sent only to `authOrigin`. */
async function get(
  url: string,
  headers: Record<string, string>,
  token: string | undefined,
  authOrigin: string,
  label: string,
): Promise<Response> {
  let current = url;
  for (let hop = 0; hop <= 10; hop++) {
    const h: Record<string, string> = { ...headers };
    if (token && new URL(current).origin === authOrigin) h.authorization = `Bearer ${token}`;
    let res: Response;
    try {
      res = await fetch(current, { headers: h, redirect: 'manual' });
    } catch (e) {
      const code = errorCode(e);
      const host = new URL(current).host;
      throw new FcprobeError(
        'IO',
        `Cannot reach ${host} to download ${label} (${code}).`,
        NETWORK_CODES.has(code)
          ? 'fcprobe is offline or the host is blocked. Pull on a machine with network access, then copy the cache ' +
              'folder ($FCPROBE_CACHE) here; set HF_ENDPOINT for a mirror.'
          : undefined,
      );
    }
    if (!REDIRECTS.has(res.status)) return res;
    const loc = res.headers.get('location');
    await res.body?.cancel();
    if (!loc)
      throw new FcprobeError('IO', `${new URL(current).host} answered ${res.status} without a Location for ${label}.`);
    current = new URL(loc, current).href;
  }
  throw new FcprobeError('IO', `Too many redirects (more than 10) while downloading ${label}.`);
}

function httpError(res: Response, label: string, hadToken: boolean): FcprobeError {
  if (res.status === 404)
    return new FcprobeError(
      'NOT_FOUND',
      `${label} does not exist on the server (HTTP 404).`,
      'Check the repository, the path inside it and the revision (branch, tag or commit).',
    );
  if (res.status === 401 || res.status === 403)
    return new FcprobeError(
      'IO',
      `The server refused ${label} (HTTP ` +
        `${res.status}${hadToken ? ', with the token in HF_TOKEN' : ', no token sent'}).`,
      hadToken
        ? 'The token in HF_TOKEN has no access: accept the model licence on its page, or use a token with read access.'
        : 'The repository is gated or private: set HF_TOKEN to a Hugging Face access token (read) and pull again.',
    );
  return new FcprobeError('IO', `The server answered HTTP ${res.status} ${res.statusText} for ${label}.`);
}

/** `bytes a-b/total` -> { start, total|null }, or null when malformed. */
export function parseContentRange(v: string | null): { start: number; end: number; total: number | null } | null {
  const m = v ? /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(v.trim()) : null;
  if (!m) return null;
  return { start: Number(m[1]), end: Number(m[2]), total: m[3] === '*' ? null : Number(m[3]) };
}

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some file systems (and Windows) refuse to open a folder; the rename itself is still atomic there.
  }
}

/** Moves a finished, verified part file into place atomically. */
export function publish(part: string, dest: string): void {
  renameSync(part, dest);
  fsyncDir(dirname(dest));
}

/**
 * Downloads `url` to `<dest>.part` (resuming what an earlier attempt left there) and verifies it. The caller
 * publishes it with publish() once everything that belongs with it is in place. Throws NOT_FOUND (404),
 * IO (offline, 401/403, other HTTP errors, a transfer still broken after the retries: rerun to resume) or
 * MISMATCH (the bytes' sha256 is not the expected one; the part file is removed).
 */
export async function downloadToPart(url: string, dest: string, opts: DownloadOptions): Promise<DownloadResult> {
  const label = opts.label ?? url;
  const part = `${dest}.part`;
  const authOrigin = opts.authOrigin ?? new URL(url).origin;
  const retries = opts.retries ?? 3;
  ensureWritableDir(dirname(dest));
  let commit: string | null = null;
  let resumedFrom = 0;
  for (let attempt = 0; ; attempt++) {
    const offset = existsSync(part) ? statSync(part).size : 0;
    const headers: Record<string, string> = { 'accept-encoding': 'identity' };
    if (offset > 0) headers.range = `bytes=${offset}-`;
    const res = await get(url, headers, opts.token, authOrigin, label);
    if (res.status === 416 && offset > 0) {
      // The part file is not a prefix the server recognizes (longer than the file?): start again.
      await res.body?.cancel();
      rmSync(part, { force: true });
      continue;
    }
    if (res.status !== 200 && res.status !== 206) {
      await res.body?.cancel();
      throw httpError(res, label, Boolean(opts.token));
    }
    commit = res.headers.get('x-repo-commit') ?? commit;
    let start = 0;
    let total: number | null = null;
    const length = res.headers.get('content-length');
    if (res.status === 206) {
      const cr = parseContentRange(res.headers.get('content-range'));
      if (offset === 0 || cr === null || cr.start !== offset) {
        // A range we did not ask for, or one that starts elsewhere: trust none of it.
        await res.body?.cancel();
        rmSync(part, { force: true });
        if (attempt >= retries)
          throw new FcprobeError('IO', `The server answered ${label} with an unusable partial response.`);
        continue;
      }
      start = offset;
      total = cr.total;
    } else {
      // 200 to a Range request: the server ignored it, so this is the whole file from byte 0.
      total = length === null ? null : Number(length);
    }
    if (total === null && length !== null) total = start + Number(length);
    resumedFrom = start;
    const fh = await open(part, start > 0 ? 'a' : 'w');
    let done = start;
    let broken: unknown = null;
    try {
      if (res.body) {
        try {
          for await (const chunk of res.body) {
            await fh.write(chunk);
            done += chunk.length;
            opts.onProgress?.(done, total);
          }
        } catch (e) {
          broken = e;
        }
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (broken === null && (total === null || done === total)) break;
    if (attempt >= retries)
      throw new FcprobeError(
        'IO',
        `The transfer of ${label} broke off at ${done} of ${total ?? '?'} ` +
          `bytes${broken ? ` (${errorCode(broken)})` : ''}.`,
        'Run the same pull again: it resumes from the bytes already received.',
      );
  }
  const size = statSync(part).size;
  const sha256 = await sha256File(part);
  if (opts.expectedSha256 !== null && sha256 !== opts.expectedSha256) {
    rmSync(part, { force: true });
    throw new FcprobeError(
      'MISMATCH',
      `${label}: the downloaded file's sha256 is ${sha256}, expected ${opts.expectedSha256}.`,
      'The file on the server changed since its checksum was recorded (catalog or lock file), or the transfer was ' +
        'corrupted. Nothing was kept; if the change is expected, remove its entry from fcprobe-models.lock.json in ' +
        'the cache and pull again.',
    );
  }
  return { path: part, sha256, size, commit, resumedFrom };
}
