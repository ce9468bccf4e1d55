import { type Command, InvalidArgumentError, Option } from 'commander';
import { parseReportFormats, writeReport } from '../../report/write.js';
import { runExperiment } from '../../experiment/run.js';
import { type FieldNamer, parseRunConfig, readRawConfig, type RunConfig } from '../../experiment/config.js';
import { configureSharp } from '../../extract/extract.js';
import { FcprobeError } from '../../errors.js';
import { suiteRun } from '../../experiment/suiteConfig.js';
import type { SuiteRecord } from '../../experiment/types.js';
import { positiveInt, positiveNumber, finiteNumber, nonNegativeInt, triple } from '../parse.js';
import { mergeFlags, type RunFlags } from '../runFlags.js';
import { createProgress, formatDuration, type ProgressReporter } from '../progress.js';
import { action } from '../run-command.js';
import { installStopHandler } from './extract.js';
import { planExtractJobs } from '../../experiment/plan.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

interface RunCliFlags extends RunFlags {
  format: string;
  quiet?: boolean;
  plan?: boolean;
  shards?: number;
}

const PRESETS = ['torchvision', 'clip', 'inception'] as const;

function fraction(v: string): number {
  const x = Number(v);
  if (v.trim() === '' || !(x > 0 && x < 1))
    throw new InvalidArgumentError(`expected a fraction strictly between 0 and 1, got "${v}".`);
  return x;
}

function seedList(v: string): number[] {
  const xs = v.split(',').map((t) => t.trim());
  if (xs.some((t) => !/^\d+$/.test(t)) || new Set(xs.map(Number)).size !== xs.length)
    throw new InvalidArgumentError(
      `expected distinct non-negative integers separated by commas (e.g. 0,1,2), got "${v}".`,
    );
  return xs.map(Number);
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
  const merged = mergeFlags(f, file?.raw);
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
        `Expected --config <file>, or all of ${need.map((k) => `--${k}`).join(', ')}${f.suite ? ' (and --data-root)' : ''} (missing: ${missing.map((m) => `--${m}`).join(', ')}).`,
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
  program
    .command('run')
    .summary('the whole experiment: extract, probe, diagnose and report teacher vs student')
    .description(
      'Extract teacher and student features for every set (cached in the work directory and resumable), fit one linear ' +
        'probe per model on the ID training features, score every ID and OOD set, measure how well the student fits the ' +
        'teacher on each set (CKA, cosine), and write report.md, report.json, report.html and results.json into the work directory.',
    )
    .option('-c, --config <file>', 'experiment config (JSON; schema: schema/experiment.schema.json)')
    .option('--teacher <file.onnx>', 'teacher encoder (instead of, or overriding, the config)')
    .option('--student <files.onnx...>', 'one or more student encoders (each named by its file)')
    .option(
      '--reference <files.onnx...>',
      'reference models, probed the same way: points of the effective-robustness baseline',
    )
    .option('--train <folder>', 'ID training images (one sub-folder per class)')
    .option('--test <folders...>', 'ID test image folders')
    .option('--ood <folders...>', 'OOD image folders (classes among the training classes)')
    .option('-w, --work <dir>', 'work directory for features, probes and the report')
    .addOption(new Option('--preset <name>', 'preprocessing preset of every model').choices(PRESETS))
    .addOption(new Option('--teacher-preset <name>', 'preset of the teacher').choices(PRESETS))
    .option('--teacher-output <name>', 'output of the teacher to read when the graph has several')
    .addOption(
      new Option('--teacher-pool <how>', 'pooling of a token output [N, T, D] of the teacher').choices(['cls', 'mean']),
    )
    .option('--teacher-resize <px>', 'resize side of the teacher (default: from the preset)', positiveInt)
    .option(
      '--teacher-crop <px>',
      "center-crop side of the teacher (default: the graph's input size or the preset)",
      positiveInt,
    )
    .addOption(
      new Option('--teacher-interpolation <name>', 'resize interpolation of the teacher').choices([
        'bilinear',
        'bicubic',
      ]),
    )
    .option('--teacher-mean <r,g,b>', 'per-channel mean of the teacher on [0,1] pixels', triple)
    .option('--teacher-std <r,g,b>', 'per-channel std of the teacher', triple)
    .addOption(new Option('--student-preset <name>', 'preset of every student').choices(PRESETS))
    .option('--student-output <name>', 'output of every student to read when the graph has several')
    .addOption(
      new Option('--student-pool <how>', 'pooling of a token output [N, T, D] of every student').choices([
        'cls',
        'mean',
      ]),
    )
    .option('--student-resize <px>', 'resize side of every student (default: from the preset)', positiveInt)
    .option(
      '--student-crop <px>',
      "center-crop side of every student (default: the graph's input size or the preset)",
      positiveInt,
    )
    .addOption(
      new Option('--student-interpolation <name>', 'resize interpolation of every student').choices([
        'bilinear',
        'bicubic',
      ]),
    )
    .option('--student-mean <r,g,b>', 'per-channel mean of every student on [0,1] pixels', triple)
    .option('--student-std <r,g,b>', 'per-channel std of every student', triple)
    .option('--C <value>', "inverse L2 strength of the probes (scikit-learn's C)", positiveNumber)
    .option('--C-sweep', 'choose C on a held-out split of the training features')
    .addOption(new Option('--solver <name>', 'probe solver').choices(['lbfgs', 'ml', 'sgd']))
    .addOption(new Option('--recipe <name>', "the paper's AdamW probe recipe").choices(['paper']))
    .option('--weight-decay <value>', 'AdamW weight decay for --solver sgd / --recipe paper', finiteNumber)
    .option(
      '--suite <name>',
      'a benchmark suite by name: imagenet-ood (ImageNet + V2, R, Sketch, A, ObjectNet under --data-root)',
    )
    .option('--data-root <dir>', "folder holding the suite's datasets under their usual names")
    .option(
      '--present-classes-only',
      'score each set over its class folders present, not over its benchmark label space (1000 classes, or the 200 of -R/-A): not the protocol',
    )
    .option('--train-per-class <n>', 'with --suite: use n training images per class (stratified, seeded)', positiveInt)
    .option('--split <fraction>', 'hold out this fraction of each ID training class as the ID test set', fraction)
    .option('--seeds <list>', 'repeat split and probe for each seed, e.g. 0,1,2: mean and std across seeds', seedList)
    .option('--ep <list>', 'execution providers in order, e.g. cuda,cpu')
    .option('--threads <n>', 'onnxruntime threads', positiveInt)
    .option('--batch <n>', 'inference batch size', positiveInt)
    .option(
      '--bootstrap <n>',
      'paired bootstrap replicates of the gap intervals (default 2000; 0: none)',
      nonNegativeInt,
    )
    .option('--seed <n>', "seed of the ID --split, the probe's sweep split / SGD and the bootstrap", nonNegativeInt)
    .option('--format <list>', 'report formats: all, or some of terminal,md,json,html,csv', 'all')
    .option('-q, --quiet', 'no progress output')
    .option(
      '--plan',
      'print (and write to <work>/plan.json) the extraction jobs for a cluster instead of running; a later run merges their shards',
    )
    .option('--shards <n>', 'with --plan: shards per (model, set), one job each (default 1)', positiveInt)
    .addHelpText(
      'after',
      `
Examples:
  fcprobe run --config experiment.json
  fcprobe run --teacher t.onnx --student s1.onnx s2.onnx --reference r50.onnx vit.onnx --preset clip \\
              --train photos/train --test photos/test --ood sketches paintings --work work/exp1
  fcprobe run --teacher t.onnx --student s.onnx --train photos --split 0.3 --seed 1 --ood sketches --work w
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
        const { config, nameOf, suite } = resolveRunConfig(flags, (m) => process.stderr.write(`${m}\n`));
        if (flags.shards !== undefined && !flags.plan)
          throw new FcprobeError('BAD_OPTION', '--shards applies to --plan only.');
        if (flags.plan) {
          const plan = planExtractJobs(config, flags.shards ?? 1);
          const text = `${JSON.stringify(plan, null, 2)}\n`;
          mkdirSync(config.workDir, { recursive: true });
          writeFileAtomic(join(config.workDir, 'plan.json'), text);
          process.stdout.write(text);
          if (!flags.quiet)
            process.stderr.write(
              `${plan.jobs.length} extraction jobs written to ${join(config.workDir, 'plan.json')}; run them (docs/cluster.md), then this command without --plan.\n`,
            );
          return;
        }
        const stop = installStopHandler();
        let bar: ProgressReporter | null = null;
        const say = (m: string): void => {
          if (!flags.quiet) process.stderr.write(`${m}\n`);
        };
        try {
          const out = await runExperiment({
            config,
            nameOf,
            ...(suite ? { suite } : {}),
            onStage: (m) => {
              bar?.done();
              bar = null;
              say(m);
            },
            onNotice: say,
            onExtractProgress: (label, p) => {
              bar ??= createProgress(`  ${label}`, { quiet: flags.quiet });
              bar.update(
                p.done,
                p.total,
                `${p.imagesPerSecond.toFixed(1)} img/s, ETA ${p.etaSeconds === null ? '?' : formatDuration(p.etaSeconds)}`,
              );
            },
            shouldStop: stop.shouldStop,
          });
          (bar as ProgressReporter | null)?.done();
          const rendered = writeReport(out.results, formats, out.workDir);
          if (rendered.terminal) process.stdout.write(`\n${rendered.terminal}\n`);
          if (rendered.written.length)
            process.stdout.write(`Report files:\n${rendered.written.map((p) => `  ${p}`).join('\n')}\n`);
        } finally {
          stop.dispose();
        }
      }),
    );
}
