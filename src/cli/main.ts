#!/usr/bin/env node
import { Command } from 'commander';
import { FCPROBE_VERSION } from '../version.js';
import { endQuietlyOnClosedStdout, lastResort, reportParseError } from './run-command.js';
import { registerBenchCommand } from './commands/bench.js';
import { registerCheckExportCommand } from './commands/checkExport.js';
import { registerCompareCommand } from './commands/compare.js';
import { registerDatasetsCommand } from './commands/datasets.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerDistillCommand } from './commands/distill.js';
import { registerExtractCommand } from './commands/extract.js';
import { registerMergeCommand } from './commands/merge.js';
import { registerModelsCommand } from './commands/models.js';
import { registerProbeCommand } from './commands/probe.js';
import { registerReportCommand } from './commands/report.js';
import { registerRunCommand } from './commands/run.js';
import { registerSimulateCommand } from './commands/simulate.js';

const program = new Command();
program
  .name('fcprobe')
  .version(FCPROBE_VERSION)
  .description(
    'Measure feature contamination (Zhang et al., ICML 2024): how much worse a student distilled from an ' +
      'OOD-robust teacher generalizes out of distribution, and why. Pipeline: extract -> probe -> report.',
  )
  // Parse errors throw instead of exiting (status 2, reported by reportParseError); set before the commands
  // are added, which inherit these settings.
  .exitOverride()
  .configureOutput({ outputError: () => {} })
  .addHelpText(
    'after',
    `
Typical use:
  fcprobe run --teacher t.onnx --student s.onnx --preset clip --train photos/train --test photos/test \
              --ood sketches --work work/exp             # --preset: how the models were trained to see images
  fcprobe report work/exp                                # re-render the stored results
  fcprobe extract --model teacher.onnx --preset clip --data photos/train --out work/t-train
  fcprobe merge work/t-train.* --out work/t-train       # after a sharded extract
Preprocessing comes from the flags, a run config, the model's fcprobe.preprocess metadata, its catalog entry or
hub preprocessor_config.json, in that order; with none of them the torchvision preset is assumed, with a warning.`,
  );

registerExtractCommand(program);
registerMergeCommand(program);
registerProbeCommand(program);
registerDistillCommand(program);
registerRunCommand(program);
registerReportCommand(program);
registerCompareCommand(program);
registerDemoCommand(program);
registerSimulateCommand(program);
registerBenchCommand(program);
registerModelsCommand(program);
registerCheckExportCommand(program);
registerDatasetsCommand(program);

// --debug (anywhere on the line) keeps the stack trace of an unexpected error; it is not a command option.
const debug = process.argv.includes('--debug');
const argv = process.argv.filter((a) => a !== '--debug');
endQuietlyOnClosedStdout(debug);
process.on('uncaughtException', (e) => lastResort(e, debug));
process.on('unhandledRejection', (e) => lastResort(e, debug));
try {
  await program.parseAsync(argv);
} catch (e) {
  try {
    process.exitCode = reportParseError(e, program, argv.slice(2));
  } catch (bug) {
    lastResort(bug, debug);
  }
}
