/**
 * Speed and fidelity of `fcprobe simulate` (the paper's synthetic experiment) on this machine.
 *
 *   npx tsc -p . && node dist/bench/simulate.js            # full: 20,000 iterations, ReLU and linear
 *   node dist/bench/simulate.js --iterations 2000          # shorter
 *
 * Prints a markdown table (wall time, iterations per second, first and last core/background weight norms) to paste
 * into bench/simulate-RESULTS.md. Timing is wall-clock around runSimulation (data generation included), plus
 * the process CPU time (all threads): on a shared machine wall time varies with the load, CPU time much less.
 */
import { cpus, loadavg } from 'node:os';
import { runSimulation, type SimulateOptions } from '../src/toy/simulate.js';

const args = process.argv.slice(2);
const arg = (name: string, dflt: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const iterations = arg('--iterations', 20000);
const short = arg('--short', 1000);

interface Case {
  label: string;
  options: SimulateOptions;
}
const cases: Case[] = [
  { label: 'relu (default), 1 thread', options: { iterations, threads: 1 } },
  { label: 'none (linear network), 1 thread', options: { iterations, activation: 'none', threads: 1 } },
  { label: `relu, ${short} it, 1 thread`, options: { iterations: short, threads: 1 } },
  { label: `relu, ${short} it, onnxruntime default threads`, options: { iterations: short, threads: 0 } },
  {
    label: `relu, ${short} it, dense input (no x = zT factorization), 1 thread`,
    options: { iterations: short, lowRank: false, threads: 1 },
  },
  { label: `gelu, ${short} it, 1 thread`, options: { iterations: short, activation: 'gelu', threads: 1 } },
  { label: `tanh, ${short} it, 1 thread`, options: { iterations: short, activation: 'tanh', threads: 1 } },
  {
    label: `relu, ${short} it, theory setting (hinge, sgd, frozen output, linear core), 1 thread`,
    options: {
      iterations: short,
      loss: 'hinge',
      optimizer: 'sgd',
      freezeOutput: true,
      coreMode: 'linear',
      lr: 0.01,
      threads: 1,
    },
  },
];

console.log(
  `node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? '?'}, load average at start ${loadavg()
    .map((v) => v.toFixed(2))
    .join(' ')}`,
);
console.log('');
console.log(
  '| case | iterations | wall s | CPU s (all threads) | it/s (wall) | core weight norm first -> last | ' +
    'background weight norm first -> last | OOD loss / ID loss (last) |',
);
console.log('|---|---:|---:|---:|---:|---|---|---|');
for (const c of cases) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const opts: SimulateOptions = { ...c.options };
  const r = await runSimulation(opts);
  const wall = (performance.now() - t0) / 1000;
  const cu = process.cpuUsage(c0);
  const cpu = (cu.user + cu.system) / 1e6;
  const recs = r.runs[0]!.records;
  const a = recs[0]!,
    b = recs[recs.length - 1]!;
  console.log(
    `| ${c.label} | ${r.options.iterations} | ${wall.toFixed(1)} | ${cpu.toFixed(1)} | ` +
      `${Math.round(r.options.iterations / wall)} | ` +
      `${a.coreWeightNorm.toFixed(3)} -> ${b.coreWeightNorm.toFixed(3)} | ${a.backgroundWeightNorm.toFixed(3)} -> ` +
      `${b.backgroundWeightNorm.toFixed(3)} | ` +
      `${b.oodLoss.toFixed(4)} / ${b.idLoss.toExponential(2)} |`,
  );
}
console.log('');
console.log(
  `load average at end ${loadavg()
    .map((v) => v.toFixed(2))
    .join(' ')}`,
);
