/**
 * Model references: `hf:owner/repo/path/to/file.onnx[@revision]` (a file of a Hugging Face repository) and
 * where such a file lives in fcprobe's cache. Pure string handling; no I/O.
 */
import { isAbsolute, join, relative, resolve } from 'node:path';
import { badOption, FcprobeError } from '../errors.js';
import { hasControl } from '../io/terminal.js';

export interface HubRef {
  repo: string;
  /** Path inside the repository, '/'-separated. */
  path: string;
  /** Branch, tag or commit; 'main' when the reference names none. */
  revision: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function isHubRef(spec: string): boolean {
  return spec.startsWith('hf:');
}

/**
 * Why `ref` could write outside its cache folder or is otherwise unusable, or null when it is safe: owner and
 * name are plain names; the path is '/'-separated segments that are not empty, `.` or `..`, with no `\\` and
 * no control characters, ending in `.onnx`; the revision is one segment (no `/` or `\\`, not `.` or `..`, no
 * `..` anywhere, no control characters). hf: references and catalog entries both go through this check, so a
 * catalog cannot name what the command line may not.
 */
export function hubRefProblem(ref: HubRef): string | null {
  const [owner, name, ...more] = ref.repo.split('/');
  if (owner === undefined || name === undefined || more.length > 0 || !NAME.test(owner) || !NAME.test(name))
    return `the repository "${ref.repo}" is not <owner>/<name> (letters, digits, ".", "_", "-")`;
  const segOk = (s: string): boolean => s !== '' && s !== '.' && s !== '..' && !s.includes('\\');
  if (hasControl(ref.path) || !ref.path.split('/').every(segOk))
    return `the path "${ref.path}" is not a relative path inside the repository (no "..", "." or empty segments)`;
  if (!ref.path.endsWith('.onnx')) return `the path "${ref.path}" is not an .onnx file`;
  const r = ref.revision;
  if (r === '' || r === '.' || r.includes('..') || /[/\\]/.test(r) || hasControl(r))
    return `the revision "${r}" is not one branch, tag or commit name (no "/", "\\" or "..")`;
  return null;
}

/**
 * Parses `hf:owner/repo/path.onnx[@revision]`. Throws BAD_OPTION naming what is wrong (unsafe path segments,
 * a file that is not .onnx, a revision with a separator) so that nothing can be written outside the cache.
 */
export function parseHubRef(spec: string): HubRef {
  const expected = 'hf:<owner>/<repo>/<path>.onnx[@<revision>], e.g. hf:Xenova/dinov2-small/onnx/model.onnx@main';
  if (!isHubRef(spec)) throw badOption('the model reference', expected, spec);
  let body = spec.slice(3);
  let revision = 'main';
  const at = body.lastIndexOf('@');
  if (at >= 0) {
    revision = body.slice(at + 1);
    body = body.slice(0, at);
  }
  const [owner = '', name = '', ...rest] = body.split('/');
  const ref = { repo: `${owner}/${name}`, path: rest.join('/'), revision };
  const problem = hubRefProblem(ref);
  if (problem !== null) throw badOption('the model reference', expected, spec, `${problem}.`);
  return ref;
}

/** The canonical text of a reference (the lock file's key): always with its revision. */
export function formatHubRef(ref: HubRef): string {
  return `hf:${ref.repo}/${ref.path}@${ref.revision}`;
}

/** `<endpoint>/<owner>/<repo>/resolve/<revision>/<path>`, as huggingface_hub builds it. */
export function hubUrl(endpoint: string, ref: HubRef, path: string = ref.path): string {
  const base = endpoint.replace(/\/+$/, '');
  const p = path.split('/').map(encodeURIComponent).join('/');
  return `${base}/${ref.repo}/resolve/${encodeURIComponent(ref.revision)}/${p}`;
}

/** Folder of a repository revision in the cache: <cache>/hub/<owner>/<repo>/<revision>. */
export function cacheFolder(cacheDir: string, ref: HubRef): string {
  const [owner, name] = ref.repo.split('/') as [string, string];
  return join(cacheDir, 'hub', owner, name, encodeURIComponent(ref.revision));
}

/**
 * Throws IO unless `path`, resolved, lies strictly inside `root` resolved: the last check before any write
 * into the cache, whatever the names that built the path went through before.
 */
export function assertInside(root: string, path: string): string {
  const rel = relative(resolve(root), resolve(path));
  if (rel === '' || rel.split(/[\\/]/)[0] === '..' || isAbsolute(rel))
    throw new FcprobeError(
      'IO',
      `Refusing to write ${path}: it is not inside the cache folder ${root}.`,
      'A model reference, catalog entry or external-data location named a path outside the cache.',
    );
  return path;
}

/** Where a file of the reference's repository revision is stored in the cache (checked to stay inside it). */
export function cachePath(cacheDir: string, ref: HubRef, path: string = ref.path): string {
  return assertInside(cacheDir, join(cacheFolder(cacheDir, ref), ...path.split('/')));
}

/**
 * Where the download of a cache file is kept until it is complete: `<cache>/partial/<owner>/<repo>/<revision>/
 * <path>.part`, beside its validator `<path>.part.json`. Outside `hub/`, so no name a model declares (an
 * external-data location called `model.onnx.part`, say) can be the temporary file of another.
 */
export function partPath(cacheDir: string, ref: HubRef, path: string = ref.path): string {
  return assertInside(cacheDir, `${join(partialFolder(cacheDir, ref), ...path.split('/'))}.part`);
}

/** The folder of a repository revision's part files; its `.fcprobe.lock` is held while a pull writes there. */
export function partialFolder(cacheDir: string, ref: HubRef): string {
  const [owner, name] = ref.repo.split('/') as [string, string];
  return assertInside(cacheDir, join(cacheDir, 'partial', owner, name, encodeURIComponent(ref.revision)));
}
