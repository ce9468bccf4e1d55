// Checks the source tree's layering: every relative import of src/ goes to the same folder or to a lower layer,
// and there are no import circles (type-only imports included). Run by `npm run lint` and by a test.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Lowest first: a folder may import only from folders listed before it (or from itself). */
export const LAYERS = [
  ['errors.ts', 'version.ts', 'validate.ts', 'options.ts'],
  ['io', 'compute', 'math'],
  ['dataset'],
  ['image'],
  // Above image: a pulled model's preprocessing (catalog entry, hub preprocessor_config.json) is a preprocessing layer.
  ['models'],
  ['features'],
  ['extract'],
  ['probe'],
  ['distill'],
  ['experiment'],
  ['report'],
  ['toy', 'bench'],
  ['cli'],
  ['index.ts'],
];
/** Pure maths: no file-system, native or clock access. */
export const PURE = ['math'];
const FORBIDDEN_IN_PURE =
  /from '(node:fs|node:child_process|onnxruntime-node|sharp|node:worker_threads)'|Math\.random|Date\.now/;

function* tsFiles(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* tsFiles(p);
    else if (e.name.endsWith('.ts')) yield p;
  }
}

export function checkLayers(srcDir) {
  const problems = [];
  const layerOf = (rel) => {
    const top = rel.split('/')[0];
    return LAYERS.findIndex((l) => l.includes(top));
  };
  const graph = new Map();
  for (const file of tsFiles(srcDir)) {
    const rel = relative(srcDir, file).split('\\').join('/');
    const text = readFileSync(file, 'utf8');
    const me = layerOf(rel);
    if (me < 0) problems.push(`${rel}: its folder is in no layer of scripts/check-layers.mjs`);
    if (PURE.includes(rel.split('/')[0]) && FORBIDDEN_IN_PURE.test(text))
      problems.push(`${rel}: pure maths uses I/O, a clock or Math.random`);
    const deps = [];
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
      const target = normalize(join(dirname(rel), m[1]))
        .split('\\')
        .join('/')
        .replace(/\.js$/, '.ts');
      deps.push(target);
      const other = layerOf(target);
      if (other > me) problems.push(`${rel} imports upward: ${target}`);
    }
    graph.set(rel, deps);
  }
  // Circles: depth-first search with colours.
  const state = new Map();
  const stack = [];
  const visit = (n) => {
    state.set(n, 1);
    stack.push(n);
    for (const d of graph.get(n) ?? []) {
      if (state.get(d) === 1) problems.push(`import circle: ${[...stack.slice(stack.indexOf(d)), d].join(' -> ')}`);
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(n, 2);
  };
  for (const n of graph.keys()) if (!state.has(n)) visit(n);
  return problems;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const problems = checkLayers(join(root, 'src'));
  for (const p of problems) process.stderr.write(`${p}\n`);
  if (problems.length) process.exit(1);
  process.stdout.write('layers: no upward imports, no circles\n');
}
