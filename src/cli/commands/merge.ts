import type { Command } from 'commander';
import { mergeShards } from '../../extract/merge.js';
import { action } from '../run-command.js';
import { escapeControl } from '../../io/terminal.js';

export function registerMergeCommand(program: Command): void {
  program
    .command('merge')
    .summary('join the shard directories of `extract --shard k/n` into one feature directory')
    .argument('<shard-dirs...>', 'feature directories written with --shard k/n, all n of them, any order')
    .requiredOption('-o, --out <dir>', 'merged feature directory (same content as an unsharded extract)')
    .option('--force', 'replace an existing feature directory at --out')
    .addHelpText(
      'after',
      `
Example (a Slurm array of 8 tasks, then one merge):
  fcprobe extract --model m.onnx --data imagenet/train --out work/train.$SLURM_ARRAY_TASK_ID ` +
        `--shard $SLURM_ARRAY_TASK_ID/8
  fcprobe merge work/train.* --out work/train`,
    )
    .action(
      action(async (dirs: string[], flags: { out: string; force?: boolean }) => {
        const r = mergeShards(dirs, flags.out, flags.force ?? false);
        process.stdout.write(
          escapeControl(
            `Merged ${r.shards} shard${r.shards === 1 ? '' : 's'}: ${r.rows} rows x ${r.manifest.featureDim} ` +
              `into ${flags.out}\n`,
          ),
        );
      }),
    );
}
