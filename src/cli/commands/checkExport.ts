import { typedPreprocess } from '../../image/preprocessSpec.js';
import { noticePrinter } from '../progress.js';
import type { Command } from 'commander';
import { configureSharp } from '../../extract/extract.js';
import { checkExport } from '../../extract/checkExport.js';
import { CHECK_EXPORT_OPTIONS, type PoolName } from '../../options.js';
import { addOptions } from '../run-command.js';
import { action } from '../run-command.js';
import { withExportScripts } from '../../models/catalog.js';
import { resolveModelArg } from './models.js';
import { escapeControl } from '../../io/terminal.js';

interface CheckExportFlags {
  model: string;
  data: string;
  reference: string;
  preset?: string;
  resize?: number;
  crop?: number;
  interpolation?: string;
  mean?: [number, number, number];
  std?: [number, number, number];
  output?: string;
  pool?: PoolName;
  ep?: string;
  threads?: number;
  minCosine: number;
  maxRelDiff: number;
}

export function registerCheckExportCommand(program: Command): void {
  const cmd = program
    .command('check-export')
    .summary("prove an ONNX export: fcprobe's features vs a PyTorch reference, per image")
    .description(
      'Run the model on the images of --data (every image under it, in sorted path order) and compare each ' +
        "feature vector with the same row of --reference (a .npy written by models/export/*.py). Prints each image's " +
        'cosine and max abs difference; exits 0 when every image has cosine >= --min-cosine and max abs difference ' +
        '<= --max-rel-diff times the largest |reference| value of its row, 5 otherwise.',
    );
  addOptions(cmd, CHECK_EXPORT_OPTIONS)
    .addHelpText(
      'after',
      // Computed when shown: the export scripts ship with fcprobe, and the example names where they are.
      () =>
        withExportScripts(`
Examples:
  python models/export/export_torchvision.py --arch resnet50 --out r50.onnx --images imgs --reference r50-ref.npy
  fcprobe check-export --model r50.onnx --preset torchvision --data imgs --reference r50-ref.npy
  fcprobe check-export --model mnv2.onnx --preset inception --data imgs --reference mnv2-ref.npy
  fcprobe check-export --model clip-vit-b16 --data imgs --reference clip-ref.npy   # preset/output from the catalog`),
    )
    .action(
      action(async (flags: CheckExportFlags) => {
        configureSharp(1);
        const model = resolveModelArg(flags.model);
        const r = await checkExport({
          modelPath: model.path,
          dataDir: flags.data,
          referencePath: flags.reference,
          preprocess: typedPreprocess(flags),
          preprocessLayers: model.preprocessLayers,
          modelName: flags.model,
          onNotice: noticePrinter(false),
          outputName: flags.output ?? model.entry?.output.name,
          pool: flags.pool ?? (model.entry && model.entry.output.pool !== 'none' ? model.entry.output.pool : undefined),
          providers: flags.ep,
          threads: flags.threads,
          minCosine: flags.minCosine,
          maxRelDiff: flags.maxRelDiff,
        });
        const w = Math.max(5, ...r.images.map((i) => i.file.length));
        const lines = [`${'image'.padEnd(w)}  cosine      max abs diff  rel diff  result`];
        for (const i of r.images)
          lines.push(
            `${i.file.padEnd(w)}  ${i.cosine.toFixed(7)}  ${i.maxAbsDiff.toExponential(2).padStart(12)}  ` +
              `${i.relDiff.toExponential(2).padStart(8)}  ${i.pass ? 'ok' : 'FAIL'}`,
          );
        const failed = r.images.filter((i) => !i.pass).length;
        lines.push(
          `${r.pass ? 'PASS' : 'FAIL'}: ${r.images.length - failed} of ${r.images.length} images within cosine >= ` +
            `${r.thresholds.minCosine} and max abs diff <= ${r.thresholds.maxRelDiff} x max|reference| ` +
            `(${r.featureDim} features; worst cosine ${r.minCosine.toFixed(7)}, worst max abs diff ` +
            `${r.maxAbsDiff.toExponential(2)}).`,
        );
        if (!r.pass && r.preprocessSource.source === 'default')
          lines.push(
            `The preprocessing was assumed (preset ${r.preprocess.preset}, nothing stated it): give the export's ` +
              'preprocessing (--preset clip|inception|torchvision, --mean, --std, ...) and check again.',
          );
        // Image names come from the data folder: escaped, as everywhere fcprobe prints them.
        process.stdout.write(`${escapeControl(lines.join('\n'))}\n`);
        if (!r.pass) process.exitCode = 5;
      }),
    );
}
