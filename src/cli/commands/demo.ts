import type { Command } from 'commander';
import { configureSharp } from '../../extract/extract.js';
import { runDemo, type DemoOutcome } from '../../toy/demo.js';
import type { Activation } from '../../math/activations.js';
import { DEMO_OPTIONS } from '../../options.js';
import { conclusionSentences } from '../../report/conclusion.js';
import { createStageLog, formatDuration, shortPath } from '../progress.js';
import { action, addOptions } from '../run-command.js';
import { installStopHandler } from './extract.js';

interface DemoFlags {
  data: string;
  models: string;
  work: string;
  studentActivation: Activation;
  compareLinear: boolean;
  iterations: number;
  hidden: number;
  lr: number;
  seed: number;
  quiet?: boolean;
  verbose?: boolean;
}

const pct = (x: number | null | undefined): string =>
  x === null || x === undefined || Number.isNaN(x) ? '  n/a' : (100 * x).toFixed(1).padStart(5);

/** `text` as lines of at most `width` columns (a longer word stays whole), each starting with `indent`. */
export function wrap(text: string, width: number, indent: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return lines.join('\n');
}

/** One table over all students: the paper's Figure 1 in miniature. */
export function demoSummary(d: DemoOutcome): string {
  const r = d.outcome.results;
  const sets = r.sets.filter((s) => s.role !== 'id-train').map((s) => s.name);
  const rows: string[][] = [];
  const acc = (model: string, set: string): number | null =>
    r.accuracy.find((a) => a.model === model && a.set === set)?.top1 ?? null;
  rows.push(['model', ...sets.map((s) => `${s} top-1`), ...sets.map((s) => `${s} CKA`)]);
  for (const m of r.models) {
    rows.push([
      m.name,
      ...sets.map((s) => pct(acc(m.name, s))),
      ...sets.map((s) => {
        const f = r.representationFit.find((x) => x.student === m.name && x.set === s)?.fit.cka;
        return f === undefined ? '' : f.toFixed(3);
      }),
    ]);
  }
  const widths = rows[0]!.map((_, j) => Math.max(...rows.map((r) => r[j]!.length)));
  return rows
    .map(
      (r, i) =>
        r.map((c, j) => (j === 0 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!))).join('  ') +
        (i === 0 ? `\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : ''),
    )
    .join('\n');
}

export function registerDemoCommand(program: Command): void {
  const cmd = program
    .command('demo')
    .summary('build the embedded demo world (images, teacher, distilled students) and run the pipeline on it')
    .description(
      "Renders the paper's structured feature model as 16x16 PNG images (class-dependent core features plus " +
        'label-independent background features, mixed by a fixed orthogonal map; OOD sets shift the background), ' +
        'writes a teacher encoder that reads only the core (robust by construction) and students distilled from it ' +
        'on ID images only (two-layer MLPs trained in TypeScript, exported to ONNX), then runs `fcprobe run` once ' +
        'over the teacher and every student.',
    );
  addOptions(cmd, DEMO_OPTIONS)
    .addHelpText(
      'after',
      `
Example:
  npm run demo                      # = fcprobe demo: ~30-60 s on 2 cores
  fcprobe demo --student-activation gelu --iterations 4000`,
    )
    .action(
      action(async (f: DemoFlags) => {
        configureSharp(1);
        const log = createStageLog({ quiet: f.quiet, verbose: f.verbose });
        const training = new Map<string, { i: number; n: number; loss: number }>();
        const stop = installStopHandler();
        const t0 = performance.now();
        try {
          const d = await runDemo({
            dataDir: f.data,
            modelsDir: f.models,
            workDir: f.work,
            world: { seed: f.seed },
            student: { activation: f.studentActivation, iterations: f.iterations, hidden: f.hidden, lr: f.lr },
            compareLinear: f.compareLinear,
            onStage: (m) => log.stage(m),
            onTrainProgress: (label, i, n, loss, students) => {
              // The students train side by side: one line with each one's step and loss.
              training.set(label, { i, n, loss });
              const done = [...training.values()].reduce((s, t) => s + t.i, 0);
              log.progress(
                '  train',
                done,
                n * students,
                [...training].map(([l, t]) => `${l} MSE ${t.loss.toFixed(4)}`).join(', '),
              );
            },
            onExtractProgress: (label, p) => {
              log.progress(
                `    ${label}`,
                p.done,
                p.total,
                `${p.imagesPerSecond.toFixed(0)} img/s, ETA ` +
                  `${p.etaSeconds === null ? '?' : formatDuration(p.etaSeconds)}`,
              );
            },
            shouldStop: stop.shouldStop,
          });
          log.close();
          if (d.rendered.terminal) process.stdout.write(`\n${d.rendered.terminal}\n`);
          process.stdout.write(
            `\nAll students (top-1 %, and linear CKA to the teacher's features):\n${demoSummary(d)}\n\n`,
          );
          process.stdout.write(`Report files:\n${d.rendered.written.map((p) => `  ${shortPath(p)}`).join('\n')}\n`);
          const conclusion = conclusionSentences([
            {
              results: d.outcome.results,
              htmlReport: shortPath(d.rendered.written.find((p) => p.endsWith('.html')) ?? null),
            },
          ]);
          if (conclusion.length)
            process.stdout.write(`\nWhat this shows:\n${conclusion.map((s) => wrap(s, 100, '  ')).join('\n')}\n`);
          process.stdout.write(`\nDemo finished in ${formatDuration((performance.now() - t0) / 1000)}.\n`);
        } finally {
          log.close();
          stop.dispose();
        }
      }),
    );
}
