#!/usr/bin/env node
// Per-image cost of fcprobe's preprocessing stages, in this process, one image at a time (best of 7 batches).
// Usage: node scripts/preprocess-parity/bench.mjs OUT_DIR [--decode-module FILE]   (OUT_DIR from make_corpus.py)
import { readFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const at = args.indexOf('--decode-module');
const other = at >= 0 ? resolve(args.splice(at, 2)[1]) : null;
const out = resolve(args[0] ?? 'tmp/preprocess-parity');
const dec = await import(join(root, 'dist/src/image/decode.js'));
const { resampleRgbWindow } = await import(join(root, 'dist/src/image/resample.js'));
const { WasmResampler } = await import(join(root, 'dist/src/image/resampleWasm.js'));
const wasm = WasmResampler.load();
const { resolvePreprocess, resizedSize, centerCropOffset } = await import(
  join(root, 'dist/src/image/preprocessSpec.js')
);
const alt = other ? await import(other) : null;

// Minimum over 7 batches: other processes on a shared machine only ever add time.
async function time(fn, reps) {
  for (let i = 0; i < 5; i++) await fn();
  let best = Infinity;
  for (let b = 0; b < 7; b++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < reps; i++) await fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6 / reps);
  }
  return best;
}

const files = ['photo500_00.jpg', 'photo1200_00.jpg', 'synth1024_0.jpg', 'synth3000x2000.jpg'];
const specs = {
  torchvision: resolvePreprocess({ preset: 'torchvision' }, null),
  clip: resolvePreprocess({ preset: 'clip' }, null),
  'inception-128': resolvePreprocess({ preset: 'inception', crop: 128 }, null),
};
console.log(
  `| image | preset | decode (sharp) ms | resample+crop (JS) ms | resample+crop+normalize (WebAssembly) ms | ` +
    `decodeToChw ms |${alt ? ' other module decodeAndCrop ms |' : ''}`,
);
console.log(`|---|---|---|---|---|---|${alt ? '---|' : ''}`);
for (const f of files) {
  const buf = readFileSync(join(out, 'images', f));
  const img = await dec.decodeToRgb(buf, false);
  const tDecode = await time(() => dec.decodeToRgb(buf, false), 30);
  for (const [name, spec] of Object.entries(specs)) {
    const t = resizedSize(img.width, img.height, spec.resize);
    const win = {
      outWidth: t.width,
      outHeight: t.height,
      left: centerCropOffset(t.width, spec.crop),
      top: centerCropOffset(t.height, spec.crop),
      width: spec.crop,
      height: spec.crop,
    };
    const src = { data: img.data, stride: img.width * 3, left: 0, top: 0, width: img.width, height: img.height };
    const tRes = await time(() => resampleRgbWindow(src, win, spec.interpolation), 10);
    const lut = dec.normalizeLut(spec);
    const tWasm = await time(() => wasm.resampleToChw(src, win, spec.interpolation, lut), 10);
    const tAll = await time(() => dec.decodeToChw(buf, spec), 30);
    const tAlt = alt ? await time(() => alt.decodeAndCrop(buf, spec), 5) : null;
    console.log(
      `| ${f} (${img.width}x${img.height}) | ${name} | ${tDecode.toFixed(2)} | ${tRes.toFixed(2)} | ` +
        `${tWasm.toFixed(2)} | ${tAll.toFixed(2)} |${alt ? ` ${tAlt.toFixed(2)} |` : ''}`,
    );
  }
}
