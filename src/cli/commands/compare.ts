import type { Command } from 'commander';
import { compareWorkDirs } from '../../report/compare.js';
import { action } from '../run-command.js';

export function registerCompareCommand(program: Command): void {
  program
    .command('compare')
    .description(
      'Compare finished runs: one table (models x sets, gaps, contamination, effective robustness), CSV and HTML ' +
        'with all models on one ID-vs-OOD scatter',
    )
    .argument('<work-dirs...>', 'two or more work directories of `fcprobe run` (each holds results.json)')
    .option('--out <dir>', 'where to write compare.md / compare.csv / compare.html', '.')
    .option('--allow-different-sets', 'compare runs whose sets differ (matched by name; the differences are listed)')
    .addHelpText(
      'after',
      `
Examples:
  fcprobe compare work/rn50 work/vit-b16 --out work/compare     # runs over the same sets
  fcprobe compare work/imagenet-* --allow-different-sets --out work/all`,
    )
    .action(
      action(async (workDirs: string[], opts: { out: string; allowDifferentSets?: boolean }) => {
        const r = compareWorkDirs(workDirs, opts.out, { allowDifferentSets: opts.allowDifferentSets === true });
        process.stdout.write(r.terminal);
        for (const p of r.written) process.stdout.write(`wrote ${p}\n`);
      }),
    );
}
