import { relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { type DistillResult, runDistill } from '../../distill/distill.js';
import type { FitEntry } from '../../distill/distill.js';
import type { HeadActivation, HeadKind } from '../../distill/head.js';
import type { DistillLoss } from '../../distill/train.js';
import { DISTILL_OPTIONS } from '../../options.js';
import { invalid } from '../../validate.js';
import { addOptions } from '../run-command.js';
import { createProgress, formatDuration, noticePrinter } from '../progress.js';
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
  eval?: string[];
  out: string;
  bufferRows?: number;
  threads?: number;
  json?: boolean;
  quiet?: boolean;
}

/** "<teacher-dir>:<student-dir>" -> the pair. */
function evalPair(v: string): { teacher: string; student: string } {
  const i = v.indexOf(':');
  if (i <= 0 || i === v.length - 1) throw invalid('--eval', '<teacher-dir>:<student-dir>', v);
  return { teacher: v.slice(0, i), student: v.slice(i + 1) };
}

const f4 = (x: number): string => (Number.isFinite(x) ? x.toFixed(4) : '-');
const iv = (x: number, i: { low: number; high: number } | null): string =>
  i && Number.isFinite(i.low) ? `${f4(x)} [${f4(i.low)}, ${f4(i.high)}]` : f4(x);

/**
 * The terminal table: one row per (teacher, student) pair, with 95% intervals. distill.json's paths are relative
 * to `out`; they are shown relative to the current folder, as the user typed them.
 */
export function formatDistillTable(r: DistillResult, out: string): string {
  const shown = (p: string): string => relative(process.cwd(), resolve(out, p)) || '.';
  const lines = [
    `distilled ${r.settings.head.kind} head ${r.student.dim} -> ${r.teacher.dim} (${r.headParameters} parameters) on ` +
      `${r.rows} images: ${r.steps} steps, last-epoch ${r.settings.loss} loss ${r.epochLosses.at(-1)?.toPrecision(5)}`,
    `wrote ${shown(r.outputs.head)}${r.outputs.student ? ` and ${shown(r.outputs.student)}` : ''}`,
    '',
  ];
  const header = ['set', 'n', 'MSE [95%]', 'MSE/var [95%]', 'cosine [95%]', 'CKA [95%]'];
  const rows = r.fit.map((e: FitEntry) => [
    `${e.name} (${shown(e.teacherDir)})`,
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
  const cmd = program
    .command('distill')
    .summary("train a head on a frozen student backbone to reproduce a teacher's features; export it as ONNX")
    .description(
      'Representation distillation: student(x) = head(backbone(x)), the head (linear or MLP) trained with AdamW ' +
        "(warmup + cosine) to fit the teacher's features from the backbone's, on feature directories of the same " +
        'images (streamed in shuffled mini-batches). Writes <out>/head.onnx, <out>/student.onnx (with --backbone: ' +
        'backbone + head in one graph) and <out>/distill.json (settings, per-epoch loss, fit with 95% intervals). ' +
        'Interrupted runs resume from the last epoch checkpoint to the same bytes.',
    );
  addOptions(cmd, DISTILL_OPTIONS)
    .addHelpText(
      'after',
      `
Examples:
  fcprobe distill --teacher-features work/t-train --student-features work/b-train --backbone backbone.onnx \\
    --head mlp --hidden 2048 --eval work/t-sketch:work/b-sketch --out work/distill-mlp
  fcprobe extract --model work/distill-mlp/student.onnx --data photos/test --out work/s-test   ` +
        '# same preprocessing flags as the backbone',
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
            eval: (flags.eval ?? []).map(evalPair),
            bufferRows: flags.bufferRows,
            threads: flags.threads,
            shouldStop: stop.shouldStop,
            onNotice: noticePrinter(flags.quiet),
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
          process.stdout.write(
            flags.json ? `${JSON.stringify(result, null, 1)}\n` : formatDistillTable(result, flags.out),
          );
        } finally {
          stop.dispose();
        }
      }),
    );
}
