import { type Command, InvalidArgumentError, Option } from 'commander';
import { DISTILL_DEFAULTS, type DistillResult, runDistill } from '../../distill/distill.js';
import type { FitEntry } from '../../distill/distill.js';
import type { HeadActivation, HeadKind } from '../../distill/head.js';
import type { DistillLoss } from '../../distill/train.js';
import { nonNegativeInt, nonNegativeNumber, positiveInt, positiveNumber } from '../parse.js';
import { createProgress, formatDuration } from '../progress.js';
import { action } from '../run-command.js';
import { installStopHandler } from './extract.js';

interface DistillFlags {
  teacherFeatures: string;
  studentFeatures: string;
  backbone?: string;
  head: HeadKind;
  hidden: number;
  layers: number;
  activation: HeadActivation;
  loss: DistillLoss;
  epochs: number;
  batch: number;
  lr: number;
  weightDecay: number;
  warmup: number;
  seed: number;
  standardizeTarget?: boolean;
  eval?: { teacher: string; student: string }[];
  out: string;
  bufferRows?: number;
  threads?: number;
  json?: boolean;
  quiet?: boolean;
}

function evalPair(
  v: string,
  prev: { teacher: string; student: string }[] = [],
): { teacher: string; student: string }[] {
  const i = v.indexOf(':');
  if (i <= 0 || i === v.length - 1) throw new InvalidArgumentError(`expected <teacher-dir>:<student-dir>, got "${v}".`);
  return [...prev, { teacher: v.slice(0, i), student: v.slice(i + 1) }];
}

const f4 = (x: number): string => (Number.isFinite(x) ? x.toFixed(4) : '-');
const iv = (x: number, i: { low: number; high: number } | null): string =>
  i && Number.isFinite(i.low) ? `${f4(x)} [${f4(i.low)}, ${f4(i.high)}]` : f4(x);

/** The terminal table: one row per (teacher, student) pair, with 95% intervals. */
export function formatDistillTable(r: DistillResult): string {
  const lines = [
    `distilled ${r.settings.head.kind} head ${r.student.dim} -> ${r.teacher.dim} (${r.headParameters} parameters) on ${r.rows} images: ${r.steps} steps, last-epoch ${r.settings.loss} loss ${r.epochLosses.at(-1)?.toPrecision(5)}`,
    `wrote ${r.outputs.head}${r.outputs.student ? ` and ${r.outputs.student}` : ''}`,
    '',
  ];
  const header = ['set', 'n', 'MSE [95%]', 'MSE/var [95%]', 'cosine [95%]', 'CKA [95%]'];
  const rows = r.fit.map((e: FitEntry) => [
    `${e.name} (${e.teacherDir})`,
    String(e.n),
    iv(e.mse, e.mseInterval),
    iv(e.mseStandardized, e.mseStandardizedInterval),
    iv(e.cosineMean, e.cosineInterval),
    iv(e.cka, e.ckaInterval),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const fmt = (row: string[]): string =>
    row.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ');
  lines.push(fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt));
  return `${lines.join('\n')}\n`;
}

export function registerDistillCommand(program: Command): void {
  const d = DISTILL_DEFAULTS;
  program
    .command('distill')
    .summary("train a head on a frozen student backbone to reproduce a teacher's features; export it as ONNX")
    .description(
      'Representation distillation: student(x) = head(backbone(x)), the head (linear or MLP) trained with AdamW ' +
        "(warmup + cosine) to fit the teacher's features from the backbone's, on feature directories of the same " +
        'images (streamed in shuffled mini-batches). Writes <out>/head.onnx, <out>/student.onnx (with --backbone: ' +
        'backbone + head in one graph) and <out>/distill.json (settings, per-epoch loss, fit with 95% intervals). ' +
        'Interrupted runs resume from the last epoch checkpoint to the same bytes.',
    )
    .requiredOption('--teacher-features <dir>', 'teacher features of the ID training images (fcprobe extract)')
    .requiredOption('--student-features <dir>', 'student backbone features of the same images, same order')
    .option('--backbone <model.onnx>', 'the student backbone that made --student-features; writes student.onnx')
    .addOption(new Option('--head <kind>', 'linear or mlp').choices(['linear', 'mlp']).default(d.head.kind))
    .option('--hidden <n>', 'mlp: hidden width', positiveInt, d.head.hidden)
    .option('--layers <n>', 'mlp: linear maps (2 = one hidden layer)', positiveInt, d.head.layers)
    .addOption(
      new Option('--activation <name>', 'mlp: activation').choices(['relu', 'gelu', 'none']).default(d.head.activation),
    )
    .addOption(new Option('--loss <name>', 'mse or cosine (1 - cosine)').choices(['mse', 'cosine']).default(d.loss))
    .option('--epochs <n>', 'passes over the training images', positiveInt, d.epochs)
    .option('--batch <n>', 'batch size', positiveInt, d.batchSize)
    .option('--lr <value>', 'peak AdamW learning rate', positiveNumber, d.lr)
    .option('--weight-decay <value>', 'AdamW (decoupled) weight decay', nonNegativeNumber, d.weightDecay)
    .option('--warmup <steps>', 'linear warmup steps before the cosine decay', nonNegativeInt, d.warmupSteps)
    .option('--seed <n>', 'seed of the initialization and the shuffles', nonNegativeInt, d.seed)
    .option(
      '--standardize-target',
      "train on the teacher's features standardized with their training mean/std (the export undoes it)",
    )
    .option(
      '--eval <teacher-dir:student-dir...>',
      'other (teacher, student) feature sets to report the fit on',
      evalPair,
    )
    .requiredOption('-o, --out <dir>', 'where head.onnx, student.onnx and distill.json go')
    .option('--buffer-rows <n>', 'rows held in memory for the block shuffle (default: 256 MiB worth)', positiveInt)
    .option('--threads <n>', 'onnxruntime threads for the matrix products (default: one per core)', positiveInt)
    .option('--json', 'print distill.json instead of the table')
    .option('-q, --quiet', 'no progress output')
    .addHelpText(
      'after',
      `
Examples:
  fcprobe distill --teacher-features work/t-train --student-features work/b-train --backbone backbone.onnx \\
    --head mlp --hidden 2048 --eval work/t-sketch:work/b-sketch --out work/distill-mlp
  fcprobe extract --model work/distill-mlp/student.onnx --data photos/test --out work/s-test   # same preprocessing flags as the backbone`,
    )
    .action(
      action(async (flags: DistillFlags) => {
        const progress = createProgress('distill', { quiet: flags.quiet });
        const stop = installStopHandler('finished epochs are saved');
        const t0 = performance.now();
        try {
          const result = await runDistill({
            teacherFeatures: flags.teacherFeatures,
            studentFeatures: flags.studentFeatures,
            backbone: flags.backbone,
            out: flags.out,
            settings: {
              head: { kind: flags.head, hidden: flags.hidden, layers: flags.layers, activation: flags.activation },
              loss: flags.loss,
              epochs: flags.epochs,
              batchSize: flags.batch,
              lr: flags.lr,
              weightDecay: flags.weightDecay,
              warmupSteps: flags.warmup,
              seed: flags.seed,
              standardizeTarget: flags.standardizeTarget ?? false,
            },
            eval: flags.eval ?? [],
            bufferRows: flags.bufferRows,
            threads: flags.threads,
            shouldStop: stop.shouldStop,
            onNotice: (m) => process.stderr.write(`${m}\n`),
            onStep: (p) => {
              const elapsed = (performance.now() - t0) / 1000;
              const eta = (elapsed / p.stepsThisRun) * (p.totalSteps - p.step);
              progress.update(
                p.step,
                p.totalSteps,
                `epoch ${p.epoch + 1}, loss ${p.batchLoss.toPrecision(4)}, ETA ${formatDuration(eta)}`,
              );
            },
          });
          progress.done();
          process.stdout.write(flags.json ? `${JSON.stringify(result, null, 1)}\n` : formatDistillTable(result));
        } finally {
          stop.dispose();
        }
      }),
    );
}
