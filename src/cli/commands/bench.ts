import { writeFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { InvalidArgumentError } from 'commander';
import { benchModel, spread, type Stats } from '../../bench/bench.js';
import { positiveInt } from '../parse.js';
import { action } from '../run-command.js';
import { resolveModelArg } from './models.js';

interface BenchFlags {
  model: string;
  data: string;
  batch: number[];
  ep?: string;
  threads?: number;
  preset?: string;
  images: number;
  repeats: number;
  json?: string;
  quiet?: boolean;
}

function intList(v: string): number[] {
  const parts = v.split(',').map((s) => s.trim());
  if (parts.some((p) => !/^\d+$/.test(p) || Number(p) < 1))
    throw new InvalidArgumentError(`expected comma-separated positive integers, e.g. 1,8,32, got "${v}".`);
  return parts.map(Number);
}

const cell = (s: Stats, d = 1): string =>
  `${s.median.toFixed(d)}  (${s.min.toFixed(d)}-${s.max.toFixed(d)}, spread ${(100 * spread(s)).toFixed(0)}%)`;

export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .summary('measure extraction speed for your model and images: model-only, decode-only, end to end')
    .description(
      'Measure, for one ONNX encoder and an image folder: the model-only ceiling (onnxruntime on pre-made tensors, per ' +
        "batch size), the decode-only rate (decode + resize + crop + normalize, at extract's concurrency), and end-to-end " +
        '`fcprobe extract` on the first --images images (images/s, its ratio to min(ceiling, decode), peak memory). ' +
        'Each figure: median of --repeats runs after a warm-up, with min and max.',
    )
    .requiredOption('-m, --model <file.onnx>', 'ONNX encoder with an NCHW image input')
    .requiredOption('-d, --data <folder>', 'image folder: <folder>/<class>/<image>.{jpg,jpeg,png,webp}')
    .option(
      '--batch <list>',
      'batch sizes for the model-only ceiling; end to end uses 32 if listed, else the largest',
      intList,
      [1, 8, 32],
    )
    .option('--ep <list>', 'execution providers in order of preference, as for extract (default: best installed)')
    .option('--threads <n>', 'onnxruntime intra-op threads (default: one per core)', positiveInt)
    .addOption(
      new Option('--preset <name>', 'preprocessing preset, as for extract').choices([
        'torchvision',
        'clip',
        'inception',
      ]),
    )
    .option('--images <n>', 'images used for the decode and end-to-end runs', positiveInt, 256)
    .option('--repeats <n>', 'timed runs per figure (after one warm-up)', positiveInt, 3)
    .option('--json <file>', 'also write the figures as JSON')
    .option('-q, --quiet', 'no progress output')
    .addHelpText(
      'after',
      `
Examples:
  fcprobe bench --model resnet50.onnx --data imagenet/val
  fcprobe bench --model clip-vitb16.onnx --preset clip --data photos --batch 1,16,64 --ep cuda,cpu --json bench.json`,
    )
    .action(
      action(async (flags: BenchFlags) => {
        const r = await benchModel({
          modelPath: resolveModelArg(flags.model).path,
          dataDir: flags.data,
          batchSizes: flags.batch,
          providers: flags.ep,
          threads: flags.threads,
          preset: flags.preset,
          images: flags.images,
          repeats: flags.repeats,
          onStep: flags.quiet ? undefined : (m) => process.stderr.write(`${m}\n`),
        });
        const lines = [
          `${flags.model} on ${r.provider}, input ${r.size}x${r.size}; images/s, median (min-max, spread) of ${flags.repeats} runs`,
        ];
        for (const c of r.ceiling)
          lines.push(`  model only, batch ${String(c.batch).padEnd(4)} ${cell(c.imagesPerSecond, 2)}`);
        lines.push(
          `  decode only (${r.decode.images} images, concurrency ${r.decode.concurrency})  ${cell(r.decode.imagesPerSecond)}`,
        );
        const e = r.endToEnd;
        lines.push(`  end to end (${e.images} images, batch ${e.batch})  ${cell(e.imagesPerSecond, 2)}`);
        lines.push(
          `    = ${e.ratio.toFixed(2)} of min(model only, decode only); with process start and model load: ${e.wallImagesPerSecond.median.toFixed(2)} img/s`,
        );
        lines.push(`    peak memory ${e.peakRssMiB.median.toFixed(0)} MiB`);
        lines.push(
          `  rerun end to end alone: ${e.command.replace(/--data \S+/, `--data <${e.images} images of ${flags.data}>`).replace(/--out \S+/, '--out <dir>')}`,
        );
        process.stdout.write(`${lines.join('\n')}\n`);
        if (flags.json)
          writeFileSync(flags.json, `${JSON.stringify({ model: flags.model, data: flags.data, ...r }, null, 2)}\n`);
      }),
    );
}
