import { type Command, Option } from 'commander';
import {
  runSimulation,
  SIMULATE_DEFAULTS,
  writeSimulationOutputs,
  type SimulateOptions,
  type SimulateProgressEvent,
} from '../../toy/simulate.js';
import { ACTIVATIONS, type Activation } from '../../math/activations.js';
import { LOSSES, type LossKind } from '../../math/losses.js';
import { OPTIMIZERS, type OptimizerKind } from '../../math/optimizers.js';
import { CORE_MODES, type CoreMode } from '../../toy/structuredData.js';
import { finiteNumber, nonNegativeInt, positiveInt, positiveNumber } from '../parse.js';
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
  const d = SIMULATE_DEFAULTS;
  program
    .command('simulate')
    .summary("the paper's synthetic experiment: watch an MLP learn label-independent background features")
    .description(
      "Train an MLP on the structured feature model (Zhang et al., ICML 2024, Section 4; the paper's toy.py): " +
        'core features determine the label, background features are independent of it and shift out of ' +
        'distribution. Records ID/OOD loss and accuracy, core and background feature correlation and activation ' +
        'asymmetry every --every iterations; writes <out>/curves.csv, curves.json and curves.svg, and prints the finding.',
    )
    .option('--n <count>', 'data points, half per class', positiveInt, d.data.n)
    .option('--core-dim <d>', 'core feature dimensions (determine the label)', positiveInt, d.data.coreDim)
    .option('--bg-dim <d>', 'background feature dimensions (independent of the label)', positiveInt, d.data.bgDim)
    .option(
      '--input-dim <d>',
      'input dimensions (random orthonormal map of core + background)',
      positiveInt,
      d.data.inputDim,
    )
    .addOption(
      new Option(
        '--core-mode <mode>',
        'nonlinear: classes on spheres of radius 1 and 2; linear: U[0,1]^d vs its negation',
      )
        .choices(CORE_MODES)
        .default(d.data.coreMode),
    )
    .option('--hidden <width>', 'hidden layer width', positiveInt, d.hidden)
    .option('--layers <count>', 'linear layers (2: one hidden layer)', positiveInt, d.layers)
    .addOption(
      new Option('--activation <name>', 'hidden activation (none: a linear network)')
        .choices(ACTIVATIONS)
        .default(d.activation),
    )
    .option('--no-bias', 'linear layers without bias')
    .option(
      '--freeze-output',
      'freeze the output layer at +1/m (first half of the units), -1/m (second half), as in the theory',
    )
    .addOption(new Option('--loss <name>', 'training loss').choices(LOSSES).default(d.loss))
    .addOption(
      new Option('--optimizer <name>', 'optimizer (sgd uses --momentum)').choices(OPTIMIZERS).default(d.optimizer),
    )
    .option('--lr <rate>', 'learning rate', positiveNumber, d.lr)
    .option(
      '--weight-decay <wd>',
      'weight decay (decoupled for adamw, L2 for sgd and adam)',
      finiteNumber,
      d.weightDecay,
    )
    .option('--momentum <m>', 'SGD momentum', finiteNumber, d.momentum)
    .option('--iterations <count>', 'full-batch training iterations', nonNegativeInt, d.iterations)
    .option('--every <count>', 'record the curves every this many iterations', positiveInt, d.every)
    .option(
      '--seed <int>',
      'seed for data and initialization (same seed: same data and init for every activation)',
      nonNegativeInt,
      d.seed,
    )
    .option('--compare-linear', 'also train the same network without activation (same seed) as the control')
    .option(
      '--dense',
      'multiply the dense input instead of using its exact rank-(core+bg) factorization (slower; same maths, different float32 rounding)',
    )
    .option(
      '--threads <n>',
      'onnxruntime intra-op threads (0: one per core; 1 is faster here, see bench/simulate-RESULTS.md)',
      nonNegativeInt,
      1,
    )
    .option('-o, --out <dir>', 'output directory for curves.csv, curves.json, curves.svg', 'fcprobe-simulate')
    .option('-q, --quiet', 'no progress line on stderr')
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
        const bar = createProgress('simulate', { quiet: flags.quiet ?? false, intervalSeconds: 5 });
        const started = Date.now();
        // With --compare-linear the two networks train side by side: one line with both.
        const latest = new Map<number, SimulateProgressEvent>();
        const result = await runSimulation(options, (e) => {
          latest.set(e.run, e);
          const all = [...latest.values()];
          const extra =
            all
              .map(
                (x) =>
                  `${x.activation}${x.latest ? ` bg ${x.latest.backgroundCorrelation.toFixed(3)} core ${x.latest.coreCorrelation.toFixed(3)} ood-loss ${x.latest.oodLoss.toFixed(3)}` : ''}`,
              )
              .join('; ') + ` ${formatDuration((Date.now() - started) / 1000)}`;
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
      }),
    );
}
