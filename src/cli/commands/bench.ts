import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { benchModel, spread, type Stats, stopChildrenOnSignal } from '../../bench/bench.js';
import { FcprobeError } from '../../errors.js';
import { ensureWritableDir } from '../../io/atomic.js';
import { BENCH_OPTIONS } from '../../options.js';
import { noticePrinter } from '../progress.js';
import { action, addOptions } from '../run-command.js';
import { resolveModelArg } from './models.js';
import { escapeControl, forTerminal } from '../../io/terminal.js';

interface BenchFlags {
  model?: string;
  data?: string;
  quick?: boolean;
  only?: string;
  skip?: string;
  out?: string;
  batch: number[];
  ep?: string;
  threads?: number;
  preset?: string;
  images: number;
  repeats: number;
  json?: string;
  quiet?: boolean;
}

const cell = (s: Stats, d = 1): string =>
  `${s.median.toFixed(d)}  (${s.min.toFixed(d)}-${s.max.toFixed(d)}, spread ${(100 * spread(s)).toFixed(0)}%)`;

export function registerBenchCommand(program: Command): void {
  const cmd = program
    .command('bench')
    .summary('measure extraction speed for your model and images: model-only, decode-only, end to end')
    .description(
      'Measure, for one ONNX encoder and an image folder: the model-only ceiling (onnxruntime on pre-made tensors, ' +
        "per batch size), the decode-only rate (decode + resize + crop + normalize, at extract's concurrency), and " +
        'end-to-end `fcprobe extract` on the first --images images (images/s, its ratio to min(ceiling, decode), ' +
        'peak memory). Each figure: median of --repeats runs after a warm-up, with min and max.',
    );
  addOptions(cmd, BENCH_OPTIONS)
    .addHelpText(
      'after',
      `
Without --model and --data: the generated-model suite of the source checkout (= npm run bench; ~15-20 min,
--quick a few), results in bench/results/ of the checkout or --out.

Examples:
  fcprobe bench --quick
  fcprobe bench --model resnet50.onnx --data imagenet/val
  fcprobe bench --model clip-vitb16.onnx --preset clip --data photos --batch 1,16,64 --ep cuda,cpu --json bench.json`,
    )
    .action(
      action(async (flags: BenchFlags) => {
        if (!flags.model && !flags.data) {
          process.exitCode = await runSuite(flags);
          return;
        }
        if (!flags.model || !flags.data)
          throw new FcprobeError(
            'BAD_OPTION',
            `Expected --model and --data together, got only ${flags.model ? '--model' : '--data'}.`,
            'Give both to benchmark your model on your images, or neither for the generated-model suite.',
          );
        for (const o of ['only', 'skip', 'out'] as const)
          if (flags[o] !== undefined)
            throw new FcprobeError(
              'BAD_OPTION',
              `Expected --${o} only without --model (it belongs to the generated-model suite), got it with --model.`,
              'With --model, --json <file> writes the figures.',
            );
        const quick = flags.quick === true;
        // The end-to-end figures come from fcprobe extract children: a signal to this process must stop them.
        stopChildrenOnSignal();
        // The --json folder is made (and checked writable) before minutes of measuring, not after them.
        if (flags.json) ensureWritableDir(dirname(resolve(flags.json)));
        const model = resolveModelArg(flags.model);
        const r = await benchModel({
          modelPath: model.path,
          preprocessLayers: model.preprocessLayers,
          modelName: flags.model,
          onNotice: noticePrinter(flags.quiet),
          dataDir: flags.data,
          batchSizes: flags.batch,
          providers: flags.ep,
          threads: flags.threads,
          preset: flags.preset,
          images: quick ? Math.min(64, flags.images) : flags.images,
          repeats: quick ? 1 : flags.repeats,
          onStep: flags.quiet ? undefined : (m) => process.stderr.write(`${forTerminal(m)}\n`),
        });
        const lines = [
          `${flags.model} on ${r.provider}, input ${r.size}x${r.size}; images/s, median (min-max, spread) of ` +
            `${quick ? 1 : flags.repeats} runs`,
        ];
        for (const c of r.ceiling)
          lines.push(`  model only, batch ${String(c.batch).padEnd(4)} ${cell(c.imagesPerSecond, 2)}`);
        lines.push(
          `  decode only (${r.decode.images} images, concurrency ${r.decode.concurrency})  ` +
            `${cell(r.decode.imagesPerSecond)}`,
        );
        const e = r.endToEnd;
        lines.push(`  end to end (${e.images} images, batch ${e.batch})  ${cell(e.imagesPerSecond, 2)}`);
        lines.push(
          `    = ${e.ratio.toFixed(2)} of min(model only, decode only); with process start and model load: ` +
            `${e.wallImagesPerSecond.median.toFixed(2)} img/s`,
        );
        if (e.ceilingRerun !== null)
          lines.push(
            `    model only measured again at batch ${e.batch} (end to end had beaten it): ` +
              `${e.ceilingRerun.toFixed(2)} img/s; the higher run is used`,
          );
        if (e.disturbed)
          lines.push(
            '    DISTURBED: end to end is above min(model only, decode only), which a pipeline cannot be: a limit ' +
              'was measured low (load on the machine?). Not a result; rerun on an idle machine.',
          );
        lines.push(`    peak memory ${e.peakRssMiB.median.toFixed(0)} MiB`);
        const rerun = e.command
          .replace(/--data \S+/, `--data <${e.images} images of ${flags.data}>`)
          .replace(/--out \S+/, '--out <dir>');
        lines.push(`  rerun end to end alone: ${rerun}`);
        if (r.shortfall) {
          const s = r.shortfall;
          lines.push(
            `  end to end is only ${s.ratio.toFixed(2)} of min(model only, decode only); likely cause: ${s.cause}.`,
          );
          for (const [i, sug] of s.suggestions.entries()) {
            const m = s.measured[i];
            lines.push(
              `    try ${sug.args.join(' ')} ` +
                `(${sug.why})${m ? `: measured ${m.imagesPerSecond.toFixed(2)} img/s end to end, 1 run` : ''}`,
            );
          }
          const base = r.endToEnd.imagesPerSecond.median;
          if (s.measured.length > 0 && s.measured.every((m) => m.imagesPerSecond < 1.05 * base))
            lines.push(
              `    none of these measured faster than ${base.toFixed(2)} img/s: with ${r.endToEnd.images} images, ` +
                `fixed costs (worker start, first batches) may dominate; rerun with more --images.`,
            );
        }
        // Model and folder names are in these lines: escaped like every name fcprobe prints (src/io/terminal.ts).
        process.stdout.write(`${escapeControl(lines.join('\n'))}\n`);
        if (flags.json)
          writeFileSync(flags.json, `${JSON.stringify({ model: flags.model, data: flags.data, ...r }, null, 2)}\n`);
      }),
    );
}

/**
 * The generated-model suite: bench/run.ts, built to dist/bench/run.js in a source checkout. It is not in the
 * npm tarball (benchmarks are development tools: generated ViT-sized models, probe comparisons against
 * scikit-learn), so an installed fcprobe says so instead of failing. Its model and image cache goes to
 * ~/.cache/fcprobe/bench (FCPROBE_BENCH_CACHE overrides), its results to --out or bench/results/.
 * Resolves to the suite's exit status.
 */
function runSuite(flags: BenchFlags): Promise<number> {
  const suite = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bench', 'run.js');
  if (!existsSync(suite))
    throw new FcprobeError(
      'NOT_FOUND',
      'The generated-model benchmark suite is part of the source checkout, not of the installed package.',
      'Give --model <file.onnx> --data <folder> to benchmark your own model, or run `npm run build && fcprobe bench` ' +
        'in a clone of the repository.',
    );
  const args = [
    ...(flags.quick ? ['--quick'] : []),
    ...(flags.only ? ['--only', flags.only] : []),
    ...(flags.skip ? ['--skip', flags.skip] : []),
    // Without --out the suite writes to bench/results/ of its checkout, never the current folder.
    ...(flags.out ? ['--out', flags.out] : []),
  ];
  const env = {
    ...process.env,
    FCPROBE_BENCH_CACHE: process.env.FCPROBE_BENCH_CACHE ?? join(homedir(), '.cache', 'fcprobe', 'bench'),
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [suite, ...args], { stdio: 'inherit', env });
    // A signal sent to fcprobe alone (kill <pid>, a job scheduler's SIGTERM) must stop the suite too: without
    // this fcprobe died and the suite, its child, went on benchmarking for up to 20 minutes.
    const forward = (signal: NodeJS.Signals): void => {
      child.kill(signal);
    };
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    const dispose = (): void => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
    };
    child.on('error', (e) => {
      dispose();
      reject(e);
    });
    child.on('exit', (code, signal) => {
      dispose();
      resolve(code ?? (signal === 'SIGINT' ? 130 : signal === 'SIGTERM' ? 143 : 1));
    });
  });
}
