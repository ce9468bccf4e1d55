/**
 * One file over HTTP(S) into the cache, the way Hugging Face's hub serves it: redirects followed by hand (the
 * bearer token goes only to the endpoint's own origin, never to the storage host a file is redirected to),
 * resume of an interrupted transfer from its part file with an HTTP Range request, sha256 verification, and an
 * atomic publish (fsync, rename, fsync of the folder).
 *
 * A resume may only append bytes of the same version of the file. The first answer's validator (ETag, the
 * hub's X-Repo-Commit, the total size) is written beside the part file (`<part>.json`, so it survives the
 * process); the resume sends `If-Range: <ETag>` (a server that honours it answers 200 with the whole new
 * version when the file changed) and keeps the partial answer only when its ETag, commit and total size are
 * the recorded ones and its Content-Range starts where the part file ends. Anything else, a part file without
 * a validator included, restarts from byte 0: `main` moving between two attempts must never stitch two files.
 *
 * A transfer that stops sending is abandoned after `stallTimeoutS` seconds without a byte (the same bound
 * covers the wait for the answer's headers); the part file stays for the next run to resume.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { statfsSync, statSync, writeFileSync } from 'node:fs';
import { ensureWritableDir } from '../io/atomic.js';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { FcprobeError } from '../errors.js';
import { sha256File } from '../io/hash.js';
import { fromSystemError } from '../io/sysError.js';

/** Seconds without a byte before a transfer is abandoned, unless --stall-timeout / FCPROBE_STALL_TIMEOUT say. */
export const DEFAULT_STALL_TIMEOUT_S = 60;

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
  /** The part file (default `<dest>.part`); its validator is `<part>.json`. */
  part?: string | undefined;
  /** Seconds without response headers or a body byte before giving up (default DEFAULT_STALL_TIMEOUT_S). */
  stallTimeoutS?: number | undefined;
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

/**
 * A watchdog for one transfer: `signal` aborts once `seconds` pass without kick() (called when headers or a
 * body chunk arrive). `stalled` says whether it fired, so the abort is reported as a stall, not a network error.
 */
class StallTimer {
  private readonly ctrl = new AbortController();
  private timer: NodeJS.Timeout | null = null;
  stalled = false;
  constructor(readonly seconds: number) {
    this.kick();
  }
  get signal(): AbortSignal {
    return this.ctrl.signal;
  }
  kick(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.stalled = true;
      this.ctrl.abort(new Error(`no data for ${this.seconds} s`));
    }, this.seconds * 1000);
  }
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** The answer of get(): the final response, and the hub's commit seen on any hop (it sits on the redirect). */
interface Answer {
  res: Response;
  commit: string | null;
}

/** GET with redirects followed by hand (at most 10), the token sent only to `authOrigin`. */
async function get(
  url: string,
  headers: Record<string, string>,
  token: string | undefined,
  authOrigin: string,
  label: string,
  watch: StallTimer,
): Promise<Answer> {
  let current = url;
  let commit: string | null = null;
  for (let hop = 0; hop <= 10; hop++) {
    const h: Record<string, string> = { ...headers };
    if (token && new URL(current).origin === authOrigin) h.authorization = `Bearer ${token}`;
    let res: Response;
    try {
      res = await fetch(current, { headers: h, redirect: 'manual', signal: watch.signal });
    } catch (e) {
      const host = new URL(current).host;
      if (watch.stalled)
        throw new FcprobeError(
          'IO',
          `${host} sent no answer for ${label} within ${watch.seconds} s (stall timeout).`,
          'The server or the network is stuck: run the same pull again later (a part file already received is ' +
            'resumed); --stall-timeout <seconds> (or FCPROBE_STALL_TIMEOUT) waits longer.',
        );
      const code = errorCode(e);
      throw new FcprobeError(
        'IO',
        `Cannot reach ${host} to download ${label} (${code}).`,
        NETWORK_CODES.has(code)
          ? 'fcprobe is offline or the host is blocked. Pull on a machine with network access, then copy the cache ' +
              'folder ($FCPROBE_CACHE) here; set HF_ENDPOINT for a mirror.'
          : undefined,
      );
    }
    watch.kick();
    commit = commit ?? res.headers.get('x-repo-commit');
    if (!REDIRECTS.has(res.status)) return { res, commit };
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
  // The reason phrase is the server's text: the CLI escapes its control characters before printing it.
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
  rmSync(`${part}.json`, { force: true });
}

/** What identifies the version of the file a part holds; written beside it as `<part>.json`. */
interface Validator {
  url: string;
  etag: string | null;
  commit: string | null;
  total: number | null;
}

function readValidator(part: string): Validator | null {
  try {
    const v = JSON.parse(readFileSync(`${part}.json`, 'utf8')) as Partial<Validator> | null;
    if (
      v &&
      typeof v.url === 'string' &&
      (v.etag === null || typeof v.etag === 'string') &&
      (v.commit === null || typeof v.commit === 'string') &&
      (v.total === null || Number.isSafeInteger(v.total))
    )
      return v as Validator;
  } catch {
    // absent or garbled: the part file cannot be trusted, the caller starts over
  }
  return null;
}

/** Removes a part file and its validator (an untrusted or finished transfer). */
export function discardPart(part: string): void {
  rmSync(part, { force: true });
  rmSync(`${part}.json`, { force: true });
}

/** Free bytes for an unprivileged writer on the file system of `dir`, or null when the platform cannot say. */
function freeBytes(dir: string): number | null {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}

/**
 * Downloads `url` to its part file (resuming what an earlier attempt of the same version left there) and
 * verifies it. The caller publishes it with publish() once everything that belongs with it is in place.
 * Throws NOT_FOUND (404), IO (offline, 401/403, other HTTP errors, a stall, a transfer still broken after the
 * retries: rerun to resume; a disk too small for the declared size or full while writing) or MISMATCH (the
 * bytes' sha256 is not the expected one; the part file is removed).
 */
export async function downloadToPart(url: string, dest: string, opts: DownloadOptions): Promise<DownloadResult> {
  const label = opts.label ?? url;
  const part = opts.part ?? `${dest}.part`;
  const authOrigin = opts.authOrigin ?? new URL(url).origin;
  const retries = opts.retries ?? 3;
  const stallS = opts.stallTimeoutS ?? DEFAULT_STALL_TIMEOUT_S;
  ensureWritableDir(dirname(dest));
  ensureWritableDir(dirname(part));
  let commit: string | null = null;
  let resumedFrom = 0;
  for (let attempt = 0; ; attempt++) {
    let offset = existsSync(part) ? statSync(part).size : 0;
    const saved = offset > 0 ? readValidator(part) : null;
    // A part file is resumable only with the validator of the version it holds (none: written by an older
    // fcprobe, or the validator was lost), and only when that version could be recognised again.
    if (offset > 0 && (saved === null || saved.url !== url || (saved.etag === null && saved.commit === null))) {
      discardPart(part);
      offset = 0;
    }
    const headers: Record<string, string> = { 'accept-encoding': 'identity' };
    if (offset > 0 && saved) {
      headers.range = `bytes=${offset}-`;
      // If-Range takes a strong ETag only; without one the comparison below still guards the resume.
      if (saved.etag && !saved.etag.startsWith('W/')) headers['if-range'] = saved.etag;
    }
    const watch = new StallTimer(stallS);
    try {
      const { res, commit: answerCommit } = await get(url, headers, opts.token, authOrigin, label, watch);
      if (res.status === 416 && offset > 0) {
        // The part file is not a prefix the server recognizes (longer than the file?): start again.
        await res.body?.cancel();
        discardPart(part);
        continue;
      }
      if (res.status !== 200 && res.status !== 206) {
        await res.body?.cancel();
        throw httpError(res, label, Boolean(opts.token));
      }
      const etag = res.headers.get('etag');
      commit = answerCommit;
      let start = 0;
      let total: number | null = null;
      const length = res.headers.get('content-length');
      if (res.status === 206) {
        const cr = parseContentRange(res.headers.get('content-range'));
        const sameVersion =
          saved !== null &&
          cr !== null &&
          cr.total !== null &&
          cr.total === saved.total &&
          etag === saved.etag &&
          answerCommit === saved.commit;
        if (offset === 0 || cr === null || cr.start !== offset || !sameVersion) {
          // A range we did not ask for, one that starts elsewhere, or bytes of another version of the file (the
          // branch moved since the part was written): trust none of it, and start over from byte 0.
          await res.body?.cancel();
          discardPart(part);
          if (attempt >= retries)
            throw new FcprobeError(
              'IO',
              `The server answered ${label} with a partial response that does not continue the part file.`,
              'Run the same pull again: it starts from byte 0.',
            );
          continue;
        }
        start = offset;
        total = cr.total;
      } else {
        // 200 (to a Range request too: the server ignored it, or If-Range found a new version): the whole file.
        total = length === null ? null : Number(length);
      }
      if (total === null && length !== null) total = start + Number(length);
      const free = total === null ? null : freeBytes(dirname(part));
      if (total !== null && free !== null && total - start > free) {
        await res.body?.cancel();
        throw new FcprobeError(
          'IO',
          `Disk full: ${label} needs ${total - start} more bytes, ${free} are free in ${dirname(part)}.`,
          'Free space on that disk, or set FCPROBE_CACHE to a folder on a larger one, and pull again.',
        );
      }
      resumedFrom = start;
      // A fresh start records which version its bytes belong to before the first byte is written.
      if (start === 0) {
        try {
          writeFileSync(`${part}.json`, `${JSON.stringify({ url, etag, commit: answerCommit, total })}\n`);
        } catch (e) {
          await res.body?.cancel();
          throw fromSystemError(e, `${part}.json`, 'writing');
        }
      }
      const fh = await open(part, start > 0 ? 'a' : 'w');
      let done = start;
      let broken: unknown = null;
      let writeError: unknown = null;
      try {
        if (res.body) {
          try {
            for await (const chunk of res.body) {
              watch.kick();
              try {
                await fh.write(chunk);
              } catch (e) {
                writeError = e;
                break;
              }
              done += chunk.length;
              opts.onProgress?.(done, total);
            }
          } catch (e) {
            broken = e;
          }
        }
        if (writeError === null) await fh.sync();
      } catch (e) {
        writeError = e;
      } finally {
        await fh.close().catch(() => {});
      }
      if (writeError !== null) {
        // Our side failed (a full disk, a quota): the bytes on disk are not what arrived, so keep nothing.
        discardPart(part);
        throw fromSystemError(writeError, part, 'writing');
      }
      if (watch.stalled)
        throw new FcprobeError(
          'IO',
          `No data from the server for ${stallS} s while downloading ${label} (at ${done} of ` +
            `${total ?? '?'} bytes; stall timeout).`,
          'Run the same pull again: it resumes from the bytes already received. --stall-timeout <seconds> (or ' +
            'FCPROBE_STALL_TIMEOUT) waits longer.',
        );
      if (broken === null && (total === null || done === total)) break;
      if (attempt >= retries)
        throw new FcprobeError(
          'IO',
          `The transfer of ${label} broke off at ${done} of ${total ?? '?'} ` +
            `bytes${broken ? ` (${errorCode(broken)})` : ''}.`,
          'Run the same pull again: it resumes from the bytes already received.',
        );
    } finally {
      watch.stop();
    }
  }
  const size = statSync(part).size;
  const sha256 = await sha256File(part);
  if (opts.expectedSha256 !== null && sha256 !== opts.expectedSha256) {
    discardPart(part);
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
