import { spawn, spawnSync } from 'node:child_process';
/** Fixtures made at test time: image folders written with sharp and small ONNX encoders. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { ExtractOptions } from '../../src/extract/extract.js';
import { buildOnnxModel, type Dim, type Initializer, type NodeSpec } from '../../src/compute/onnxBuilder.js';

/** Preprocessing that keeps raw pixel values (mean 0, std 1) at 16 x 16: the integrity tests' images. */
export const RAW_PIXELS_16 = {
  preset: 'torchvision',
  mean: [0, 0, 0],
  std: [1, 1, 1],
  resize: 16,
  crop: 16,
} as ExtractOptions['preprocess'];

export function tempDir(prefix = 'fcprobe-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export type Rgb = [number, number, number];

/** A solid-colour image file. */
export async function writeSolidImage(
  path: string,
  rgb: Rgb,
  width = 40,
  height = 30,
  format: 'png' | 'jpeg' = 'png',
): Promise<void> {
  const img = sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } });
  await (format === 'png' ? img.png() : img.jpeg({ quality: 95 })).toFile(path);
}

/** n pseudo-random bytes (a 32-bit LCG's top byte), the same for the same seed. */
export function noiseBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

/** Uniform numbers in [0, 1) from the same 32-bit LCG as noiseBytes: the same sequence for the same seed. */
export function lcgUniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/**
 * Colour class folders <root>/<class>/<i>.png (size x size, one colour each): class c leans `lean` toward
 * channel c over a background of brightness 60 + shift * U * 120, plus uniform noise of width `noise` per
 * channel; deterministic from `seed` (lcgUniform).
 */
export async function makeColourSet(
  root: string,
  classes: string[],
  perClass: number,
  seed: number,
  shift: number,
  o: { lean: number; noise: number; size: number },
): Promise<void> {
  const rnd = lcgUniform(seed);
  for (let c = 0; c < classes.length; c++) {
    mkdirSync(join(root, classes[c]!), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const base = 60 + shift * rnd() * 120;
      const rgb = [0, 1, 2].map((ch) =>
        Math.min(255, Math.round(base + (ch === c ? o.lean : 0) + (rnd() - 0.5) * o.noise)),
      );
      const background = { r: rgb[0]!, g: rgb[1]!, b: rgb[2]! };
      await sharp({ create: { width: o.size, height: o.size, channels: 3, background } })
        .png()
        .toFile(join(root, classes[c]!, `${i}.png`));
    }
  }
}

/** A small noisy image (deterministic from `seed`): varied content so features differ per image. */
export async function writeNoiseImage(path: string, seed: number, width = 48, height = 40): Promise<void> {
  const data = noiseBytes(width * height * 3, seed * 2654435761);
  await sharp(Buffer.from(data.buffer, data.byteOffset, data.length), { raw: { width, height, channels: 3 } })
    .png()
    .toFile(path);
}

/** <root>/<class>/<i>.png with a given colour per class. */
export async function makeSolidFolder(root: string, classes: Record<string, Rgb[]>): Promise<void> {
  for (const [cls, colours] of Object.entries(classes)) {
    mkdirSync(join(root, cls), { recursive: true });
    for (let i = 0; i < colours.length; i++)
      await writeSolidImage(join(root, cls, `img_${String(i).padStart(3, '0')}.png`), colours[i]!);
  }
}

export async function makeNoiseFolder(root: string, classes: string[], perClass: number, size = 48): Promise<void> {
  let seed = 1;
  for (const cls of classes) {
    mkdirSync(join(root, cls), { recursive: true });
    for (let i = 0; i < perClass; i++)
      await writeNoiseImage(join(root, cls, `img_${String(i).padStart(3, '0')}.png`), seed++, size, size);
  }
}

/**
 * features = GlobalAveragePool(Conv1x1(W, x)) + 0: for a constant image with normalized colour c, feature k is
 * exactly sum_j W[k][j] * c[j]. `size` fixes the input size in the graph (null: symbolic H, W).
 */
export function linearEncoder(
  W: number[][],
  size: number | null,
  opts: { outputRank?: 2 | 4; extraOutput?: boolean } = {},
): Uint8Array {
  const k = W.length;
  const hw: Dim[] = size === null ? ['H', 'W'] : [size, size];
  const nodes: NodeSpec[] = [
    { op: 'Conv', inputs: ['input', 'W'], outputs: ['c'] },
    { op: 'GlobalAveragePool', inputs: ['c'], outputs: ['g'] },
  ];
  const rank4 = opts.outputRank === 4;
  nodes.push(
    rank4
      ? { op: 'Identity', inputs: ['g'], outputs: ['features'] }
      : { op: 'Flatten', inputs: ['g'], outputs: ['features'] },
  );
  const outputs = [
    { name: 'features', type: 'float32' as const, shape: rank4 ? (['N', k, 1, 1] as Dim[]) : (['N', k] as Dim[]) },
  ];
  if (opts.extraOutput) {
    nodes.push({ op: 'Neg', inputs: ['features'], outputs: ['logits'] });
    outputs.push({ name: 'logits', type: 'float32', shape: rank4 ? ['N', k, 1, 1] : ['N', k] });
  }
  const inits: Initializer[] = [{ name: 'W', dims: [k, 3, 1, 1], data: Float32Array.from(W.flat()) }];
  return buildOnnxModel({
    inputs: [{ name: 'input', type: 'float32', shape: ['N', 3, ...hw] }],
    outputs,
    nodes,
    initializers: inits,
  });
}

/** A deliberately slow encoder (stacked 3x3 convolutions) for interruption tests. */
export function slowEncoder(size: number, layers: number, channels = 48): Uint8Array {
  const nodes: NodeSpec[] = [];
  const inits: Initializer[] = [];
  let prev = 'input';
  let cin = 3;
  let seed = 7;
  const rnd = (): number => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return (seed / 4294967296 - 0.5) * 0.2;
  };
  for (let l = 0; l < layers; l++) {
    const w = new Float32Array(channels * cin * 9).map(() => rnd());
    inits.push({ name: `w${l}`, dims: [channels, cin, 3, 3], data: w });
    nodes.push({ op: 'Conv', inputs: [prev, `w${l}`], outputs: [`c${l}`], attrs: { pads: [1, 1, 1, 1] } });
    nodes.push({ op: 'Relu', inputs: [`c${l}`], outputs: [`r${l}`] });
    prev = `r${l}`;
    cin = channels;
  }
  nodes.push(
    { op: 'GlobalAveragePool', inputs: [prev], outputs: ['g'] },
    { op: 'Flatten', inputs: ['g'], outputs: ['features'] },
  );
  return buildOnnxModel({
    inputs: [{ name: 'input', type: 'float32', shape: ['N', 3, size, size] }],
    outputs: [{ name: 'features', type: 'float32', shape: ['N', channels] }],
    nodes,
    initializers: inits,
  });
}

export function writeModel(path: string, bytes: Uint8Array): string {
  writeFileSync(path, bytes);
  return path;
}

/** Path of the built CLI entry point. */
export const CLI = new URL('../../src/cli/main.js', import.meta.url).pathname;

/** The built CLI run to the end (`cwd`: its working folder). Blocks the event loop: not for tests with a server. */
export function runCli(args: string[], cwd?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', ...(cwd ? { cwd } : {}) });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The CLI (or another entry, `main`) run asynchronously with `env`: for tests whose servers answer it from this
 * process's event loop, which runCli's spawnSync would block.
 */
export function runCliAsync(
  args: string[],
  env: NodeJS.ProcessEnv,
  main: string = CLI,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [main, ...args], { env });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => {
      stdout += d;
    });
    p.stderr.on('data', (d) => {
      stderr += d;
    });
    p.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/**
 * Runs `fn` (an in-process command, typically commander's parseAsync) with `stream.write` collecting what is
 * written instead of printing it; restores the stream however `fn` ends. Returns the chunks, as strings.
 */
export async function captureWrites(stream: NodeJS.WriteStream, fn: () => Promise<unknown>): Promise<string[]> {
  const chunks: string[] = [];
  const write = stream.write.bind(stream);
  stream.write = ((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  }) as typeof stream.write;
  try {
    await fn();
  } finally {
    stream.write = write;
  }
  return chunks;
}

/** The 4 x 3 linear teacher of the run tests: the three colour channels and their sum (mean over the image). */
export const COLOUR_TEACHER = [
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
  [1, 1, 1],
];
/** The 3 x 3 linear student of the run tests: a fixed mixing of the colour channels. */
export const COLOUR_STUDENT = [
  [1, 0.5, 0],
  [0, 1, 0.5],
  [0.2, 0.2, 1],
];

/** The three colour channels (mean over the image): a 3 x 3 identity teacher. */
export const CHANNELS = [
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
];

/**
 * Writes <dir>/t.onnx and <dir>/s.onnx, linear encoders of the given weight rows (see linearEncoder; `size`
 * null: any input size).
 */
export function writeLinearPair(dir: string, teacher: number[][], student: number[][], size: number | null): void {
  writeModel(join(dir, 't.onnx'), linearEncoder(teacher, size));
  writeModel(join(dir, 's.onnx'), linearEncoder(student, size));
}

/** Writes <dir>/t.onnx and <dir>/s.onnx: COLOUR_TEACHER and COLOUR_STUDENT for any input size. */
export function writeColourPair(dir: string): void {
  writeLinearPair(dir, COLOUR_TEACHER, COLOUR_STUDENT, null);
}

/**
 * A work dir for runs that fail before extracting: photo/ and sketch/ with classes a and b (one empty file
 * each) and two one-output linear models t.onnx and s.onnx.
 */
export function unextractedRunDir(): string {
  const dir = tempDir();
  for (const set of ['photo', 'sketch']) {
    for (const c of ['a', 'b']) mkdirSync(join(dir, set, c), { recursive: true });
    writeFileSync(join(dir, set, 'a', 'x.png'), '');
    writeFileSync(join(dir, set, 'b', 'x.png'), '');
  }
  writeLinearPair(dir, [[1, 0, 0]], [[0, 1, 0]], null);
  return dir;
}
