import { type Command, Option } from 'commander';
import { parseReportFormats, writeReport } from '../../report/write.js';
import { runExperiment } from '../../experiment/run.js';
import { parseRunConfig, readRunConfig, type RunConfig } from '../../experiment/config.js';
import { configureSharp } from '../../extract/extract.js';
import { FcprobeError } from '../../errors.js';
import { suiteConfig } from '../../experiment/suiteConfig.js';
import { positiveInt, positiveNumber, finiteNumber, nonNegativeInt } from '../parse.js';
import { createProgress, formatDuration, type ProgressReporter } from '../progress.js';
import { action } from '../run-command.js';
import { installStopHandler } from './extract.js';

interface RunFlags {
  config?: string;
  teacher?: string;
  student?: string;
  train?: string;
  test?: string[];
  ood?: string[];
  work?: string;
  preset?: string;
  teacherPreset?: string;
  studentPreset?: string;
  C?: number;
  cSweep?: boolean;
  solver?: 'lbfgs' | 'ml' | 'sgd';
  recipe?: 'paper';
  weightDecay?: number;
  suite?: string;
  dataRoot?: string;
  trainPerClass?: number;
  ep?: string;
  threads?: number;
  batch?: number;
  bootstrap?: number;
  seed?: number;
  format: string;
  quiet?: boolean;
}

function configFromFlags(f: RunFlags): RunConfig {
  if (f.suite) {
    if (!f.teacher || !f.student || !f.dataRoot || !f.work) {
      throw new FcprobeError('BAD_OPTION', 'With --suite, give --teacher, --student, --data-root and --work.');
    }
    return suiteConfig({
      suite: f.suite,
      dataRoot: f.dataRoot,
      workDir: f.work,
      teacher: f.teacher,
      student: f.student,
      ...(f.trainPerClass ? { trainPerClass: f.trainPerClass } : {}),
      raw: rawModelAndProbe(f),
      ...(f.quiet ? { onNotice: () => {} } : {}),
    });
  }
  const missing = (['teacher', 'student', 'train', 'work'] as const).filter((k) => !f[k]);
  if (missing.length) {
    throw new FcprobeError(
      'BAD_OPTION',
      `Expected --config <file>, or all of --teacher, --student, --train, --work (missing: ${missing.map((m) => `--${m}`).join(', ')}).`,
    );
  }
  return parseRunConfig(
    { workDir: f.work, train: f.train, test: f.test ?? [], ood: f.ood ?? [], ...rawModelAndProbe(f) },
    process.cwd(),
  );
}

function rawModelAndProbe(f: RunFlags): Record<string, unknown> {
  const model = (path: string | undefined, preset: string | undefined): unknown => (preset ? { path, preset } : path);
  const probe: Record<string, unknown> = {};
  if (f.C !== undefined) probe.C = f.C;
  if (f.cSweep) probe.sweep = true;
  if (f.solver) probe.solver = f.solver;
  if (f.recipe) probe.recipe = f.recipe;
  if (f.weightDecay !== undefined) probe.weightDecay = f.weightDecay;
  if (f.seed !== undefined) probe.seed = f.seed;
  return {
    teacher: model(f.teacher, f.teacherPreset ?? f.preset),
    student: model(f.student, f.studentPreset ?? f.preset),
    probe,
    ...(f.ep ? { providers: f.ep } : {}),
    ...(f.threads ? { threads: f.threads } : {}),
    ...(f.batch ? { batchSize: f.batch } : {}),
    ...(f.bootstrap !== undefined ? { bootstrap: f.bootstrap } : {}),
  };
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
    .option('--teacher <file.onnx>', 'teacher encoder (instead of a config)')
    .option('--student <file.onnx>', 'student encoder')
    .option('--train <folder>', 'ID training images (one sub-folder per class)')
    .option('--test <folders...>', 'ID test image folders')
    .option('--ood <folders...>', 'OOD image folders (classes among the training classes)')
    .option('-w, --work <dir>', 'work directory for features, probes and the report')
    .addOption(
      new Option('--preset <name>', 'preprocessing preset of both models').choices([
        'torchvision',
        'clip',
        'inception',
      ]),
    )
    .addOption(
      new Option('--teacher-preset <name>', 'preset of the teacher only').choices(['torchvision', 'clip', 'inception']),
    )
    .addOption(
      new Option('--student-preset <name>', 'preset of the student only').choices(['torchvision', 'clip', 'inception']),
    )
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
    .option('--train-per-class <n>', 'with --suite: use n training images per class (stratified, seeded)', positiveInt)
    .option('--ep <list>', 'execution providers in order, e.g. cuda,cpu')
    .option('--threads <n>', 'onnxruntime threads', positiveInt)
    .option('--batch <n>', 'inference batch size', positiveInt)
    .option(
      '--bootstrap <n>',
      'paired bootstrap replicates of the gap intervals (default 2000; 0: none)',
      nonNegativeInt,
    )
    .option('--seed <n>', "seed of the probe's sweep split / SGD and of the bootstrap", nonNegativeInt)
    .option('--format <list>', 'report formats: all, or some of terminal,md,json,html,csv', 'all')
    .option('-q, --quiet', 'no progress output')
    .addHelpText(
      'after',
      `
Examples:
  fcprobe run --config experiment.json
  fcprobe run --teacher t.onnx --student s.onnx --preset clip --train photos/train --test photos/test \\
              --ood sketches paintings --work work/exp1
  fcprobe run --suite imagenet-ood --data-root /datasets --teacher clip-rn50.onnx --student distilled-rn50.onnx \\
              --preset clip --train-per-class 50 --work work/rn50
A config names the models (path, preset, output, pool), the sets (name, path, layout), the probe options,
the providers, the work directory and optional effective-robustness baselines; see docs/run.md.`,
    )
    .action(
      action(async (flags: RunFlags) => {
        configureSharp(1);
        let config = flags.config ? readRunConfig(flags.config) : configFromFlags(flags);
        // With a config file, the flags given explicitly still apply (the config's own values otherwise).
        if (flags.config && flags.bootstrap !== undefined) config = { ...config, bootstrap: flags.bootstrap };
        if (flags.config && flags.seed !== undefined)
          config = { ...config, probe: { ...config.probe, seed: flags.seed } };
        const formats = parseReportFormats(flags.format);
        const stop = installStopHandler();
        let bar: ProgressReporter | null = null;
        const say = (m: string): void => {
          if (!flags.quiet) process.stderr.write(`${m}\n`);
        };
        try {
          const out = await runExperiment({
            config,
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
