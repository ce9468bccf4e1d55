#!/usr/bin/env node
// Compares fcprobe's preprocessing (dist/src/image/decode.js) with the torchvision reference tensors written
// by torch_reference.py, pixel by pixel and through the real ONNX encoders.
// Usage: node scripts/preprocess-parity/compare.mjs OUT_DIR [MODELS_DIR] [--json FILE] [--decode-module FILE]
// --decode-module: another module exporting decodeToChw, or decodeAndCrop/normalizeToChw (e.g. an older decode.ts)
// to measure in place of dist/src/image/decode.js.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
function flag(name) {
  const at = args.indexOf(name);
  return at >= 0 ? args.splice(at, 2)[1] : null;
}
const jsonFile = flag('--json');
const decodeModule = resolve(flag('--decode-module') ?? join(root, 'dist/src/image/decode.js'));
const decodeMod = await import(decodeModule);
const { resolvePreprocess } = await import(join(root, 'dist/src/image/preprocessSpec.js'));
const { readNpy } = await import(join(root, 'dist/src/io/npy.js'));

const out = resolve(args[0] ?? 'tmp/preprocess-parity');
const modelsDir = resolve(args[1] ?? '/work/shared/realdata/models');
const corpus = JSON.parse(readFileSync(join(out, 'corpus.json'), 'utf8'));
const meta = JSON.parse(readFileSync(join(out, 'ref', 'reference.json'), 'utf8'));
const kinds = [...new Set(corpus.map((c) => c.kind))];

// Decoding alone: md5 of the full-size RGB bytes, against PIL's Image.open(p).convert('RGB').
const decodeSame = new Map(kinds.map((k) => [k, { same: 0, n: 0 }]));
if (typeof decodeMod.decodeToRgb === 'function') {
  for (let i = 0; i < corpus.length; i++) {
    const d = await decodeMod.decodeToRgb(readFileSync(corpus[i].path), false);
    const h = createHash('md5').update(d.data).digest('hex');
    const s = decodeSame.get(corpus[i].kind);
    s.n++;
    if (h === meta.decodedMd5[i]) s.same++;
  }
}

const sessions = new Map();
async function session(model) {
  if (!sessions.has(model))
    sessions.set(model, await ort.InferenceSession.create(join(modelsDir, model), { intraOpNumThreads: 2 }));
  return sessions.get(model);
}
async function features(model, data, n, crop) {
  const s = await session(model);
  const per = 3 * crop * crop;
  const rows = [];
  for (let b = 0; b < n; b += 32) {
    const m = Math.min(32, n - b);
    const t = new ort.Tensor('float32', data.subarray(b * per, (b + m) * per), [m, 3, crop, crop]);
    const o = (await s.run({ input: t })).features;
    const d = o.data.length / m;
    for (let i = 0; i < m; i++) rows.push(o.data.subarray(i * d, (i + 1) * d));
  }
  return rows;
}
function cosine(a, b) {
  let ab = 0,
    aa = 0,
    bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}

const haveModels = existsSync(modelsDir);
const results = [];
for (const [name, c] of Object.entries(meta.configs)) {
  const spec = resolvePreprocess(
    {
      preset: c.preset,
      resize: c.resize,
      crop: c.crop,
      interpolation: c.interpolation,
      mean: c.mean,
      std: c.std,
      borderCrop: c.borderCrop,
    },
    null,
  );
  const ref = readNpy(join(out, 'ref', `${name}.npy`)).data;
  const per = 3 * c.crop * c.crop;
  const hw = c.crop * c.crop;
  const mine = new Float32Array(ref.length);
  const perImage = [];
  let ms = 0;
  for (let i = 0; i < corpus.length; i++) {
    const t0 = process.hrtime.bigint();
    if (decodeMod.decodeToChw) {
      // The path `extract` runs (WebAssembly kernels where available), timed with normalization.
      mine.set(await decodeMod.decodeToChw(corpus[i].path, spec), i * per);
      ms += Number(process.hrtime.bigint() - t0) / 1e6;
    } else {
      const img = await decodeMod.decodeAndCrop(corpus[i].path, spec);
      ms += Number(process.hrtime.bigint() - t0) / 1e6;
      decodeMod.normalizeToChw(img, spec, mine, i * per);
    }
    let max = 0,
      sum = 0,
      exact = 0;
    for (let j = 0; j < per; j++) {
      // Back to [0, 255] units: normalized values are (x / 255 - mean) / std.
      const d = Math.abs(mine[i * per + j] - ref[i * per + j]) * c.std[Math.floor(j / hw)] * 255;
      if (d > max) max = d;
      sum += d;
      if (d < 0.5) exact++;
    }
    perImage.push({ kind: corpus[i].kind, max, mean: sum / per, exact: exact / per, cos: NaN });
  }
  if (haveModels) {
    const fa = await features(c.model, mine, corpus.length, c.crop);
    const fb = await features(c.model, ref, corpus.length, c.crop);
    for (let i = 0; i < corpus.length; i++) perImage[i].cos = cosine(fa[i], fb[i]);
  }
  for (const k of kinds) {
    const rows = perImage.filter((r) => r.kind === k);
    results.push({
      config: name,
      kind: k,
      n: rows.length,
      maxAbs: Math.max(...rows.map((r) => r.max)),
      meanAbs: rows.reduce((s, r) => s + r.mean, 0) / rows.length,
      exactFrac: rows.reduce((s, r) => s + r.exact, 0) / rows.length,
      identical: rows.filter((r) => r.max === 0).length,
      minCos: Math.min(...rows.map((r) => r.cos)),
      meanCos: rows.reduce((s, r) => s + r.cos, 0) / rows.length,
    });
  }
  const identical = perImage.filter((r) => r.max === 0).length;
  console.error(
    `${name}: ${(ms / corpus.length).toFixed(2)} ms/image ${decodeMod.decodeToChw ? 'decodeToChw' : 'decodeAndCrop'} ` +
      `(from file); ${identical}/${corpus.length} tensors bit-identical; min cosine ` +
      `${haveModels ? Math.min(...perImage.map((r) => r.cos)).toFixed(7) : 'n/a (models not found)'}`,
  );
}

const f = (x, d) => (Number.isNaN(x) ? 'n/a' : x.toFixed(d));
// Float32 rounding of the normalization alone leaves ~1e-5 grey levels: show such values in exponent form.
const g = (x) => (x !== 0 && x < 0.01 ? x.toExponential(1) : x.toFixed(2));
console.log(`decode module: ${decodeModule}`);
console.log(`reference: ${meta.backend} ${JSON.stringify(meta.versions)}`);
console.log(
  '| config | image kind | n | decode identical | identical tensors | max abs diff | mean abs diff | bytes equal | ' +
    'min cosine | mean cosine |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const r of results) {
  const d = decodeSame.get(r.kind);
  console.log(
    `| ${r.config} | ${r.kind} | ${r.n} | ${d.n ? `${d.same}/${d.n}` : 'n/a'} | ${r.identical}/${r.n} | ` +
      `${g(r.maxAbs)} | ${g(r.meanAbs)} | ${f(r.exactFrac * 100, 2)}% | ${f(r.minCos, 7)} | ${f(r.meanCos, 7)} |`,
  );
}
if (jsonFile) writeFileSync(jsonFile, JSON.stringify(results, null, 1));
