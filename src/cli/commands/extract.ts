import type { Command } from 'commander';
import { extractFeatures, configureSharp } from '../../extract/extract.js';
import { type PreprocessOverrides, typedPreprocess } from '../../image/preprocessSpec.js';
import { readClassFile } from '../../dataset/listing.js';
import { listDataset, type LayoutName } from '../../dataset/layouts.js';
import { isTarData, listTarShards } from '../../dataset/tarListing.js';
import { EXTRACT_OPTIONS, type PoolName } from '../../options.js';
import { action, addOptions } from '../run-command.js';
import { createProgress, formatDuration, noticePrinter } from '../progress.js';
import { resolveModelArg } from './models.js';
import { forTerminal } from '../../io/terminal.js';

/** Preprocessing flags carry the same names and types as PreprocessOverrides. */
interface ExtractFlags extends PreprocessOverrides {
  model: string;
  data: string;
  out: string;
  classes?: string;
  layout?: LayoutName;
  output?: string;
  pool?: PoolName;
  ep?: string;
  threads?: number;
  batch: number;
  decodeConcurrency?: number;
  decodePixelBudget?: number;
  commitEvery?: number;
  shard?: { index: number; count: number };
  strict?: boolean;
  force?: boolean;
  verifyContent?: boolean;
  quiet?: boolean;
}

/**
 * Stops after the current batch on the first Ctrl-C/SIGTERM, with every finished batch committed; a second one
 * ends the process at once (nothing committed is lost; what came after the last commit is redone on resume).
 *
 * "At once" re-raises the signal with its default action rather than calling process.exit(): exit() tears the
 * worker threads down, and one inside an onnxruntime call then aborts the process with a C++ error
 * ("terminate called after throwing an instance of 'Napi::Error'", exit 134, 4 of 4 tries with a batch in
 * flight). The default action ends it as the shell expects (status 130 for Ctrl-C, 143 for SIGTERM).
 */
export function installStopHandler(saved = 'finished batches are saved'): {
  shouldStop: () => boolean;
  dispose: () => void;
} {
  let stop = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (stop) {
      dispose();
      process.kill(process.pid, signal);
      return;
    }
    stop = true;
    process.stderr.write(`\nStopping after the current batch (press Ctrl-C again to quit now; ${saved})...\n`);
  };
  const dispose = (): void => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return { shouldStop: () => stop, dispose };
}

export function registerExtractCommand(program: Command): void {
  const cmd = program
    .command('extract')
    .summary('run an ONNX image encoder over an image folder and store the features')
    .description(
      'Run an ONNX image encoder over an ImageNet-style folder (one sub-folder per class) and write ' +
        '<out>/features.npy (float32 [N, D]), <out>/labels.npy (int64 [N]) and <out>/manifest.json. ' +
        'Resumable: rerunning an interrupted command continues where it stopped; a finished run is skipped.',
    );
  addOptions(cmd, EXTRACT_OPTIONS)
    .addHelpText(
      'after',
      `
Examples:
  fcprobe extract --model resnet50.onnx --preset torchvision --data imagenet/val --out work/teacher-val
  fcprobe extract --model clip-vitb16.onnx --preset clip --data imagenet-r --classes imagenet-classes.txt --out work/r
  fcprobe extract --model m.onnx --data imagenet/train --out work/train-3 --shard 3/8   # then: fcprobe merge
  fcprobe extract --model m.onnx --data 'shards/train-{000000..000146}.tar' --out work/train   # tar shards
Without a preprocessing flag the model's fcprobe.preprocess metadata, catalog entry or hub preprocessor_config.json
decides; with none of them the torchvision preset is assumed and a warning says so (docs/preprocessing.md).`,
    )
    .action(
      action(async (flags: ExtractFlags) => {
        configureSharp(1);
        // A catalog model brings its preset and output; flags the user gave win.
        const model = resolveModelArg(flags.model);
        const cat = model.entry;
        const classes = flags.classes ? readClassFile(flags.classes) : undefined;
        const listing = isTarData(flags.data)
          ? await listTarShards(flags.data, {
              ...(classes ? { classes } : {}),
              // Warnings print even with --quiet: they are about the data, not progress.
              onWarning: (m) => process.stderr.write(`${m}\n`),
            })
          : listDataset(flags.data, {
              ...(flags.layout ? { layout: flags.layout } : {}),
              ...(classes ? { classes } : {}),
            });
        if (listing.layout !== 'folder' && !flags.quiet)
          process.stderr.write(
            `Layout ${listing.layout}: ${listing.classes.length} classes, ${listing.items.length} ` +
              `images${listing.ignored.length ? `, ${listing.ignored.length} entries left out (see manifest)` : ''}.\n`,
          );
        const progress = createProgress('extract', { quiet: flags.quiet });
        const stop = installStopHandler();
        try {
          const r = await extractFeatures({
            modelPath: model.path,
            listing,
            outDir: flags.out,
            // Only what was typed: the model's metadata, catalog entry and hub config rank below it.
            preprocess: { ...typedPreprocess(flags), borderCrop: flags.borderCrop, autoOrient: flags.autoOrient },
            preprocessLayers: model.preprocessLayers,
            modelName: flags.model,
            outputName: flags.output ?? cat?.output.name,
            pool: flags.pool ?? (cat && cat.output.pool !== 'none' ? cat.output.pool : undefined),
            providers: flags.ep,
            threads: flags.threads,
            batchSize: flags.batch,
            decodeConcurrency: flags.decodeConcurrency,
            decodePixelBudget: flags.decodePixelBudget === undefined ? undefined : flags.decodePixelBudget * 1_000_000,
            commitEverySeconds: flags.commitEvery,
            shard: flags.shard,
            strict: flags.strict,
            force: flags.force,
            verifyContent: flags.verifyContent,
            onProgress: (p) =>
              progress.update(
                p.done,
                p.total,
                `${p.imagesPerSecond.toFixed(1)} img/s, ETA ` +
                  `${p.etaSeconds === null ? '?' : formatDuration(p.etaSeconds)}` +
                  `${p.skipped ? `, ${p.skipped} skipped` : ''}`,
              ),
            onNotice: noticePrinter(flags.quiet),
            shouldStop: stop.shouldStop,
          });
          progress.done();
          const m = r.manifest;
          if (r.status === 'already-done') {
            process.stdout.write(
              `${flags.out}: already extracted (${m.rows} x ${m.featureDim}, ${m.executionProvider}); ` +
                `use --force to redo.\n`,
            );
            return;
          }
          process.stdout.write(
            `Extracted ${m.rows} images x ${m.featureDim} features from ${m.classes.length} ` +
              `classes into ${flags.out}\n` +
              `  model ${m.model.path} (output ${m.model.outputName}), provider ${m.executionProvider}, ` +
              `${m.timing.seconds.toFixed(1)} s, ${m.timing.imagesPerSecond.toFixed(1)} img/s\n` +
              (m.skipped.length
                ? `  skipped ${m.skipped.length} file(s) that could not be decoded (listed in manifest.json), e.g. ` +
                  `${forTerminal(m.skipped[0]!.file, false)}: ${forTerminal(m.skipped[0]!.reason, false)}\n`
                : ''),
          );
        } finally {
          progress.done();
          stop.dispose();
        }
      }),
    );
}
