/**
 * Distillation throughput: fcprobe's head training (streamed from .npy, float32 AdamW, warmup + cosine, MSE)
 * against PyTorch on the CPU (Debian's python3-torch, bench/distill_torch.py: the same head, batch, optimizer,
 * schedule and thread count, tensors in memory), in samples per second. Rounds interleave the two so that a
 * shared machine's load falls on both alike; the median of the rounds is reported.
 *
 *   npx tsc -p . && node dist/bench/distill.js [--n 8192] [--ds 256] [--dt 1280] [--hidden 2048] [--batch 256]
 *     [--epochs 2] [--threads 2] [--rounds 3] [--heads linear,mlp]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOrtGemm } from '../src/compute/gemm.js';
import { PairedStream } from '../src/distill/batches.js';
import { createHead, type HeadSpec } from '../src/distill/head.js';
import { trainHead } from '../src/distill/train.js';
import type { FeatureManifest, FeatureSet } from '../src/features/manifest.js';
import { encodeNpy, NpyReader } from '../src/io/npy.js';
import { Rng } from '../src/math/rng.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
}

const n = Number(arg('n', '8192')),
  ds = Number(arg('ds', '256')),
  dt = Number(arg('dt', '1280')),
  hidden = Number(arg('hidden', '2048')),
  batch = Number(arg('batch', '256')),
  epochs = Number(arg('epochs', '2')),
  threads = Number(arg('threads', '2')),
  rounds = Number(arg('rounds', '3'));
const heads = arg('heads', 'linear,mlp').split(',') as ('linear' | 'mlp')[];

const dir = mkdtempSync(join(tmpdir(), 'fcprobe-bench-distill-'));
const rng = new Rng(1);
const x = new Float32Array(n * ds).map(() => rng.normal());
const t = new Float32Array(n * dt).map(() => rng.normal());
const xs = join(dir, 'student.npy'),
  ts = join(dir, 'teacher.npy');
writeFileSync(xs, encodeNpy('<f4', [n, ds], x));
writeFileSync(ts, encodeNpy('<f4', [n, dt], t));
const set = (path: string, dim: number): FeatureSet => ({
  dir,
  manifest: {} as FeatureManifest,
  rows: n,
  dim,
  open: () => new NpyReader(path),
  labels: () => new Int32Array(n),
});

async function fcprobe(kind: 'linear' | 'mlp'): Promise<{ seconds: number; loss: number }> {
  const gemm = await createOrtGemm({ threads });
  const spec: HeadSpec = { kind, hidden, layers: 2, activation: 'relu' };
  const net = createHead(spec, ds, dt, new Rng(0));
  const stream = new PairedStream(set(xs, ds), set(ts, dt), batch, n, null);
  const ck = join(dir, `ck-${kind}-${process.hrtime.bigint()}`);
  const t0 = performance.now();
  const r = await trainHead(
    gemm,
    net,
    stream,
    { loss: 'mse', epochs, lr: 1e-3, weightDecay: 1e-4, warmupSteps: 0, seed: 0 },
    ck,
    'bench',
  );
  const seconds = (performance.now() - t0) / 1000;
  stream.close();
  await gemm.dispose();
  rmSync(ck, { force: true });
  return { seconds, loss: r!.epochLosses.at(-1)! };
}

function torch(kind: 'linear' | 'mlp'): { seconds: number; loss: number } {
  const out = execFileSync('/usr/bin/python3', [
    new URL('../../bench/distill_torch.py', import.meta.url).pathname,
    xs,
    ts,
    kind,
    String(hidden),
    String(batch),
    String(epochs),
    String(threads),
  ]).toString();
  const j = JSON.parse(out) as { seconds: number; last_loss: number };
  return { seconds: j.seconds, loss: j.last_loss };
}

const median = (a: number[]): number => {
  const s = [...a].sort((p, q) => p - q);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

console.log(
  `distill bench: n=${n} Ds=${ds} Dt=${dt} hidden=${hidden} batch=${batch} epochs=${epochs} ` +
    `threads=${threads} rounds=${rounds}`,
);
console.log(
  `machine: ${cpus()[0]?.model} x${cpus().length}, load average at start ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
for (const kind of heads) {
  const a: number[] = [],
    b: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const f = await fcprobe(kind);
    const p = torch(kind);
    a.push((n * epochs) / f.seconds);
    b.push((n * epochs) / p.seconds);
    console.log(
      `  ${kind} round ${r + 1}: fcprobe ${a.at(-1)!.toFixed(0)} samples/s (last-epoch loss ${f.loss.toFixed(4)}), ` +
        `pytorch ${b.at(-1)!.toFixed(0)} samples/s (last batch loss ${p.loss.toFixed(4)}); load ` +
        `${loadavg()[0]!.toFixed(2)}`,
    );
  }
  console.log(
    `${kind}: median fcprobe ${median(a).toFixed(0)} samples/s, pytorch ${median(b).toFixed(0)} samples/s, ratio ` +
      `${(median(a) / median(b)).toFixed(2)}`,
  );
}
rmSync(dir, { recursive: true, force: true });
