import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import onnxProto from 'onnx-proto';
import { LOCK_FILE, readLock } from '../../src/models/cache.js';
import { pullModel } from '../../src/models/pull.js';
import { resolveModel } from '../../src/models/resolve.js';
import { isFcprobeError } from '../../src/errors.js';
import { linearEncoder, makeNoiseFolder, runCliAsync, tempDir } from '../helpers/fixtures.js';

/** The CLI run asynchronously: the hub answering it lives in this process's event loop. */
const cli = runCliAsync;

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/**
 * A graph whose initializer W lives in an external file, written the way onnx.save_model(..., save_as_external_data)
 * does.
 */
function externalGraph(location: string): { graph: Uint8Array; data: Uint8Array } {
  const { onnx } = onnxProto;
  const m = onnx.ModelProto.decode(linearEncoder([[1, 0, 0]], null));
  const w = m.graph!.initializer![0]!;
  const raw = Buffer.from(new Float32Array(w.floatData!.length ? w.floatData! : [1, 0, 0]).buffer);
  w.floatData = [];
  w.rawData = new Uint8Array(0);
  w.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
  w.externalData = [
    { key: 'location', value: location },
    { key: 'offset', value: '0' },
    { key: 'length', value: String(raw.length) },
  ];
  return { graph: onnx.ModelProto.encode(m).finish(), data: new Uint8Array(raw) };
}

interface Hit {
  url: string;
  range: string | undefined;
  auth: string | undefined;
}

/**
 * A hub on 127.0.0.1: /<repo>/resolve/<rev>/<path> serves `files`, honouring Range; special repos misbehave
 * on purpose. `storage` is a second server (another origin) that a redirect sends the file to.
 */
class FakeHub {
  server!: Server;
  storage!: Server;
  hits: Hit[] = [];
  storageHits: Hit[] = [];
  files = new Map<string, Uint8Array>();
  /** Paths whose next full (non-range) response is cut after this many bytes. */
  truncateOnce = new Map<string, number>();
  /** Paths whose Range requests are ignored (200 with the whole file). */
  ignoreRange = new Set<string>();
  token = 'hf_secret';
  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  get storageBase(): string {
    return `http://127.0.0.1:${(this.storage.address() as AddressInfo).port}`;
  }
  async start(): Promise<void> {
    this.server = createServer((q, s) => this.handle(q, s));
    this.storage = createServer((q, s) => this.serveStorage(q, s));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => this.storage.listen(0, '127.0.0.1', r));
  }
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    this.storage.closeAllConnections();
    await new Promise((r) => this.server.close(r));
    await new Promise((r) => this.storage.close(r));
  }
  private send(key: string, body: Uint8Array, q: IncomingMessage, s: ServerResponse): void {
    const range = /^bytes=(\d+)-$/.exec(q.headers.range ?? '');
    if (range && !this.ignoreRange.has(key)) {
      const start = Number(range[1]);
      if (start >= body.length) {
        s.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      s.writeHead(206, {
        'content-length': body.length - start,
        'content-range': `bytes ${start}-${body.length - 1}/${body.length}`,
        'x-repo-commit': 'c0ffee',
      });
      s.end(Buffer.from(body.subarray(start)));
      return;
    }
    const cut = this.truncateOnce.get(key);
    s.writeHead(200, { 'content-length': body.length, 'x-repo-commit': 'c0ffee' });
    if (cut !== undefined) {
      this.truncateOnce.delete(key);
      // Reset a moment after the flush: a reset in the same instant can make the client drop the bytes unread.
      s.write(Buffer.from(body.subarray(0, cut)), () => setTimeout(() => s.destroy(), 300));
      return;
    }
    s.end(Buffer.from(body));
  }
  private handle(q: IncomingMessage, s: ServerResponse): void {
    this.hits.push({ url: q.url ?? '', range: q.headers.range, auth: q.headers.authorization });
    const m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(q.url ?? '');
    if (!m) return void s.writeHead(404).end();
    const [, repo, rev, path] = m as unknown as [string, string, string, string];
    if (repo === 'org/gated' && q.headers.authorization !== `Bearer ${this.token}`)
      return void s.writeHead(401).end('Access to model org/gated is restricted.');
    if (repo === 'org/moved') {
      // Relative redirect on the same origin (a renamed repository), then on to the storage host.
      return void s.writeHead(307, { location: `/org/lfs/resolve/${rev}/${path}` }).end();
    }
    if (repo === 'org/lfs') {
      return void s.writeHead(302, { location: `${this.storageBase}/blobs/${rev}/${path}` }).end();
    }
    const key = `${repo}@${decodeURIComponent(rev)}/${decodeURIComponent(path)}`;
    const body = this.files.get(key);
    if (!body) return void s.writeHead(404, { 'x-error-code': 'EntryNotFound' }).end();
    this.send(key, body, q, s);
  }
  private serveStorage(q: IncomingMessage, s: ServerResponse): void {
    this.storageHits.push({ url: q.url ?? '', range: q.headers.range, auth: q.headers.authorization });
    const m = /^\/blobs\/([^/]+)\/(.+)$/.exec(q.url ?? '');
    const key = m ? `org/lfs@${decodeURIComponent(m[1]!)}/${decodeURIComponent(m[2]!)}` : '';
    const body = this.files.get(key);
    if (!body) return void s.writeHead(404).end();
    this.send(key, body, q, s);
  }
}

async function rejects(p: Promise<unknown>, code: string, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isFcprobeError(e), String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, re);
    return true;
  });
}

describe('models pull (local hub on 127.0.0.1)', () => {
  const hub = new FakeHub();
  // A valid graph of ~300 KB (the pull parses it for external data), big enough to be cut mid-transfer.
  const big = linearEncoder(
    Array.from({ length: 25_000 }, (_, i) => [(i % 7) - 3, 1, 0.5]),
    null,
  );
  const model = linearEncoder(
    [
      [1, 0, 0],
      [0, 1, 0],
    ],
    null,
  );
  before(async () => {
    await hub.start();
    hub.files.set('org/enc@main/onnx/model.onnx', model);
    hub.files.set('org/enc@main/big.onnx', big);
    hub.files.set('org/lfs@v1/enc.onnx', model);
    hub.files.set('org/gated@main/enc.onnx', model);
    const ext = externalGraph('weights/w.bin');
    hub.files.set('org/ext@main/onnx/model.onnx', ext.graph);
    hub.files.set('org/ext@main/onnx/weights/w.bin', ext.data);
  });
  after(() => hub.stop());

  it('downloads to <cache>/hub/<owner>/<repo>/<revision>/<path>, locks the sha256, resolves the ref', async () => {
    const cache = tempDir();
    const r = await pullModel('hf:org/enc/onnx/model.onnx', { cacheDir: cache, endpoint: hub.endpoint });
    assert.equal(r.status, 'downloaded');
    assert.equal(r.path, join(cache, 'hub', 'org', 'enc', 'main', 'onnx', 'model.onnx'));
    assert.deepEqual(readFileSync(r.path), Buffer.from(model));
    assert.equal(r.sha256, sha(model));
    assert.equal(r.recorded, true);
    const lock = readLock(cache).models['hf:org/enc/onnx/model.onnx@main']!;
    assert.equal(lock.sha256, sha(model));
    assert.equal(lock.size, model.length);
    assert.equal(lock.commit, 'c0ffee');
    assert.ok(hub.hits.some((h) => h.url === '/org/enc/resolve/main/onnx/model.onnx'));
    assert.deepEqual(
      readdirSync(join(cache, 'hub', 'org', 'enc', 'main', 'onnx')),
      ['model.onnx'],
      'no part file left behind',
    );
    const res = resolveModel('hf:org/enc/onnx/model.onnx', cache);
    assert.equal(res.path, r.path);
    assert.equal(res.sha256, sha(model));
    // A second pull verifies the cached file instead of downloading it again.
    const before = hub.hits.length;
    const again = await pullModel('hf:org/enc/onnx/model.onnx@main', { cacheDir: cache, endpoint: hub.endpoint });
    assert.equal(again.status, 'cached');
    assert.equal(hub.hits.length, before);
  });

  it('an unpulled reference is an error naming the pull command; tampered cached bytes are a mismatch', async () => {
    const cache = tempDir();
    assert.throws(
      () => resolveModel('hf:org/enc/onnx/model.onnx', cache),
      (e: unknown) =>
        isFcprobeError(e) && e.code === 'NOT_FOUND' && /fcprobe models pull hf:org\/enc/.test(e.hint ?? ''),
    );
    const r = await pullModel('hf:org/enc/onnx/model.onnx', { cacheDir: cache, endpoint: hub.endpoint });
    const bytes = readFileSync(r.path);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
    writeFileSync(r.path, bytes);
    assert.throws(
      () => resolveModel('hf:org/enc/onnx/model.onnx', cache),
      (e: unknown) => isFcprobeError(e) && e.code === 'MISMATCH',
    );
  });

  it('resumes a truncated transfer with a Range request and gets the same bytes', async () => {
    const cache = tempDir();
    hub.truncateOnce.set('org/enc@main/big.onnx', 100_000);
    hub.hits = [];
    const r = await pullModel('hf:org/enc/big.onnx', { cacheDir: cache, endpoint: hub.endpoint });
    assert.equal(r.sha256, sha(big));
    assert.deepEqual(readFileSync(r.path), Buffer.from(big));
    // The pull also asks for the repository's preprocessor_config.json (404 here): not part of the resume.
    const ranges = hub.hits.filter((h) => h.url.endsWith('/big.onnx')).map((h) => h.range);
    assert.equal(ranges[0], undefined);
    assert.equal(ranges.length, 2);
    // The resume asked for exactly what was missing (the part file held at least the bytes sent before the cut).
    const start = Number(/^bytes=(\d+)-$/.exec(ranges[1] ?? '')?.[1]);
    assert.ok(start > 0 && start <= 100_000, `resumed from ${ranges[1]}`);
  });

  it('a transfer that breaks off with no retries left keeps the part file; the next pull resumes it', async () => {
    const cache = tempDir();
    hub.truncateOnce.set('org/enc@main/big.onnx', 120_000);
    await rejects(
      pullModel('hf:org/enc/big.onnx', { cacheDir: cache, endpoint: hub.endpoint, retries: 0 }),
      'IO',
      /broke off/,
    );
    // Part files live outside hub/ (no declared name can collide with them), with their validator beside them.
    const part = join(cache, 'partial', 'org', 'enc', 'main', 'big.onnx.part');
    assert.ok(existsSync(`${part}.json`), 'the validator is kept with the part file');
    assert.ok(existsSync(part));
    assert.ok(!existsSync(join(cache, 'hub', 'org', 'enc', 'main', 'big.onnx')), 'nothing published');
    const have = readFileSync(part).length;
    hub.hits = [];
    const r = await pullModel('hf:org/enc/big.onnx', { cacheDir: cache, endpoint: hub.endpoint });
    assert.equal(hub.hits[0]?.range, `bytes=${have}-`);
    assert.equal(r.sha256, sha(big));
  });

  it('a server that ignores Range (200) restarts from byte 0 instead of appending', async () => {
    const cache = tempDir();
    hub.truncateOnce.set('org/enc@main/big.onnx', 5000);
    await rejects(
      pullModel('hf:org/enc/big.onnx', { cacheDir: cache, endpoint: hub.endpoint, retries: 0 }),
      'IO',
      /broke off/,
    );
    hub.ignoreRange.add('org/enc@main/big.onnx');
    hub.hits = [];
    try {
      const r = await pullModel('hf:org/enc/big.onnx', { cacheDir: cache, endpoint: hub.endpoint });
      assert.match(hub.hits[0]?.range ?? '', /^bytes=[1-9]\d*-$/, 'the second pull asked for a resume');
      assert.equal(r.sha256, sha(big));
      assert.equal(r.size, big.length);
    } finally {
      hub.ignoreRange.delete('org/enc@main/big.onnx');
    }
  });

  it('follows redirects, to another host too, without sending the token there', async () => {
    const cache = tempDir();
    hub.storageHits = [];
    hub.hits = [];
    const r = await pullModel('hf:org/moved/enc.onnx@v1', { cacheDir: cache, endpoint: hub.endpoint, token: 'tok' });
    assert.equal(r.sha256, sha(model));
    assert.deepEqual(
      hub.hits.filter((h) => h.url.endsWith('.onnx')).map((h) => [h.url, h.auth]),
      [
        ['/org/moved/resolve/v1/enc.onnx', 'Bearer tok'],
        ['/org/lfs/resolve/v1/enc.onnx', 'Bearer tok'],
      ],
    );
    assert.deepEqual(
      hub.storageHits.filter((h) => h.url.endsWith('.onnx')).map((h) => [h.url, h.auth]),
      [['/blobs/v1/enc.onnx', undefined]],
    );
  });

  it('a checksum mismatch (catalog/--sha256 pin or lock) keeps nothing', async () => {
    const cache = tempDir();
    await rejects(
      pullModel('hf:org/enc/onnx/model.onnx', { cacheDir: cache, endpoint: hub.endpoint, sha256: 'a'.repeat(64) }),
      'MISMATCH',
      /sha256 is [0-9a-f]{64}, expected a{64}/,
    );
    const dir = join(cache, 'hub', 'org', 'enc', 'main', 'onnx');
    assert.deepEqual(existsSync(dir) ? readdirSync(dir) : [], []);
    assert.ok(!existsSync(join(cache, LOCK_FILE)));
  });

  it('404 is NOT_FOUND; 401 without a token says to set HF_TOKEN; with the token it succeeds', async () => {
    const cache = tempDir();
    await rejects(
      pullModel('hf:org/enc/missing.onnx', { cacheDir: cache, endpoint: hub.endpoint }),
      'NOT_FOUND',
      /404/,
    );
    await assert.rejects(
      pullModel('hf:org/gated/enc.onnx', { cacheDir: cache, endpoint: hub.endpoint }),
      (e: unknown) => isFcprobeError(e) && e.code === 'IO' && /401/.test(e.message) && /HF_TOKEN/.test(e.hint ?? ''),
    );
    const r = await pullModel('hf:org/gated/enc.onnx', { cacheDir: cache, endpoint: hub.endpoint, token: hub.token });
    assert.equal(r.sha256, sha(model));
  });

  it('fetches external-data files with the graph and records them', async () => {
    const cache = tempDir();
    const r = await pullModel('hf:org/ext/onnx/model.onnx', { cacheDir: cache, endpoint: hub.endpoint });
    const w = join(cache, 'hub', 'org', 'ext', 'main', 'onnx', 'weights', 'w.bin');
    assert.deepEqual(readFileSync(w), Buffer.from(hub.files.get('org/ext@main/onnx/weights/w.bin')!));
    assert.deepEqual(r.externalData, [
      { path: 'onnx/weights/w.bin', sha256: sha(hub.files.get('org/ext@main/onnx/weights/w.bin')!), size: 12 },
    ]);
    assert.equal(resolveModel('hf:org/ext/onnx/model.onnx', cache).path, r.path);
  });

  it('offline (connection refused) is an IO error, exit code 6 from the CLI', async () => {
    const cache = tempDir();
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const p = await cli(['models', 'pull', 'hf:org/enc/onnx/model.onnx', '-q'], {
      ...process.env,
      FCPROBE_CACHE: cache,
      HF_ENDPOINT: `http://127.0.0.1:${port}`,
    });
    assert.equal(p.status, 6, p.stderr);
    assert.match(p.stderr, /Cannot reach 127\.0\.0\.1:\d+ .*ECONNREFUSED/);
    assert.match(p.stderr, /hint: .*offline/);
  });

  it('CLI: pull with HF_ENDPOINT/HF_TOKEN, then extract --model hf:... records the cached file, sha256', async () => {
    const cache = tempDir();
    const env = { ...process.env, FCPROBE_CACHE: cache, HF_ENDPOINT: hub.endpoint, HF_TOKEN: hub.token };
    const pull = await cli(['models', 'pull', 'hf:org/gated/enc.onnx', '-q'], env);
    assert.equal(pull.status, 0, pull.stderr);
    assert.match(pull.stdout, new RegExp(`sha256 ${sha(model)}`));
    const work = tempDir();
    await makeNoiseFolder(join(work, 'data'), ['a', 'b'], 2, 16);
    const ex = await cli(
      [
        'extract',
        '--model',
        'hf:org/gated/enc.onnx',
        '--data',
        join(work, 'data'),
        '--out',
        join(work, 'f'),
        '-q',
        '--crop',
        '8',
        '--resize',
        '8',
      ],
      env,
    );
    assert.equal(ex.status, 0, ex.stderr);
    const manifest = JSON.parse(readFileSync(join(work, 'f', 'manifest.json'), 'utf8'));
    assert.equal(manifest.model.path, join(cache, 'hub', 'org', 'gated', 'main', 'enc.onnx'));
    assert.equal(manifest.model.sha256, sha(model));
    const missing = await cli(
      ['extract', '--model', 'hf:org/enc/other.onnx', '--data', join(work, 'data'), '--out', join(work, 'g')],
      env,
    );
    assert.equal(missing.status, 3);
    assert.match(missing.stderr, /not in the cache[\s\S]*fcprobe models pull hf:org\/enc\/other\.onnx/);
  });
});
