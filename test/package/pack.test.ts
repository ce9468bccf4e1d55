/**
 * The package as users get it: `npm pack`, then npm's own global install of the tarball with no network (a
 * registry on 127.0.0.1 serves the lockfile's packages from npm's cache: test/helpers/localRegistry.ts), then
 * `fcprobe --help` from another folder and `import('fcprobe')` from plain JavaScript running a tiny extraction.
 * The library is imported from the globally installed copy through a node_modules link, which saves a second
 * install of onnxruntime-node (~290 MB unpacked) while still resolving through the package's `exports` map.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { linearEncoder, makeSolidFolder, tempDir, writeModel, type Rgb } from '../helpers/fixtures.js';
import { npmCacheDir, startLocalRegistry, type LocalRegistry } from '../helpers/localRegistry.js';

/** dist/test/package/pack.test.js -> the repository root. */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  main: string;
  types: string;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
  exports: Record<string, string | Record<string, string>>;
};

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Asynchronous on purpose: the registry answering npm runs in this process. */
function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((ok) => {
    execFile(cmd, args, { cwd, env, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      ok({ code, stdout, stderr });
    });
  });
}

function filesUnder(dir: string, skip: (rel: string) => boolean, base = dir): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    const rel = relative(base, p).split('\\').join('/');
    if (skip(rel)) continue;
    if (e.isDirectory()) out.push(...filesUnder(p, skip, base));
    else out.push(rel);
  }
  return out;
}

const W = [
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
  [1, -2, 0.5],
];
const COLOURS: Record<string, Rgb[]> = {
  cat: [
    [255, 0, 0],
    [0, 255, 0],
  ],
  dog: [[51, 102, 204]],
};

/**
 * The README's install line (`VAR=value npm install -g ./fcprobe-<version>.tgz`): the environment settings it
 * carries and the tarball it names. The test installs exactly so, with nothing else set.
 */
function readmeInstall(): { env: Record<string, string>; tarball: string } {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const m = /^\s*((?:[A-Za-z_][A-Za-z0-9_]*=\S+\s+)*)npm install -g \.\/(fcprobe-\S+\.tgz)/m.exec(readme);
  assert.ok(m, 'README.md has an `npm install -g ./fcprobe-<version>.tgz` line');
  const env = Object.fromEntries(
    m[1]!
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]),
  );
  return { env, tarball: m[2]! };
}

/** Plain JavaScript, as a user would write it: everything through the public entry point. */
const CONSUMER = `
const fc = await import('fcprobe');
const [modelPath, data, outDir] = process.argv.slice(2);
const r = await fc.extractFeatures({
  modelPath,
  listing: fc.scanImageFolder(data),
  outDir,
  preprocess: { preset: 'torchvision', mean: [0, 0, 0], std: [1, 1, 1], resize: 16, crop: 16 },
});
const set = fc.loadFeatureSet(r.outDir);
let missingModel = null;
try {
  await fc.extractFeatures({ modelPath: modelPath + '.absent', listing: fc.scanImageFolder(data), outDir });
} catch (e) {
  missingModel = { isFcprobeError: e instanceof fc.FcprobeError, code: e.code, exitCode: e.exitCode };
}
console.log(JSON.stringify({
  resolved: import.meta.resolve('fcprobe'),
  version: fc.FCPROBE_VERSION,
  status: r.status,
  rows: set.rows,
  dim: set.dim,
  features: Array.from(fc.readFeatureMatrix(set)),
  labels: Array.from(set.labels()),
  files: set.manifest.files,
  missingModel,
}));
`;

describe('npm package', { timeout: 600_000 }, () => {
  let tmp = '';
  let tarball = '';
  let packed: string[] = [];
  let registry: LocalRegistry | null = null;

  before(async () => {
    tmp = tempDir('fcprobe-pack-');
    const t0 = performance.now();
    // --ignore-scripts: `prepare` would rebuild; `npm test` has just built dist/.
    const r = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], ROOT);
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout) as { filename: string; files: { path: string }[] }[];
    tarball = join(tmp, info[0]!.filename);
    packed = info[0]!.files.map((f) => f.path);
    console.log(`# npm pack: ${((performance.now() - t0) / 1000).toFixed(1)} s, ${packed.length} files`);
  });

  after(async () => {
    await registry?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('ships the built library, CLI, workers, wasm and metadata, and nothing else', () => {
    const allowed = [
      /^dist\/src\/.+\.(js|d\.ts|wasm)$/,
      /^data\/meta\/[^/]+$/,
      /^schema\/[^/]+\.json$/,
      /^models\/catalog\.json$/,
      // The export scripts the hints of `models pull` and check-export point at.
      /^models\/export\/[^/]+\.(py|md)$/,
    ];
    const topFiles = new Set(['package.json', 'README.md', 'LICENSE']);
    const stray = packed.filter((p) => !topFiles.has(p) && !allowed.some((re) => re.test(p)));
    assert.deepEqual(stray, [], 'files outside the run-time whitelist');
    assert.deepEqual(
      packed.filter((p) => /(^|\/)test\/|\.test\.|\.map$|^bench\/|^dist\/bench\//.test(p)),
      [],
      'tests, source maps or benchmarks in the tarball',
    );
    // A bound that catches a whole folder shipped by mistake (~2 files, .js + .d.ts, per source module: about
    // 150 modules today, so ~320 files).
    assert.ok(packed.length < 400, `${packed.length} files in the tarball`);
    // The whitelist takes all of dist/src: an output whose source is gone would ship too.
    const stale = packed.filter(
      (p) =>
        p.startsWith('dist/src/') &&
        !existsSync(
          join(
            ROOT,
            p.slice('dist/'.length).replace(/(\.d\.ts|\.js|\.wasm)$/, (e) => (e === '.wasm' ? '.wat' : '.ts')),
          ),
        ),
    );
    assert.deepEqual(stale, [], 'build outputs without a source: rm -rf dist && npm run build');
    const has = new Set(packed);
    const entry = PKG.exports['.'] as Record<string, string>;
    for (const target of [PKG.main, PKG.types, ...Object.values(PKG.bin), entry.import!, entry.types!])
      assert.ok(has.has(target.replace(/^\.\//, '')), `${target} (named in package.json) is not packed`);
    for (const need of [
      'data/meta/imagenet-classes.tsv',
      'data/meta/objectnet.json',
      'schema/experiment.schema.json',
      'models/catalog.json',
      'models/export/export_open_clip.py',
      'models/export/README.md',
    ])
      assert.ok(has.has(need), need);
    // Every file the code loads next to itself (workers, wasm, package.json) must ship.
    let loaded = 0;
    for (const file of packed.filter((p) => p.endsWith('.js'))) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const m of text.matchAll(/new URL\(\s*'(\.{1,2}\/[^']+)',\s*import\.meta\.url\s*\)/g)) {
        const target = relative(ROOT, resolve(dirname(join(ROOT, file)), m[1]!))
          .split('\\')
          .join('/');
        assert.ok(has.has(target), `${file} loads ${m[1]} (${target}), which is not packed`);
        loaded++;
      }
    }
    assert.ok(loaded >= 5, `found only ${loaded} import.meta.url-relative files (workers, wasm, package.json)`);
  });

  it('installs globally with no network; the CLI runs anywhere; import("fcprobe") extracts features', async () => {
    const t0 = performance.now();
    registry = await startLocalRegistry(join(ROOT, 'package-lock.json'), npmCacheDir(), join(tmp, 'cache'));
    const prefix = join(tmp, 'global');
    const userconfig = join(tmp, 'npmrc');
    writeFileSync(userconfig, '');
    // Exactly as the README says: its line's environment settings (onnxruntime-node's postinstall would fetch
    // CUDA libraries from outside npm and fail offline), and none inherited (npm test passes the repo's
    // .npmrc setting to its children as npm_config_onnxruntime_node_install).
    const readme = readmeInstall();
    assert.equal(readme.tarball, `${PKG.name}-${PKG.version}.tgz`, 'the README names the tarball npm pack writes');
    assert.equal(tarball.endsWith(`/${readme.tarball}`), true);
    const env: NodeJS.ProcessEnv = { ...process.env, ...readme.env };
    for (const k of ['ONNXRUNTIME_NODE_INSTALL', 'npm_config_onnxruntime_node_install'])
      if (!(k in readme.env)) delete env[k];
    assert.ok(Object.keys(readme.env).length > 0, 'the README line carries the setting that skips the download');
    const install = await run(
      'npm',
      [
        'install',
        '--global',
        '--prefix',
        prefix,
        '--registry',
        registry.url,
        '--cache',
        registry.cache,
        '--userconfig',
        userconfig,
        '--no-audit',
        '--no-fund',
        '--loglevel',
        'error',
        tarball,
      ],
      tmp,
      env,
    );
    assert.equal(
      install.code,
      0,
      `npm install -g failed:\n${install.stderr}\ntarballs not in npm's cache: ${registry.missing.join(', ')}`,
    );
    console.log(`# npm install -g (offline): ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    // Installed = packed, file for file: no `prepare` (tsc) ran at install, nothing was built or left out.
    const installed = join(prefix, 'lib', 'node_modules', PKG.name);
    // onnxruntime-node is pinned: the global install (which reads no lockfile) gets the lockfile's version.
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version?: string }>;
    };
    const ortLocked = lock.packages['node_modules/onnxruntime-node']!.version!;
    assert.equal(PKG.dependencies['onnxruntime-node'], ortLocked, 'package.json pins the lockfile version exactly');
    const ortInstalled = JSON.parse(
      readFileSync(join(installed, 'node_modules', 'onnxruntime-node', 'package.json'), 'utf8'),
    ) as { version: string };
    assert.equal(ortInstalled.version, ortLocked);
    const onDisk = filesUnder(installed, (rel) => rel === 'node_modules').sort();
    assert.deepEqual(onDisk, [...packed].sort());

    const elsewhere = join(tmp, 'elsewhere');
    mkdirSync(elsewhere);
    const bin = join(prefix, 'bin', 'fcprobe');
    const help = await run(bin, ['--help'], elsewhere);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage: fcprobe /);
    for (const command of ['extract', 'merge', 'probe', 'run', 'report', 'simulate'])
      assert.match(help.stdout, new RegExp(`\\n  ${command} `), `--help lists ${command}`);
    // --version comes from dist/src/version.js reading the installed package.json.
    const version = await run(bin, ['--version'], elsewhere);
    assert.equal(version.code, 0, version.stderr);
    assert.equal(version.stdout.trim(), PKG.version);
    // A model with no published ONNX: the hint names the export script where the install has it.
    const pull = await run(bin, ['models', 'pull', 'clip-rn50'], elsewhere);
    assert.equal(pull.code, 2, pull.stderr);
    const script = /python (\S+export_open_clip\.py)/.exec(pull.stderr)?.[1];
    assert.ok(script && existsSync(script), `the hint names a script the install has: ${pull.stderr}`);

    const app = join(tmp, 'app');
    mkdirSync(join(app, 'node_modules'), { recursive: true });
    symlinkSync(installed, join(app, 'node_modules', PKG.name), 'dir');
    await makeSolidFolder(join(app, 'data'), COLOURS);
    writeModel(join(app, 'm.onnx'), linearEncoder(W, null));
    writeFileSync(join(app, 'consumer.mjs'), CONSUMER);
    const r = await run(process.execPath, ['consumer.mjs', 'm.onnx', 'data', 'out'], app);
    assert.equal(r.code, 0, r.stderr);
    const got = JSON.parse(r.stdout) as {
      resolved: string;
      version: string;
      status: string;
      rows: number;
      dim: number;
      features: number[];
      labels: number[];
      files: string[];
      missingModel: { isFcprobeError: boolean; code: string; exitCode: number } | null;
    };
    assert.equal(got.resolved, pathToFileURL(join(realpathSync(installed), 'dist', 'src', 'index.js')).href);
    assert.equal(got.version, PKG.version);
    assert.equal(got.status, 'extracted');
    assert.deepEqual(got.files, ['cat/img_000.png', 'cat/img_001.png', 'dog/img_000.png']);
    assert.deepEqual(got.labels, [0, 0, 1]);
    assert.deepEqual([got.rows, got.dim], [3, W.length]);
    // A constant image with mean 0 / std 1 normalization: feature k = sum_j W[k][j] * rgb[j] / 255.
    const rows = [...COLOURS.cat!, ...COLOURS.dog!];
    rows.forEach((rgb, i) => {
      W.forEach((w, k) => {
        const expected = w[0]! * (rgb[0] / 255) + w[1]! * (rgb[1] / 255) + w[2]! * (rgb[2] / 255);
        const value = got.features[i * W.length + k]!;
        assert.ok(Math.abs(value - expected) < 1e-5, `row ${i} feature ${k}: ${value} vs ${expected}`);
      });
    });
    assert.deepEqual(got.missingModel, { isFcprobeError: true, code: 'BAD_MODEL', exitCode: 4 });
  });
});
