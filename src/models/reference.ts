/**
 * Model references: `hf:owner/repo/path/to/file.onnx[@revision]` (a file of a Hugging Face repository) and
 * where such a file lives in fcprobe's cache. Pure string handling; no I/O.
 */
import { join } from 'node:path';
import { badOption } from '../errors.js';

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
 * Parses `hf:owner/repo/path.onnx[@revision]`. Throws BAD_OPTION naming what is wrong (unsafe path segments,
 * a file that is not .onnx) so that nothing can be written outside the cache.
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
  const parts = body.split('/');
  const [owner, name, ...rest] = parts;
  const segOk = (s: string): boolean => s !== '' && s !== '.' && s !== '..' && !s.includes('\\');
  if (
    owner === undefined ||
    name === undefined ||
    !NAME.test(owner) ||
    !NAME.test(name) ||
    rest.length === 0 ||
    !rest.every(segOk) ||
    !body.endsWith('.onnx') ||
    revision === '' ||
    revision.includes('..')
  )
    throw badOption('the model reference', expected, spec);
  return { repo: `${owner}/${name}`, path: rest.join('/'), revision };
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

/** Where a file of the reference's repository revision is stored in the cache. */
export function cachePath(cacheDir: string, ref: HubRef, path: string = ref.path): string {
  return join(cacheFolder(cacheDir, ref), ...path.split('/'));
}
