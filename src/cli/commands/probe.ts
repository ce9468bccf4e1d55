import type { Command } from 'commander';
import {
  runProbe,
  withoutCorrectness,
  type ProbeOptions,
  type ProbeResult,
  type SolverName,
} from '../../probe/probe.js';
import { PROBE_OPTIONS } from '../../options.js';
import { describeSweepTie } from '../../probe/sweep.js';
import { chanceAtK, TOP5_HEADLINE_MAX_CHANCE } from '../../probe/metrics.js';
import { addOptions } from '../run-command.js';
import { action } from '../run-command.js';
import { escapeControl, forTerminal } from '../../io/terminal.js';

interface ProbeFlags {
  train?: string;
  eval?: string[];
  out: string;
  load?: string;
  solver?: SolverName;
  recipe?: 'paper';
  C?: number;
  CSweep?: boolean;
  CGrid?: number[];
  holdout?: number;
  seed?: number;
  tol?: number;
  ftol?: number;
  maxIter?: number;
  standardize: boolean;
  mlSteps?: number;
  mlLearningRate?: number;
  lr?: number;
  epochs?: number;
  batch?: number;
  weightDecay?: number;
  warmup?: number;
  clip?: number;
  bufferRows?: number;
  memoryBudget?: number;
  ignoreUnknown?: boolean;
  predictions?: boolean;
  threads?: number;
  json?: boolean;
  quiet?: boolean;
}

function pct(x: number): string {
  return Number.isFinite(x) ? (100 * x).toFixed(2) : '-';
}

/** The terminal table: one row per evaluation set, then the label-space notes. */
export function formatProbeTable(r: ProbeResult): string {
  const p = r.probe;
  const c = p.convergence;
  const lines: string[] = [];
  const how =
    p.solver === 'lbfgs'
      ? `lbfgs, C=${p.C}` +
        `${p.sweep ? ` (chosen by sweep over ${p.sweep.grid.length} values on ${p.sweep.nVal} held-out rows)` : ''}, ` +
        `${c.iterations} iterations, max|grad| ${c.finalGradNorm?.toExponential(2)}, objective ` +
        `${c.objective?.toPrecision(8)}${c.converged ? '' : ` (NOT converged: ${c.reason})`}`
      : p.solver === 'sgd'
        ? `${p.recipe === 'paper' ? 'paper recipe (' : 'sgd ('}AdamW, ${c.iterations} steps, weight decay ` +
          `${String(p.settings.weightDecay)}), last-epoch loss ${c.meanTrainLoss?.toFixed(4)}`
        : `ml-logistic-regression (${String(p.settings.numSteps)} steps, lr ${String(p.settings.learningRate)})`;
  lines.push(`probe: ${p.classes.length} classes x ${p.featureDim} features, ${p.train.rows} training rows; ${how}`);
  lines.push(
    `standardization: ${p.standardization ? 'training mean/std' : 'none (raw features)'}; written to ${r.probeDir}`,
  );
  if (p.trainFit)
    lines.push(
      `on its ${p.trainFit.rows} training rows: top-1 ${pct(p.trainFit.top1)}% ` +
        `(chance ${pct(p.trainFit.chance)}%, the largest class's share)`,
    );
  for (const x of p.decided ?? []) lines.push(`note: --${x.setting} ${x.value}: ${x.from}`);
  for (const w of p.warnings ?? []) lines.push(`warning: ${w}`);
  const sw = p.sweep;
  const tie = sw?.tied
    ? describeSweepTie({
        of: sw.grid.length,
        tied: sw.tied,
        valTop1: sw.points.find((q) => q.C === sw.chosenC)?.valTop1 ?? NaN,
        nVal: sw.nVal,
        chosenC: sw.chosenC,
      })
    : null;
  if (tie) lines.push(`C sweep: ${tie}`);
  if (p.sweep?.atGridEdge)
    lines.push(
      `note: the chosen C=${p.C} is at the end of the sweep grid; the best C may lie outside it (extend --C-grid)`,
    );
  if (p.train.droppedClasses.length > 0)
    lines.push(
      `note: ${p.train.droppedClasses.length} class(es) of the training manifest have no rows and are not in the probe`,
    );
  if (r.evaluations.length === 0) return `${lines.join('\n')}\n`;
  const header = ['set', 'n', 'top-1 %', 'top-5 %', 'chance@5 %', 'class-mean %', 'loss', 'classes'];
  const rows = r.evaluations.map((e) => [
    e.name,
    String(e.n),
    pct(e.top1),
    `${pct(e.top5)}${e.topK < 5 ? ` (top-${e.topK})` : ''}`,
    pct(chanceAtK(e.labelSpace.scoredClasses, 5)),
    pct(e.meanPerClassAccuracy),
    Number.isFinite(e.meanLoss) ? e.meanLoss.toFixed(4) : '-',
    `${e.labelSpace.scoredClasses}/${e.labelSpace.probeClasses}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const fmt = (row: string[]): string =>
    row.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ');
  lines.push('', fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt));
  const easy = r.evaluations.filter((e) => chanceAtK(e.labelSpace.scoredClasses, 5) >= TOP5_HEADLINE_MAX_CHANCE);
  if (easy.length > 0)
    lines.push(
      `top-5 on ${easy.map((e) => `${e.name} (${e.labelSpace.scoredClasses} classes)`).join(', ')}: chance@5 is ` +
        `${100 * TOP5_HEADLINE_MAX_CHANCE}% or more, so top-5 says little there; read top-1`,
    );
  for (const e of r.evaluations) {
    if (e.labelSpace.kind !== 'identity') lines.push(`${e.name}: ${e.labelSpace.description}`);
    if (e.leftOut > 0) {
      const why = e.leftOutBy.map((d) => `${d.what} (${d.reason}, ${d.images})`);
      lines.push(
        `${e.name}: ${e.leftOut} image(s) left out: ${why.slice(0, 8).join(', ')}${why.length > 8 ? ', ...' : ''}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

export function registerProbeCommand(program: Command): void {
  const cmd = program
    .command('probe')
    .summary('fit a linear probe on ID features and score it on ID and OOD feature sets')
    .description(
      "Fit a multinomial logistic regression (softmax, intercept, L2 penalty as scikit-learn's " +
        'LogisticRegression(C)) on standardized training features, then report top-1/top-5, per-class accuracy and ' +
        'loss on each --eval set. Sets whose classes are a subset of the training classes (ImageNet-R/A) are scored ' +
        'with the other logits masked; sets with a classMap (ObjectNet) by the max over mapped logits. Writes ' +
        '<out>/probe.json, <out>/weights.npy (float32 [K, D+1]) and <out>/metrics.json.',
    );
  addOptions(cmd, PROBE_OPTIONS)
    .addHelpText(
      'after',
      `
Examples:
  fcprobe probe --train work/t-train --eval work/t-val work/t-sketch --out work/t-probe --C-sweep
  fcprobe probe --train work/s-train --eval work/s-val --out work/s-paper --recipe paper --weight-decay 1e-3
  fcprobe probe --load work/t-probe --eval work/t-objectnet --out work/t-probe-on --ignore-unknown`,
    )
    .action(
      action(async (flags: ProbeFlags) => {
        const sgd = {
          lr: flags.lr,
          epochs: flags.epochs,
          batchSize: flags.batch,
          weightDecay: flags.weightDecay,
          warmupSteps: flags.warmup,
          clipNorm: flags.clip,
          bufferRows: flags.bufferRows,
        };
        const options: ProbeOptions = {
          out: flags.out,
          ...(flags.train ? { train: flags.train } : {}),
          ...(flags.load ? { load: flags.load } : {}),
          eval: flags.eval ?? [],
          ...(flags.solver ? { solver: flags.solver } : {}),
          recipe: flags.recipe ?? null,
          ...(flags.memoryBudget !== undefined ? { memoryBudget: flags.memoryBudget } : {}),
          ...(flags.C !== undefined ? { C: flags.C } : {}),
          cSweep: flags.CSweep ? (flags.CGrid ?? true) : false,
          ...(flags.holdout !== undefined ? { holdout: flags.holdout } : {}),
          ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
          ...(flags.tol !== undefined ? { tol: flags.tol } : {}),
          ...(flags.ftol !== undefined ? { ftol: flags.ftol } : {}),
          ...(flags.maxIter !== undefined ? { maxIter: flags.maxIter } : {}),
          // --no-standardize is the only way to turn it off; the paper recipe turns it off by itself.
          ...(flags.standardize === false ? { standardize: false } : {}),
          ml: {
            ...(flags.mlSteps !== undefined ? { numSteps: flags.mlSteps } : {}),
            ...(flags.mlLearningRate !== undefined ? { learningRate: flags.mlLearningRate } : {}),
          },
          sgd: Object.fromEntries(Object.entries(sgd).filter(([, v]) => v !== undefined)),
          ignoreUnknown: flags.ignoreUnknown ?? false,
          predictions: flags.predictions ?? false,
          ...(flags.threads ? { threads: flags.threads } : {}),
          ...(flags.quiet
            ? {}
            : { onProgress: (p) => process.stderr.write(`[${p.phase}] ${forTerminal(p.message)}\n`) }),
        };
        if (flags.CGrid && !flags.CSweep) process.stderr.write('note: --C-grid has no effect without --C-sweep\n');
        const result = await runProbe(options);
        process.stdout.write(
          flags.json
            ? `${JSON.stringify({ ...result, evaluations: result.evaluations.map(withoutCorrectness) }, null, 1)}\n`
            : escapeControl(formatProbeTable(result)),
        );
      }),
    );
}
