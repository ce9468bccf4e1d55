// Compiles the WebAssembly text sources (src/**/*.wat) next to tsc's output (dist/src/**/*.wasm).
// Run by `npm run build` after tsc; wabt is a devDependency, the built .wasm needs nothing at run time.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import initWabt from 'wabt';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const wabt = await initWabt();

function* watFiles(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* watFiles(p);
    else if (e.name.endsWith('.wat')) yield p;
  }
}

for (const file of watFiles(join(root, 'src'))) {
  const rel = relative(root, file);
  let mod;
  try {
    mod = wabt.parseWat(rel, readFileSync(file, 'utf8'), { simd: true });
  } catch (e) {
    // wabt's exceptions carry its whole minified source in the stack: print the message alone.
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
  mod.validate();
  const { buffer } = mod.toBinary({});
  mod.destroy();
  const out = join(root, 'dist', rel.replace(/\.wat$/, '.wasm'));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, buffer);
}
