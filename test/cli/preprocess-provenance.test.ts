/**
 * Issue 23, part 1: every command that reads images resolves preprocessing through one order (flag > config >
 * model metadata > catalog > hub > default), says where it came from, records it, and warns when it was assumed.
 * The fixture encoder is a 1x1 convolution plus global average pooling, so its features move with the mean and
 * std used: features made with the wrong preprocessing differ from the right ones, byte for byte.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { PREPROCESS_METADATA_KEY } from '../../src/extract/onnxMetadata.js';
import { hubPreprocessLayer } from '../../src/models/hubPreprocess.js';
import { type PreprocessLayer, resolvePreprocessLayers } from '../../src/image/preprocessSpec.js';
import { CLI, linearEncoder, makeNoiseFolder, tempDir, writeModel } from '../helpers/fixtures.js';

const { onnx } = onnxProto;
const W = [
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
];
/** What the metadata states: not the default preset, so that using the default would change the features. */
const META = {
  preset: 'inception',
  resize: 20,
  crop: 16,
  interpolation: 'bicubic',
  mean: [0.5, 0.5, 0.5],
  std: [0.5, 0.5, 0.5],
};
const META_FLAGS = ['--preset', 'inception', '--resize', '20', '--crop', '16', '--interpolation', 'bicubic'];

function withMetadata(bytes: Uint8Array, value: object): Uint8Array {
  const m = onnx.ModelProto.decode(bytes);
  m.metadataProps = [
    onnx.StringStringEntryProto.create({ key: PREPROCESS_METADATA_KEY, value: JSON.stringify(value) }),
  ];
  return onnx.ModelProto.encode(m).finish();
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The CLI without blocking this process's event loop (the local hub server answers from it). */
function cliAsync(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } }, (err, stdout, stderr) =>
      done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const manifest = (dir: string): Record<string, unknown> & { preprocess: Record<string, unknown> } =>
  JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
const sourceOf = (dir: string): unknown => (manifest(dir).preprocessSource as { source: string }).source;
const features = (dir: string): Buffer => readFileSync(join(dir, 'features.npy'));

describe('preprocessing provenance through the CLI', () => {
  const dir = tempDir('fcprobe-provenance-');
  const data = join(dir, 'data');
  const plain = join(dir, 'plain.onnx');
  const withMeta = join(dir, 'meta.onnx');
  before(async () => {
    await makeNoiseFolder(data, ['a', 'b'], 3, 24);
    writeModel(plain, linearEncoder(W, null));
    writeModel(withMeta, withMetadata(linearEncoder(W, null), META));
  });

  it('extract: a model with metadata and no flags is extracted with the metadata (source metadata)', () => {
    const r = cli(['extract', '--model', withMeta, '--data', data, '--out', join(dir, 'meta-noflags')]);
    assert.equal(r.status, 0, r.stderr);
    const { borderCrop: _b, autoOrient: _a, ...spec } = manifest(join(dir, 'meta-noflags')).preprocess;
    assert.deepEqual(spec, META);
    assert.equal(sourceOf(join(dir, 'meta-noflags')), 'metadata');
    assert.doesNotMatch(r.stderr, /warning|override/, 'nothing was given, so nothing overrides the metadata');
    assert.match(r.stderr, /from the model metadata fcprobe\.preprocess/);
    // The same values typed as flags give the same bytes: the metadata was used, not the default preset.
    const flags = cli(['extract', '--model', plain, '--data', data, '--out', join(dir, 'flags'), ...META_FLAGS]);
    assert.equal(flags.status, 0, flags.stderr);
    assert.equal(sourceOf(join(dir, 'flags')), 'flag');
    assert.deepEqual(features(join(dir, 'meta-noflags')), features(join(dir, 'flags')));
  });

  it('extract: nothing stated -> the default preset, one warning line naming the model, source default', () => {
    const r = cli(['extract', '--model', plain, '--data', data, '--out', join(dir, 'default'), '-q']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(sourceOf(join(dir, 'default')), 'default');
    const warnings = r.stderr.split('\n').filter((l) => l.startsWith('warning:'));
    assert.equal(warnings.length, 1, r.stderr);
    assert.ok(warnings[0]!.includes(plain) && warnings[0]!.includes('assumed preset torchvision'), warnings[0]);
    assert.notDeepEqual(features(join(dir, 'default')), features(join(dir, 'flags')));
  });

  it('extract: a typed flag wins over the metadata and the change is said', () => {
    const out = join(dir, 'meta-clip');
    const r = cli(['extract', '--model', withMeta, '--data', data, '--out', out, '--preset', 'clip']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(manifest(out).preprocess.preset, 'clip');
    assert.equal(sourceOf(out), 'flag');
    assert.match(r.stderr, /warning: .*metadata preset inception \(preset clip from flag\)/);
  });

  it('check-export: the metadata is used without flags (a default-preset extraction would fail the check)', () => {
    const ref = join(dir, 'flags', 'features.npy');
    // check-export reads the images in sorted path order; the folder's rows are in the same order.
    const r = cli(['check-export', '--model', withMeta, '--data', data, '--reference', ref]);
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /^PASS/m);
    assert.match(r.stderr, /from the model metadata/);
    const bad = cli(['check-export', '--model', plain, '--data', data, '--reference', ref]);
    assert.equal(bad.status, 5, bad.stdout);
    assert.match(bad.stdout, /The preprocessing was assumed \(preset torchvision/);
    assert.match(bad.stderr, /^warning: no preprocessing stated/m);
  });

  it('bench --model: the metadata decides the preprocessing, said once', () => {
    const r = cli([
      'bench',
      '--model',
      withMeta,
      '--data',
      data,
      '--batch',
      '2',
      '--images',
      '4',
      '--repeats',
      '1',
      '--ep',
      'cpu',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('preprocessing of '));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /inception: resize 20, crop 16, bicubic.*\(from the model metadata/);
    assert.doesNotMatch(r.stderr, /^warning/m);
  });

  it("run: results.json records each model's source; an assumed one warns in the terminal and the report", () => {
    const work = join(dir, 'run');
    const r = cli([
      'run',
      '--teacher',
      withMeta,
      '--student',
      plain,
      '--train',
      data,
      '--split',
      '0.5',
      '--work',
      work,
      '--bootstrap',
      '0',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const results = JSON.parse(readFileSync(join(work, 'results.json'), 'utf8')) as {
      models: { name: string; preprocess?: { source: string; fields: Record<string, string> } }[];
    };
    const byName = new Map(results.models.map((m) => [m.name, m]));
    assert.equal(byName.get('meta')?.preprocess?.source, 'metadata');
    assert.equal(byName.get('meta')?.preprocess?.fields.mean, 'metadata');
    assert.equal(byName.get('plain')?.preprocess?.source, 'default');
    const warnings = r.stderr.split('\n').filter((l) => l.startsWith('warning: no preprocessing stated'));
    assert.equal(warnings.length, 1, r.stderr);
    assert.match(warnings[0]!, /plain/);
    const md = readFileSync(join(work, 'report.md'), 'utf8');
    assert.match(md, /plain: no preprocessing was stated/);
    assert.doesNotMatch(md, /meta: no preprocessing was stated/);
    // A flag given to the run is recorded as a flag.
    const typed = cli(
      ['run', '--work', work, '--teacher', withMeta, '--student', plain, '--train', data].concat([
        '--split',
        '0.5',
        '--bootstrap',
        '0',
        '--student-preset',
        'inception',
      ]),
    );
    assert.equal(typed.status, 0, typed.stderr);
    const again = JSON.parse(readFileSync(join(work, 'results.json'), 'utf8')) as typeof results;
    assert.equal(again.models.find((m) => m.name === 'plain')?.preprocess?.source, 'flag');
    assert.doesNotMatch(typed.stderr, /no preprocessing stated/);
  });

  it('distill --backbone: an assumed backbone preprocessing stays assumed in the student', () => {
    const t = join(dir, 't-train');
    assert.equal(cli(['extract', '--model', plain, '--data', data, '--out', t, '--preset', 'clip']).status, 0);
    const out = join(dir, 'distilled');
    const d = cli([
      'distill',
      '--teacher-features',
      t,
      '--student-features',
      join(dir, 'default'),
      '--backbone',
      plain,
      '--epochs',
      '1',
      '--out',
      out,
      '-q',
    ]);
    assert.equal(d.status, 0, d.stderr);
    assert.match(d.stderr, /warning: the backbone features .* assumed preprocessing/);
    const s = cli(['extract', '--model', join(out, 'student.onnx'), '--data', data, '--out', join(dir, 's')]);
    assert.equal(s.status, 0, s.stderr);
    assert.equal(sourceOf(join(dir, 's')), 'default');
    assert.match(s.stderr, /^warning: no preprocessing stated/m);
    // Backbone features with a stated preset: the student's metadata is then a statement of its own.
    const out2 = join(dir, 'distilled-stated');
    const d2 = cli(
      ['distill', '--teacher-features', t, '--student-features', join(dir, 'flags')].concat([
        '--backbone',
        plain,
        '--epochs',
        '1',
        '--out',
        out2,
        '-q',
      ]),
    );
    assert.equal(d2.status, 0, d2.stderr);
    const s2 = cli(['extract', '--model', join(out2, 'student.onnx'), '--data', data, '--out', join(dir, 's2')]);
    assert.equal(s2.status, 0, s2.stderr);
    assert.equal(sourceOf(join(dir, 's2')), 'metadata');
    assert.equal(manifest(join(dir, 's2')).preprocess.preset, 'inception');
  });
});

describe('a hub model with preprocessor_config.json (local hub on 127.0.0.1)', () => {
  const dir = tempDir('fcprobe-hubpre-');
  const data = join(dir, 'data');
  const files = new Map<string, Uint8Array>();
  let server: Server;
  let endpoint = '';
  before(async () => {
    await makeNoiseFolder(data, ['a', 'b'], 2, 24);
    files.set('org/clipish@main/onnx/enc.onnx', linearEncoder(W, 16));
    // CLIPImageProcessor's fields as the hub stores them (resample 3 = bicubic).
    const config = {
      image_processor_type: 'CLIPImageProcessor',
      do_resize: true,
      size: { shortest_edge: 16 },
      do_center_crop: true,
      crop_size: { height: 16, width: 16 },
      resample: 3,
      do_rescale: true,
      rescale_factor: 1 / 255,
      do_normalize: true,
      image_mean: [0.48145466, 0.4578275, 0.40821073],
      image_std: [0.26862954, 0.26130258, 0.27577711],
    };
    files.set('org/clipish@main/preprocessor_config.json', new TextEncoder().encode(JSON.stringify(config)));
    files.set('org/bare@main/enc.onnx', linearEncoder(W, 16));
    server = createServer((q, s) => {
      const m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(q.url ?? '');
      const body = m ? files.get(`${m[1]}@${m[2]}/${m[3]}`) : undefined;
      if (!body) return void s.writeHead(404).end();
      s.writeHead(200, { 'content-length': body.length, 'x-repo-commit': 'c0ffee' }).end(Buffer.from(body));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise((r) => server.close(r)));

  it('pulled, then extracted without --preset: the same bytes as with the equivalent flags, source hub', async () => {
    const env = { FCPROBE_CACHE: join(dir, 'cache'), HF_ENDPOINT: endpoint };
    const pulled = await cliAsync(['models', 'pull', 'hf:org/clipish/onnx/enc.onnx'], env);
    assert.equal(pulled.code, 0, pulled.stderr);
    const lock = JSON.parse(readFileSync(join(dir, 'cache', 'fcprobe-models.lock.json'), 'utf8')) as {
      models: Record<string, { preprocessorConfig: { path: string; sha256: string } | null }>;
    };
    assert.equal(
      lock.models['hf:org/clipish/onnx/enc.onnx@main']?.preprocessorConfig?.path,
      'preprocessor_config.json',
    );
    const hub = await cliAsync(
      ['extract', '--model', 'hf:org/clipish/onnx/enc.onnx', '--data', data].concat(['--out', join(dir, 'hub')]),
      env,
    );
    assert.equal(hub.code, 0, hub.stderr);
    assert.equal(sourceOf(join(dir, 'hub')), 'hub');
    assert.doesNotMatch(hub.stderr, /warning/);
    const byFlags = await cliAsync(
      ['extract', '--model', 'hf:org/clipish/onnx/enc.onnx', '--data', data].concat([
        '--out',
        join(dir, 'byflags'),
        '--preset',
        'clip',
        '--resize',
        '16',
      ]),
      env,
    );
    assert.equal(byFlags.code, 0, byFlags.stderr);
    assert.deepEqual(features(join(dir, 'hub')), features(join(dir, 'byflags')));
    assert.deepEqual(manifest(join(dir, 'hub')).preprocess, manifest(join(dir, 'byflags')).preprocess);
    // A repository without the file: the pull records null and extract falls back to the default, with a warning.
    const bare = await cliAsync(['models', 'pull', 'hf:org/bare/enc.onnx'], env);
    assert.equal(bare.code, 0, bare.stderr);
    const x = await cliAsync(
      ['extract', '--model', 'hf:org/bare/enc.onnx', '--data', data, '--out', join(dir, 'b')],
      env,
    );
    assert.equal(x.code, 0, x.stderr);
    assert.equal(sourceOf(join(dir, 'b')), 'default');
    assert.match(x.stderr, /^warning: no preprocessing stated for hf:org\/bare\/enc\.onnx/m);
    // The cached config is verified before it is trusted.
    writeFileSync(join(dir, 'cache', 'hub', 'org', 'clipish', 'main', 'preprocessor_config.json'), '{}');
    const tampered = await cliAsync(
      ['extract', '--model', 'hf:org/clipish/onnx/enc.onnx', '--data', data].concat(['--out', join(dir, 'tampered')]),
      env,
    );
    assert.notEqual(tampered.code, 0);
    assert.match(tampered.stderr, /preprocessor_config\.json is not the file that was pulled/);
  });
});

describe('the resolution order (pure)', () => {
  const layer = (source: PreprocessLayer['source'], values: PreprocessLayer['values']): PreprocessLayer => ({
    source,
    values,
  });
  it('flag > config > metadata > catalog > hub > default, per field', () => {
    const r = resolvePreprocessLayers(
      [
        layer('hub', { preset: 'clip', resize: 240 }),
        layer('catalog', { preset: 'clip', crop: 200 }),
        layer('metadata', { preset: 'clip', interpolation: 'bilinear' }),
        layer('config', { mean: [0.1, 0.2, 0.3] }),
        layer('flag', { std: [0.4, 0.5, 0.6] }),
      ],
      null,
    );
    assert.deepEqual(r.provenance.fields, {
      preset: 'metadata',
      resize: 'hub',
      crop: 'catalog',
      interpolation: 'metadata',
      mean: 'config',
      std: 'flag',
    });
    assert.equal(r.provenance.source, 'metadata');
    assert.equal(r.spec.resize, 240);
    assert.equal(r.spec.crop, 200);
  });
  it('a lower layer naming another preset is set aside whole; nothing stated is the default', () => {
    const r = resolvePreprocessLayers(
      [
        layer('catalog', { preset: 'clip', resize: 300 }),
        layer('config', {
          preset: 'inception',
        }),
      ],
      224,
    );
    assert.equal(r.spec.resize, 256, "inception's resize for crop 224, not the catalog's 300");
    assert.equal(r.provenance.fields.crop, 'model');
    assert.equal(r.provenance.setAside.length, 1);
    const d = resolvePreprocessLayers([], 224);
    assert.equal(d.provenance.source, 'default');
    assert.equal(d.spec.preset, 'torchvision');
    const onlyCrop = resolvePreprocessLayers([layer('flag', { crop: 32 })], null);
    assert.equal(onlyCrop.provenance.source, 'default', 'a crop alone leaves mean and std assumed');
  });
  it('hub preprocessor_config.json: what fcprobe reproduces is taken, the rest refused by name', () => {
    const vit = hubPreprocessLayer({ size: { height: 224, width: 224 }, do_center_crop: false, resample: 2 });
    assert.match(vit.unsupported ?? '', /224x224 resizes without keeping the aspect ratio/);
    assert.throws(
      () => resolvePreprocessLayers([vit], 224),
      (e: unknown) => e instanceof Error && /cannot be reproduced/.test(e.message),
    );
    // Flags above an unsupported hub config replace it: no error.
    const ok = resolvePreprocessLayers(
      [vit, layer('flag', { preset: 'torchvision', resize: 256, interpolation: 'bilinear' })],
      224,
    );
    assert.equal(ok.spec.preset, 'torchvision');
    const tv = hubPreprocessLayer({
      size: { shortest_edge: 256 },
      crop_size: 224,
      resample: 2,
      image_mean: [0.485, 0.456, 0.406],
      image_std: [0.229, 0.224, 0.225],
    });
    assert.equal(tv.unsupported, undefined);
    assert.deepEqual(tv.values, {
      preset: 'torchvision',
      resize: 256,
      crop: 224,
      interpolation: 'bilinear',
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
    });
    assert.match(hubPreprocessLayer({ resample: 1 }).unsupported ?? '', /resample 1/);
    assert.match(hubPreprocessLayer({ rescale_factor: 1 }).unsupported ?? '', /not rescaled by 1\/255/);
  });
});
