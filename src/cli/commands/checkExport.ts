import { type Command, Option } from 'commander';
import { configureSharp } from '../../extract/extract.js';
import { CHECK_EXPORT_DEFAULTS, checkExport } from '../../extract/checkExport.js';
import { FcprobeError } from '../../errors.js';
import { positiveInt, positiveNumber, triple } from '../parse.js';
import { action } from '../run-command.js';
import { resolveModelArg } from './models.js';

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
  pool?: 'cls' | 'mean';
  ep?: string;
  threads?: number;
  minCosine: number;
  maxRelDiff: number;
}

export function registerCheckExportCommand(program: Command): void {
  program
    .command('check-export')
    .summary("prove an ONNX export: fcprobe's features vs a PyTorch reference, per image")
    .description(
      'Run the model on the images of --data (every image under it, in sorted path order) and compare each ' +
        "feature vector with the same row of --reference (a .npy written by models/export/*.py). Prints each image's " +
        'cosine and max abs difference; exits 0 when every image has cosine >= --min-cosine and max abs difference ' +
        '<= --max-rel-diff times the largest |reference| value of its row, 5 otherwise.',
    )
    .requiredOption(
      '-m, --model <file.onnx|name|hf:ref>',
      'the exported encoder (or a pulled catalog name / hf: reference)',
    )
    .requiredOption('-d, --data <folder>', 'the images the reference was computed on')
    .requiredOption('-r, --reference <ref.npy>', 'reference features [images, D] computed in PyTorch')
    .addOption(
      new Option('--preset <name>', 'preprocessing preset (default: the catalog entry, else torchvision)').choices([
        'torchvision',
        'clip',
        'inception',
      ]),
    )
    .option('--resize <px>', 'shorter side after resizing', positiveInt)
    .option('--crop <px>', 'center-crop size', positiveInt)
    .addOption(new Option('--interpolation <kind>', 'resize kernel').choices(['bilinear', 'bicubic']))
    .option('--mean <r,g,b>', 'per-channel mean', triple)
    .option('--std <r,g,b>', 'per-channel std', triple)
    .option('--output <name>', 'model output to compare (default: features, or the catalog entry)')
    .addOption(new Option('--pool <how>', 'pooling for token outputs').choices(['cls', 'mean']))
    .option('--ep <list>', 'execution providers, e.g. cpu (default: best installed)')
    .option('--threads <n>', 'onnxruntime intra-op threads', positiveInt)
    .option(
      '--min-cosine <c>',
      'pass threshold: every image at least this cosine',
      positiveNumber,
      CHECK_EXPORT_DEFAULTS.minCosine,
    )
    .option(
      '--max-rel-diff <r>',
      'pass threshold: max abs difference at most r * max |reference| of the row',
      positiveNumber,
      CHECK_EXPORT_DEFAULTS.maxRelDiff,
    )
    .addHelpText(
      'after',
      `
Examples:
  python models/export/export_torchvision.py --arch resnet50 --out r50.onnx --images imgs --reference r50-ref.npy
  fcprobe check-export --model r50.onnx --data imgs --reference r50-ref.npy
  fcprobe check-export --model clip-vit-b16 --data imgs --reference clip-ref.npy   # preset/output from the catalog`,
    )
    .action(
      action(async (flags: CheckExportFlags) => {
        if (flags.minCosine > 1)
          throw new FcprobeError('BAD_OPTION', `Expected --min-cosine to be at most 1, got ${flags.minCosine}.`);
        configureSharp(1);
        const model = resolveModelArg(flags.model);
        const pre = model.entry?.preset;
        const r = await checkExport({
          modelPath: model.path,
          dataDir: flags.data,
          referencePath: flags.reference,
          preprocess: {
            preset: flags.preset ?? pre?.preset,
            resize: flags.resize ?? pre?.resize,
            crop: flags.crop ?? pre?.crop,
            interpolation: flags.interpolation ?? pre?.interpolation,
            mean: flags.mean ?? pre?.mean,
            std: flags.std ?? pre?.std,
          },
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
            `${i.file.padEnd(w)}  ${i.cosine.toFixed(7)}  ${i.maxAbsDiff.toExponential(2).padStart(12)}  ${i.relDiff.toExponential(2).padStart(8)}  ${i.pass ? 'ok' : 'FAIL'}`,
          );
        const failed = r.images.filter((i) => !i.pass).length;
        lines.push(
          `${r.pass ? 'PASS' : 'FAIL'}: ${r.images.length - failed} of ${r.images.length} images within cosine >= ${r.thresholds.minCosine} and max abs diff <= ${r.thresholds.maxRelDiff} x max|reference| (${r.featureDim} features; worst cosine ${r.minCosine.toFixed(7)}, worst max abs diff ${r.maxAbsDiff.toExponential(2)}).`,
        );
        process.stdout.write(`${lines.join('\n')}\n`);
        if (!r.pass) process.exitCode = 5;
      }),
    );
}
