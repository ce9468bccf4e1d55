import type { Command } from 'commander';
import { parseReportFormats, writeReport } from '../../report/write.js';
import { collectGallery } from '../../report/gallery.js';
import { runExperiment } from '../../experiment/run.js';
import { type FieldNamer, parseRunConfig, readRawConfig, type RunConfig } from '../../experiment/config.js';
import { configureSharp } from '../../extract/extract.js';
import { FcprobeError } from '../../errors.js';
import { suiteRun } from '../../experiment/suiteConfig.js';
import type { SuiteRecord } from '../../experiment/types.js';
import { RUN_DEFAULTS, RUN_OPTIONS } from '../../options.js';
import { mergeFlags, type RunFlags } from '../runFlags.js';
import {
  createProgress,
  formatDuration,
  isWarning,
  noticePrinter,
  type ProgressReporter,
  shortPath,
} from '../progress.js';
import { action, addOptions } from '../run-command.js';
import { installStopHandler } from './extract.js';
import { planExtractJobs } from '../../experiment/plan.js';
import { ensureWritableDir, writeFileAtomic } from '../../io/atomic.js';
import { join } from 'node:path';
import { forTerminal } from '../../io/terminal.js';

interface RunCliFlags extends RunFlags {
  format: string;
  /** false with --no-images. */
  images?: boolean;
  quiet?: boolean;
  plan?: boolean;
  shards?: number;
}

/**
 * The run's config from the flags, a config file, or both (flags override the file's fields and are listed on
 * stderr), plus how errors name each field. Validates everything the config says before any extraction.
 * @throws FcprobeError BAD_OPTION / BAD_CONFIG naming the flag or the config field the user gave.
 */
export function resolveRunConfig(
  f: RunFlags,
  say: (m: string) => void,
): { config: RunConfig; nameOf: FieldNamer; suite?: SuiteRecord } {
  if (f.dataRoot && !f.suite) throw new FcprobeError('BAD_OPTION', '--data-root applies to --suite only.');
  if (f.trainPerClass && !f.suite) throw new FcprobeError('BAD_OPTION', '--train-per-class applies to --suite only.');
  const file = f.config ? readRawConfig(f.config) : undefined;
  for (const w of file?.warnings ?? []) say(w);
  const merged = mergeFlags(f, file?.raw, file?.baseDir);
  for (const o of merged.overrides) say(`${o}`);
  const baseDir = file?.baseDir ?? process.cwd();
  if (!file) {
    const need = f.suite
      ? (['teacher', 'student', 'work'] as const)
      : (['teacher', 'student', 'train', 'work'] as const);
    const missing = need.filter((k) => f[k] === undefined);
    if (missing.length)
      throw new FcprobeError(
        'BAD_OPTION',
        `Expected --config <file>, or all of ` +
          `${need.map((k) => `--${k}`).join(', ')}${f.suite ? ' (and --data-root)' : ''} (missing: ` +
          `${missing.map((m) => `--${m}`).join(', ')}).`,
      );
  }
  if (f.suite) {
    if (!f.dataRoot)
      throw new FcprobeError('BAD_OPTION', 'With --suite, give --data-root (the folder holding the datasets).');
    const { config, suite } = suiteRun({
      suite: f.suite,
      dataRoot: f.dataRoot,
      ...(f.trainPerClass ? { trainPerClass: f.trainPerClass } : {}),
      raw: merged.raw,
      baseDir,
      nameOf: merged.nameOf,
      onNotice: say,
    });
    return { config, nameOf: merged.nameOf, suite };
  }
  return { config: parseRunConfig(merged.raw, baseDir, { nameOf: merged.nameOf }), nameOf: merged.nameOf };
}

export function registerRunCommand(program: Command): void {
  const cmd = program
    .command('run')
    .summary('the whole experiment: extract, probe, diagnose and report teacher vs student')
    .description(
      'Extract teacher and student features for every set (cached in the work directory and resumable), fit one ' +
        'linear probe per model on the ID training features, score every ID and OOD set, measure how well the ' +
        'student fits the teacher on each set (CKA, cosine), and write report.md, report.json, report.html and ' +
        'results.json into the work directory.',
    );
  addOptions(cmd, RUN_OPTIONS)
    .addHelpText(
      'after',
      `
Examples:
  fcprobe run --config experiment.json
  fcprobe run --teacher t.onnx --student s1.onnx s2.onnx --reference r50.onnx vit.onnx --preset clip \\
              --train photos/train --test photos/test --ood sketches paintings --work work/exp1
  fcprobe run --teacher t.onnx --student s.onnx --preset inception --train photos --split 0.3 --seed 1 \
              --ood sketches --work w
  fcprobe run --config experiment.json --C 0.01 --work work/exp2      # flags override the config's fields
  fcprobe run --config experiment.json --plan --shards 8             # cluster jobs: see docs/cluster.md
  fcprobe run --suite imagenet-ood --data-root /datasets --teacher clip-rn50.onnx --student distilled-rn50.onnx \\
              --preset clip --train-per-class 50 --work work/rn50
A config names the models (path, preset, output, pool), the sets (name, path, layout), the probe options,
the providers, the work directory and optional effective-robustness baselines; see docs/run.md.`,
    )
    .action(
      action(async (flags: RunCliFlags) => {
        configureSharp(1);
        const formats = parseReportFormats(flags.format);
        const { config, nameOf, suite } = resolveRunConfig(flags, (m) => process.stderr.write(`${forTerminal(m)}\n`));
        if (flags.shards !== undefined && !flags.plan)
          throw new FcprobeError('BAD_OPTION', '--shards applies to --plan only.');
        if (flags.plan) {
          const plan = planExtractJobs(config, flags.shards ?? RUN_DEFAULTS.shards);
          const text = `${JSON.stringify(plan, null, 2)}\n`;
          ensureWritableDir(config.workDir);
          writeFileAtomic(join(config.workDir, 'plan.json'), text);
          process.stdout.write(text);
          if (!flags.quiet)
            process.stderr.write(
              `${plan.jobs.length} extraction jobs written to ${join(config.workDir, 'plan.json')}; run them ` +
                `(docs/cluster.md), then this command without --plan.\n`,
            );
          return;
        }
        const stop = installStopHandler();
        let bar: ProgressReporter | null = null;
        const print = noticePrinter(flags.quiet);
        const say = (m: string): void => {
          // A warning ends a progress line as a stage line does; it prints even with -q.
          if (!flags.quiet || isWarning(m)) {
            bar?.done();
            bar = null;
          }
          print(m);
        };
        try {
          const out = await runExperiment({
            config,
            nameOf,
            ...(suite ? { suite } : {}),
            onStage: say,
            onNotice: say,
            onExtractProgress: (label, p) => {
              bar ??= createProgress(`  ${label}`, { quiet: flags.quiet });
              bar.update(
                p.done,
                p.total,
                `${p.imagesPerSecond.toFixed(1)} img/s, ETA ` +
                  `${p.etaSeconds === null ? '?' : formatDuration(p.etaSeconds)}`,
              );
            },
            shouldStop: stop.shouldStop,
          });
          (bar as ProgressReporter | null)?.done();
          const gallery =
            flags.images !== false && formats.includes('html') ? await collectGallery(out.workDir, out.results) : [];
          const rendered = writeReport(out.results, formats, out.workDir, { gallery });
          if (rendered.terminal) process.stdout.write(`\n${rendered.terminal}\n`);
          if (rendered.written.length)
            process.stdout.write(`Report files:\n${rendered.written.map((p) => `  ${shortPath(p)}`).join('\n')}\n`);
        } finally {
          stop.dispose();
        }
      }),
    );
}
