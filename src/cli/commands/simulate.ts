import type { Command } from 'commander';
import {
  runSimulation,
  writeSimulationOutputs,
  type SimulateOptions,
  type SimulateProgressEvent,
} from '../../toy/simulate.js';
import type { Activation } from '../../math/activations.js';
import type { LossKind } from '../../math/losses.js';
import type { OptimizerKind } from '../../math/optimizers.js';
import type { CoreMode } from '../../toy/structuredData.js';
import { SIMULATE_OPTIONS } from '../../options.js';
import { openOutputFolder } from '../../features/outputFolder.js';
import { addOptions } from '../run-command.js';
import { createProgress, formatDuration } from '../progress.js';
import { action } from '../run-command.js';

interface SimulateFlags {
  n: number;
  coreDim: number;
  bgDim: number;
  inputDim: number;
  coreMode: CoreMode;
  hidden: number;
  layers: number;
  activation: Activation;
  bias: boolean;
  freezeOutput?: boolean;
  loss: LossKind;
  optimizer: OptimizerKind;
  lr: number;
  weightDecay: number;
  momentum: number;
  iterations: number;
  every: number;
  seed: number;
  compareLinear?: boolean;
  dense?: boolean;
  threads: number;
  out: string;
  quiet?: boolean;
}

export function registerSimulateCommand(program: Command): void {
  const cmd = program
    .command('simulate')
    .summary("the paper's synthetic experiment: watch an MLP learn label-independent background features")
    .description(
      "Train an MLP on the structured feature model (Zhang et al., ICML 2024, Section 4; the paper's toy.py): core " +
        'features determine the label, background features are independent of it and shift out of distribution. ' +
        'Records ID/OOD loss and accuracy, core and background weight norms (the paper\'s "feature correlation") ' +
        'and activation asymmetry every ' +
        '--every iterations; writes <out>/curves.csv, curves.json and curves.svg, and prints the finding.',
    );
  addOptions(cmd, SIMULATE_OPTIONS)
    .addHelpText(
      'after',
      `
Examples:
  fcprobe simulate --compare-linear                     # the paper's setting (ReLU vs linear network)
  fcprobe simulate --loss hinge --optimizer sgd --freeze-output --core-mode linear --lr 0.01
                                                        # the theory's setting
  fcprobe simulate --activation gelu --iterations 5000 --every 250 --out runs/gelu`,
    )
    .action(
      action(async (flags: SimulateFlags) => {
        const options: SimulateOptions = {
          n: flags.n,
          coreDim: flags.coreDim,
          bgDim: flags.bgDim,
          inputDim: flags.inputDim,
          coreMode: flags.coreMode,
          hidden: flags.hidden,
          layers: flags.layers,
          activation: flags.activation,
          bias: flags.bias,
          freezeOutput: flags.freezeOutput ?? false,
          loss: flags.loss,
          optimizer: flags.optimizer,
          lr: flags.lr,
          weightDecay: flags.weightDecay,
          momentum: flags.momentum,
          iterations: flags.iterations,
          every: flags.every,
          seed: flags.seed,
          compareLinear: flags.compareLinear ?? false,
          lowRank: !flags.dense,
          threads: flags.threads,
        };
        // Before the simulation, not after it: a bad --out fails at once instead of losing the curves.
        const lock = openOutputFolder(flags.out, 'simulate', '--out', (m) => process.stderr.write(`${m}\n`));
        try {
          await simulateInto(options, flags);
        } finally {
          lock.release();
        }
      }),
    );
}

async function simulateInto(options: SimulateOptions, flags: SimulateFlags): Promise<void> {
  const bar = createProgress('simulate', { quiet: flags.quiet ?? false, intervalSeconds: 5 });
  const started = Date.now();
  // With --compare-linear the two networks train side by side: one line with both.
  const latest = new Map<number, SimulateProgressEvent>();
  const result = await runSimulation(options, (e) => {
    latest.set(e.run, e);
    const all = [...latest.values()];
    const extra = `${all
      .map(
        (x) =>
          `${x.activation}` +
          (x.latest
            ? ` bg ${x.latest.backgroundWeightNorm.toFixed(3)} core ${x.latest.coreWeightNorm.toFixed(3)}` +
              ` ood-loss ${x.latest.oodLoss.toFixed(3)}`
            : ''),
      )
      .join('; ')} ${formatDuration((Date.now() - started) / 1000)}`;
    bar.update(
      all.reduce((s, x) => s + x.done, 0),
      e.total * e.runs,
      extra,
    );
  });
  bar.done();
  const files = writeSimulationOutputs(result, flags.out);
  const timing = result.runs
    .map((r) => `${r.activation} ${r.seconds.toFixed(1)} s (${Math.round(r.iterationsPerSecond)} it/s)`)
    .join(', ');
  process.stdout.write(
    `${result.summary.join('\n')}\nTime: ${timing}.\nWrote ${files.csv}, ${files.json}, ${files.svg}\n`,
  );
}
