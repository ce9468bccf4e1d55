/**
 * `fcprobe models pull` against hubs that lie, stall or attack, all on 127.0.0.1, driven through the CLI: a
 * resume answered from another version of the file, external data named like a temporary file, catalog entries
 * that point outside the cache, secrets and control sequences on their way to the terminal, a server that
 * stops sending, two pulls of one file at once, a full disk.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import onnxProto from 'onnx-proto';
import { CLI, linearEncoder, makeNoiseFolder, runCliAsync, tempDir, writeModel } from '../helpers/fixtures.js';

interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI run asynchronously: the servers answering it live in this process's event loop. */
const cli = (args: string[], env: NodeJS.ProcessEnv, main: string = CLI): Promise<Ran> => runCliAsync(args, env, main);

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

type Handler = (q: IncomingMessage, s: ServerResponse) => void;

/** An HTTP server on 127.0.0.1 for one test; `hits` records method, URL and the headers a resume depends on. */
async function serve(handler: Handler): Promise<{
  endpoint: string;
  hits: { url: string; range?: string; ifRange?: string; auth?: string }[];
  close: () => Promise<void>;
}> {
  const hits: { url: string; range?: string; ifRange?: string; auth?: string }[] = [];
  const server: Server = createServer((q, s) => {
    // The repositories here have no preprocessor_config.json (the pull asks for it after the graph): the
    // handlers misbehave on the model's own bytes only, and `hits` holds just those requests.
    if ((q.url ?? '').endsWith('/preprocessor_config.json')) return void s.writeHead(404).end();
    hits.push({
      url: q.url ?? '',
      ...(q.headers.range ? { range: q.headers.range } : {}),
      ...(q.headers['if-range'] ? { ifRange: String(q.headers['if-range']) } : {}),
      ...(q.headers.authorization ? { auth: q.headers.authorization } : {}),
    });
    handler(q, s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Two versions of one ONNX graph with the same size and different weights (main moved between attempts). */
function twoVersions(): { A: Uint8Array; B: Uint8Array } {
  const A = linearEncoder(
    Array.from({ length: 20_000 }, (_, i) => [(i % 7) - 3, 1, 0.5]),
    null,
  );
  const B = linearEncoder(
    Array.from({ length: 20_000 }, (_, i) => [(i % 5) - 2, -1, 0.25]),
    null,
  );
  assert.equal(A.length, B.length, 'the fixture needs two versions of the same size');
  assert.notEqual(sha(A), sha(B));
  return { A, B };
}

/** A graph whose initializer lives in the external file `location` (as onnx.save_model writes it). */
function externalGraph(location: string): { graph: Uint8Array; data: Uint8Array } {
  const { onnx } = onnxProto;
  const m = onnx.ModelProto.decode(linearEncoder([[1, 0, 0]], null));
  const w = m.graph!.initializer![0]!;
  const raw = Buffer.from(new Float32Array([1, 0, 0]).buffer);
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

/** Serves `body` as a hub would, honouring a Range request with 206, with the given validators. */
function sendWhole(s: ServerResponse, body: Uint8Array, etag: string, commit: string): void {
  s.writeHead(200, { 'content-length': body.length, etag, 'x-repo-commit': commit });
  s.end(Buffer.from(body));
}
function sendTail(s: ServerResponse, body: Uint8Array, from: number, etag: string, commit: string): void {
  s.writeHead(206, {
    'content-length': body.length - from,
    'content-range': `bytes ${from}-${body.length - 1}/${body.length}`,
    etag,
    'x-repo-commit': commit,
  });
  s.end(Buffer.from(body.subarray(from)));
}
/** Sends the headers for the whole (or the rest of the) file, then `cut` bytes, then drops the connection. */
function sendCut(s: ServerResponse, body: Uint8Array, from: number, cut: number, etag: string, commit: string): void {
  const head: Record<string, string | number> = { 'content-length': body.length - from, etag, 'x-repo-commit': commit };
  if (from > 0) head['content-range'] = `bytes ${from}-${body.length - 1}/${body.length}`;
  s.writeHead(from > 0 ? 206 : 200, head);
  // Dropped a moment after the bytes are flushed: a connection reset in the same instant as the data makes the
  // client's body stream error before it hands the bytes over, and there would be nothing to resume.
  s.write(Buffer.from(body.subarray(from, from + cut)), () => setTimeout(() => s.destroy(), 300));
}

const rangeStart = (q: IncomingMessage): number | null => {
  const m = /^bytes=(\d+)-$/.exec(q.headers.range ?? '');
  return m ? Number(m[1]) : null;
};

const envFor = (cache: string, endpoint: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, FCPROBE_CACHE: cache, HF_ENDPOINT: endpoint, ...extra };
  if (!('HF_TOKEN' in extra)) delete env.HF_TOKEN;
  return env;
};

describe('models pull: a resume never stitches two versions of a file', () => {
  it('a 206 from another version (ETag, commit) is refused and the file is fetched again from byte 0', async () => {
    const { A, B } = twoVersions();
    let first = true;
    const hub = await serve((q, s) => {
      const from = rangeStart(q);
      if (first) {
        first = false;
        sendCut(s, A, 0, A.length >> 1, '"A"', 'aaaa');
      } else if (from !== null) sendTail(s, B, from, '"B"', 'bbbb');
      else sendWhole(s, B, '"B"', 'bbbb');
    });
    try {
      const cache = tempDir();
      const r = await cli(['models', 'pull', 'hf:org/enc/model.onnx', '-q'], envFor(cache, hub.endpoint));
      assert.equal(r.status, 0, r.stderr);
      const got = readFileSync(join(cache, 'hub', 'org', 'enc', 'main', 'model.onnx'));
      assert.equal(sha(got), sha(B), 'the cache holds version B whole, not A head + B tail');
      assert.match(r.stdout, new RegExp(`sha256 ${sha(B)}`));
      // The resume said which version it continues.
      assert.equal(hub.hits[1]?.ifRange, '"A"');
      assert.match(hub.hits[1]?.range ?? '', /^bytes=\d+-$/);
      assert.equal(hub.hits[2]?.range, undefined, 'restarted from byte 0');
      // No pinned digest for an hf: reference without --sha256: said so.
      assert.match(r.stderr, /not verified against a pinned sha256 \(trust on first use\): model\.onnx/);
    } finally {
      await hub.close();
    }
  });

  it('across runs: the validator kept beside the part file refuses the moved branch on the next run', async () => {
    const { A, B } = twoVersions();
    let version: 'A' | 'B' = 'A';
    const hub = await serve((q, s) => {
      const from = rangeStart(q) ?? 0;
      if (version === 'A') {
        // Version A stops after 40 000 bytes (the first run gives up on the stall and keeps its part file);
        // then main moves to B, and a careless server answers the Range from B without looking at If-Range.
        s.writeHead(200, { 'content-length': A.length, etag: '"A"', 'x-repo-commit': 'aaaa' });
        s.write(Buffer.from(A.subarray(0, 40_000)));
      } else if (from > 0) sendTail(s, B, from, '"B"', 'bbbb');
      else sendWhole(s, B, '"B"', 'bbbb');
    });
    try {
      const cache = tempDir();
      const env = envFor(cache, hub.endpoint, { FCPROBE_STALL_TIMEOUT: '1' });
      const one = await cli(['models', 'pull', 'hf:org/enc/model.onnx', '-q'], env);
      assert.equal(one.status, 6, one.stderr);
      assert.match(one.stderr, /at \d+ of \d+ bytes; stall timeout[\s\S]*hint: Run the same pull again/);
      version = 'B';
      const mark = hub.hits.length;
      const two = await cli(['models', 'pull', 'hf:org/enc/model.onnx', '-q'], env);
      assert.equal(two.status, 0, two.stderr);
      // The part holds what arrived before the stall (all 40 000 bytes unless the machine was very slow).
      assert.match(hub.hits[mark]?.range ?? '', /^bytes=[1-9]\d*-$/);
      assert.equal(hub.hits[mark]?.ifRange, '"A"', 'the second run remembered the version it had');
      assert.equal(hub.hits[mark + 1]?.range, undefined, 'and started over from byte 0');
      const got = readFileSync(join(cache, 'hub', 'org', 'enc', 'main', 'model.onnx'));
      assert.equal(sha(got), sha(B));
      const lock = JSON.parse(readFileSync(join(cache, 'fcprobe-models.lock.json'), 'utf8'));
      assert.equal(lock.models['hf:org/enc/model.onnx@main'].commit, 'bbbb');
    } finally {
      await hub.close();
    }
  });
});

describe('models pull: names a model declares', () => {
  it('external data named "<graph>.part" is fetched beside the graph and never replaces it', async () => {
    const { graph, data } = externalGraph('model.onnx.part');
    const hub = await serve((q, s) => {
      if (q.url === '/org/ext/resolve/main/model.onnx') return sendWhole(s, graph, '"g"', 'c1');
      if (q.url === '/org/ext/resolve/main/model.onnx.part') return sendWhole(s, data, '"d"', 'c1');
      s.writeHead(404).end();
    });
    try {
      const cache = tempDir();
      const r = await cli(['models', 'pull', 'hf:org/ext/model.onnx', '-q'], envFor(cache, hub.endpoint));
      assert.equal(r.status, 0, r.stderr);
      const dir = join(cache, 'hub', 'org', 'ext', 'main');
      assert.equal(sha(readFileSync(join(dir, 'model.onnx'))), sha(graph), 'the graph is the graph');
      assert.equal(sha(readFileSync(join(dir, 'model.onnx.part'))), sha(data), 'the weights are beside it');
      assert.deepEqual(readdirSync(dir).sort(), ['model.onnx', 'model.onnx.part']);
    } finally {
      await hub.close();
    }
  });

  it('an external data location equal to the graph itself is refused (exit 4), nothing published', async () => {
    const { graph } = externalGraph('model.onnx');
    const hub = await serve((q, s) => {
      if (q.url === '/org/self/resolve/main/model.onnx') return sendWhole(s, graph, '"g"', 'c1');
      s.writeHead(404).end();
    });
    try {
      const cache = tempDir();
      const r = await cli(['models', 'pull', 'hf:org/self/model.onnx', '-q'], envFor(cache, hub.endpoint));
      assert.equal(r.status, 4, r.stderr);
      assert.match(r.stderr, /external data location "model\.onnx" is the graph file itself/);
      assert.ok(!existsSync(join(cache, 'hub', 'org', 'self', 'main', 'model.onnx')));
      assert.equal(hub.hits.length, 1, 'the weights were never requested');
    } finally {
      await hub.close();
    }
  });
});

describe('models pull: catalog entries and references stay inside the cache', () => {
  /**
   * A copy of the built CLI whose models/catalog.json is `catalog` (catalogPath() looks for models/ above the
   * module), so the test drives the real `models pull <name>` with a hostile catalog.
   */
  function cliWithCatalog(catalog: unknown): string {
    const root = tempDir('fcprobe-catalog-');
    const repo = new URL('../../../', import.meta.url).pathname;
    cpSync(join(repo, 'dist', 'src'), join(root, 'dist', 'src'), { recursive: true });
    cpSync(join(repo, 'package.json'), join(root, 'package.json'));
    symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'));
    mkdirSync(join(root, 'models'));
    writeFileSync(join(root, 'models', 'catalog.json'), JSON.stringify(catalog));
    return join(root, 'dist', 'src', 'cli', 'main.js');
  }
  const shipped = JSON.parse(readFileSync(new URL('../../../models/catalog.json', import.meta.url), 'utf8'));
  const hubEntry = (): { name: string; export: Record<string, unknown> } =>
    shipped.models.find((m: { export: { kind: string } }) => m.export.kind === 'hub');

  for (const [what, change, field] of [
    ['export.path with ..', { path: '../../../../../CAT_ESCAPE.onnx' }, /the path "\.\.\/\.\.\/.*" is not a relative/],
    ['revision ..', { revision: '..' }, /the revision "\.\." is not one branch/],
    ['revision with a separator', { revision: 'a/../../..' }, /the revision "a\/\.\.\/\.\.\/\.\." is not one/],
  ] as const) {
    it(`a catalog entry with ${what} is refused before anything is fetched or written`, async () => {
      const hub = await serve((_q, s) => sendWhole(s, linearEncoder([[1, 0, 0]], null), '"x"', 'c1'));
      try {
        const catalog = structuredClone(shipped);
        const entry = catalog.models.find((m: { name: string }) => m.name === hubEntry().name);
        Object.assign(entry.export, change);
        const main = cliWithCatalog(catalog);
        const base = tempDir();
        const cache = join(base, 'cache');
        const r = await cli(['models', 'pull', entry.name, '-q'], envFor(cache, hub.endpoint), main);
        assert.equal(r.status, 6, r.stderr);
        assert.match(r.stderr, /field models\[\d+\]\.export should be a safe hub reference/);
        assert.match(r.stderr, field);
        assert.equal(hub.hits.length, 0, 'nothing was requested');
        assert.ok(!existsSync(join(base, 'CAT_ESCAPE.onnx')));
        assert.ok(!existsSync(join(cache, 'hub')), 'nothing was written');
      } finally {
        await hub.close();
      }
    });
  }

  it('an hf: reference with a separator or .. in its revision is a usage error (exit 2)', async () => {
    const cache = tempDir();
    for (const ref of ['hf:org/enc/model.onnx@a/b', 'hf:org/enc/model.onnx@..', 'hf:org/enc/../model.onnx']) {
      const r = await cli(['models', 'pull', ref, '-q'], envFor(cache, 'http://127.0.0.1:9'));
      assert.equal(r.status, 2, `${ref}: ${r.stderr}`);
      assert.match(r.stderr, /Expected the model reference to be hf:/);
    }
  });
});

describe('models pull: nothing secret and no control sequence reaches the terminal', () => {
  it('HF_TOKEN with CR/LF is refused (exit 2) without printing it', async () => {
    const cache = tempDir();
    const r = await cli(
      ['models', 'pull', 'hf:org/enc/model.onnx', '-q'],
      envFor(cache, 'http://127.0.0.1:9', { HF_TOKEN: 'hf_LEAKME123\r\nX-Injected: SECRETTAIL99' }),
    );
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /HF_TOKEN contains a control character/);
    assert.doesNotMatch(r.stderr + r.stdout, /LEAKME|SECRETTAIL/);
  });

  it('HF_ENDPOINT with user:password@ is refused (exit 2) with the password redacted', async () => {
    const cache = tempDir();
    const r = await cli(
      ['models', 'pull', 'hf:org/enc/model.onnx', '-q'],
      envFor(cache, 'http://someuser:hunter2pw@127.0.0.1:9'),
    );
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /HF_ENDPOINT must not contain credentials \(http:\/\/<redacted>@127\.0\.0\.1:9\)/);
    assert.doesNotMatch(r.stderr + r.stdout, /hunter2pw/);
  });

  it('a reason phrase with the token and ESC/OSC sequences prints redacted and escaped', async () => {
    // node's HTTP server refuses such a status line, so this hub speaks raw HTTP.
    const token = 'hf_validtoken12345';
    const raw: TcpServer = createTcpServer((c: Socket) => {
      c.once('data', () =>
        c.end(
          `HTTP/1.1 500 Bearer ${token} \x1b]0;PWNED\x07\x1b[2J\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`,
          'latin1',
        ),
      );
    });
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
    try {
      const endpoint = `http://127.0.0.1:${(raw.address() as AddressInfo).port}`;
      const r = await cli(
        ['models', 'pull', 'hf:org/enc/model.onnx', '-q'],
        envFor(tempDir(), endpoint, { HF_TOKEN: token }),
      );
      assert.equal(r.status, 6, r.stderr);
      assert.match(r.stderr, /HTTP 500 Bearer <redacted> \\x1b\]0;PWNED\\x07\\x1b\[2J for /);
      assert.doesNotMatch(r.stderr, new RegExp(token));
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for raw control characters
      assert.doesNotMatch(r.stderr, /[\x07\x1b]/);
    } finally {
      await new Promise((r) => raw.close(r));
    }
  });

  it('an image file name with ESC/OSC prints escaped in extract', async () => {
    const work = tempDir();
    await makeNoiseFolder(join(work, 'data'), ['a', 'b'], 2, 16);
    const evil = `bad\x1b]0;PWNED\x07\x1b[2J.png`;
    writeFileSync(join(work, 'data', 'a', evil), 'not an image');
    const model = writeModel(join(work, 'm.onnx'), linearEncoder([[1, 0, 0]], null));
    const r = await cli(
      [
        'extract',
        '--model',
        model,
        '--data',
        join(work, 'data'),
        '--out',
        join(work, 'f'),
        '--crop',
        '8',
        '--resize',
        '8',
      ],
      { ...process.env },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /skipped 1 file\(s\)[\s\S]*bad\\x1b\]0;PWNED\\x07\\x1b\[2J\.png/);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for raw control characters
    assert.doesNotMatch(r.stdout + r.stderr, /[\x07\x1b]/);
  });
});

describe('models pull: a server that stops sending', () => {
  it('headers, then a byte every 20 s: abandoned after --stall-timeout with exit 6, part kept', {
    timeout: 60_000,
  }, async () => {
    const body = linearEncoder([[1, 0, 0]], null);
    const timers: NodeJS.Timeout[] = [];
    const hub = await serve((_q, s) => {
      s.writeHead(200, { 'content-length': body.length, etag: '"s"', 'x-repo-commit': 'c1' });
      let i = 0;
      s.write(Buffer.from(body.subarray(i, ++i)));
      timers.push(setInterval(() => s.write(Buffer.from(body.subarray(i, ++i))), 20_000));
    });
    try {
      const cache = tempDir();
      const r = await cli(
        ['models', 'pull', 'hf:org/slow/model.onnx', '-q', '--stall-timeout', '1'],
        envFor(cache, hub.endpoint),
      );
      assert.equal(r.status, 6, r.stderr);
      assert.match(
        r.stderr,
        /No data from the server for 1 s while downloading .* \(at [01] of \d+ bytes; stall timeout\)/,
      );
      assert.match(r.stderr, /hint: Run the same pull again: it resumes/);
      assert.ok(existsSync(join(cache, 'partial', 'org', 'slow', 'main', 'model.onnx.part')));
    } finally {
      for (const t of timers) clearInterval(t);
      await hub.close();
    }
  });

  it('no answer at all: FCPROBE_STALL_TIMEOUT bounds the wait for the first byte (exit 6)', {
    timeout: 60_000,
  }, async () => {
    const silent: TcpServer = createTcpServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const sockets: Socket[] = [];
    silent.on('connection', (c) => sockets.push(c));
    try {
      const endpoint = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const r = await cli(
        ['models', 'pull', 'hf:org/mute/model.onnx', '-q'],
        envFor(tempDir(), endpoint, { FCPROBE_STALL_TIMEOUT: '1' }),
      );
      assert.equal(r.status, 6, r.stderr);
      assert.match(r.stderr, /127\.0\.0\.1:\d+ sent no answer for hf:org\/mute\/model\.onnx@main within 1 s/);
    } finally {
      for (const c of sockets) c.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  it('a bad --stall-timeout is a usage error (exit 2)', async () => {
    const r = await cli(['models', 'pull', 'hf:org/enc/model.onnx', '--stall-timeout', '0'], envFor(tempDir(), 'x'));
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /Expected --stall-timeout to be a number of seconds/);
  });
});

describe('models pull: one writer, and a full disk said as such', () => {
  it('a second pull of the same file while the first runs exits 6 naming the first; the first completes', {
    timeout: 60_000,
  }, async () => {
    const body = linearEncoder(
      Array.from({ length: 5000 }, (_, i) => [i % 3, 1, 0]),
      null,
    );
    let release: () => void = () => {};
    let arrived: () => void = () => {};
    const firstArrived = new Promise<void>((r) => {
      arrived = r;
    });
    const hub = await serve((_q, s) => {
      s.writeHead(200, { 'content-length': body.length, etag: '"w"', 'x-repo-commit': 'c1' });
      s.write(Buffer.from(body.subarray(0, 1000)), () => arrived());
      release = () => s.end(Buffer.from(body.subarray(1000)));
    });
    try {
      const cache = tempDir();
      const env = envFor(cache, hub.endpoint);
      const first = cli(['models', 'pull', 'hf:org/two/model.onnx', '-q'], env);
      await firstArrived;
      const second = await cli(['models', 'pull', 'hf:org/two/model.onnx', '-q'], env);
      assert.equal(second.status, 6, second.stderr);
      assert.match(second.stderr, /is in use by process \d+ .*\(fcprobe models pull hf:org\/two\/model\.onnx@main/);
      assert.equal(hub.hits.length, 1, 'the second pull sent no request');
      release();
      const done = await first;
      assert.equal(done.status, 0, done.stderr);
      assert.equal(sha(readFileSync(join(cache, 'hub', 'org', 'two', 'main', 'model.onnx'))), sha(body));
    } finally {
      await hub.close();
    }
  });

  it('a declared size larger than the free space is the disk-full error before any byte is written', async () => {
    const hub = await serve((_q, s) => {
      // 1 PiB declared; no disk a test runs on has that free.
      s.writeHead(200, { 'content-length': String(2 ** 50), etag: '"big"', 'x-repo-commit': 'c1' });
      s.write('x', () => s.destroy());
    });
    try {
      const cache = tempDir();
      const r = await cli(['models', 'pull', 'hf:org/huge/model.onnx', '-q'], envFor(cache, hub.endpoint));
      assert.equal(r.status, 6, r.stderr);
      assert.match(r.stderr, new RegExp(`Disk full: .* needs ${2 ** 50} more bytes, \\d+ are free in`));
      assert.ok(!existsSync(join(cache, 'partial', 'org', 'huge', 'main', 'model.onnx.part')));
    } finally {
      await hub.close();
    }
  });

  it('ENOSPC while writing is the disk-full error (exit 6) and the part file is removed', {
    skip: !existsSync('/dev/full') && 'no /dev/full',
  }, async () => {
    const body = linearEncoder([[1, 0, 0]], null);
    const hub = await serve((_q, s) => sendWhole(s, body, '"f"', 'c1'));
    try {
      const cache = tempDir();
      const dir = join(cache, 'partial', 'org', 'full', 'main');
      mkdirSync(dir, { recursive: true });
      symlinkSync('/dev/full', join(dir, 'model.onnx.part'));
      const r = await cli(['models', 'pull', 'hf:org/full/model.onnx', '-q'], envFor(cache, hub.endpoint));
      assert.equal(r.status, 6, r.stderr);
      assert.match(r.stderr, /Disk full while writing .*model\.onnx\.part \(ENOSPC\)/);
      assert.doesNotMatch(r.stderr, /broke off/);
      assert.throws(() => lstatSync(join(dir, 'model.onnx.part')), /ENOENT/, 'no part file left');
    } finally {
      await hub.close();
    }
  });
});
