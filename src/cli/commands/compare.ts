import type { Command } from 'commander';
import { compareWorkDirs } from '../../report/compare.js';
import { COMPARE_OPTIONS } from '../../options.js';
import { action, addOptions } from '../run-command.js';

export function registerCompareCommand(program: Command): void {
  const cmd = program
    .command('compare')
    .description(
      'Compare finished runs: each model listed once with the runs it appears in (models x sets, gaps, ' +
        'contamination, effective robustness), CSV and HTML with all models on one ID-vs-OOD scatter',
    )
    .argument('<work-dirs...>', 'two or more work directories of `fcprobe run` (each holds results.json)')
    .addHelpText(
      'after',
      `
Examples:
  fcprobe compare work/rn50 work/vit-b16 work/vit-l14 --out work/compare
  fcprobe compare runs/2026-11-30-rn50 runs/2026-12-01-rn50 --label runs/2026-12-01-rn50=rn50-seed1

A model with the same file, preprocessing and sets in several runs is one row naming its runs; a name shared by
different models gets the run's name added (its work folder's name, or the one --label gives).`,
    );
  addOptions(cmd, COMPARE_OPTIONS).action(
    action(async (workDirs: string[], opts: { out: string; allowDifferentSets?: boolean; label?: string[] }) => {
      const r = compareWorkDirs(workDirs, opts.out, {
        allowDifferentSets: opts.allowDifferentSets === true,
        labels: opts.label ?? [],
      });
      process.stdout.write(r.terminal);
      for (const p of r.written) process.stdout.write(`wrote ${p}\n`);
    }),
  );
}
