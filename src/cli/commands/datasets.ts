import type { Command } from 'commander';
import { checkDatasets } from '../../dataset/check.js';
import { action } from '../run-command.js';
import { forTerminal } from '../../io/terminal.js';
import { escapeControl } from '../../io/terminal.js';

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

function sample(list: string[], n = 8): string {
  return list.length <= n ? list.join(', ') : `${list.slice(0, n).join(', ')}, ... (${list.length} in all)`;
}

export function registerDatasetsCommand(program: Command): void {
  const datasets = program.command('datasets').summary('check the benchmark sets under a data root');
  datasets
    .command('check')
    .description(
      'For each set of the imagenet-ood suite (ImageNet train and val, ImageNet-V2, -R, -Sketch, -A, ObjectNet): ' +
        'the folder found, class and image counts against the published ones, missing or extra classes, and files ' +
        'that cannot be read as images (cannot be opened, empty, or not JPEG/PNG/WebP by their first bytes). ' +
        'Exits 0 only when every set is complete, 3 otherwise.',
    )
    .requiredOption('--data-root <dir>', 'folder holding the sets under their usual names (see docs/datasets.md)')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExample:\n  fcprobe datasets check --data-root /data')
    .action(
      action(async (flags: { dataRoot: string; json?: boolean }) => {
        const r = checkDatasets(flags.dataRoot, {
          ...(flags.json
            ? {}
            : { onSet: (t: string) => process.stderr.write(`checking ${forTerminal(t, false)}...\n`) }),
        });
        if (flags.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
        else {
          const out: string[] = [`Data root ${r.dataRoot}`];
          for (const s of r.sets) {
            if (!s.found) {
              out.push(`  ${s.title}: MISSING. ${s.notes.join('; ')}`);
              continue;
            }
            out.push(
              `  ${s.title}: ${s.complete ? 'complete' : 'INCOMPLETE'}  ${s.path}\n` +
                `    images ${fmt(s.images)} of ${fmt(s.expectedImages)}, classes ${fmt(s.classes)} of ` +
                `${fmt(s.expectedClasses)}`,
            );
            if (s.missingClasses.length) out.push(`    missing classes: ${sample(s.missingClasses)}`);
            if (s.extraClasses.length) out.push(`    extra folders: ${sample(s.extraClasses)}`);
            if (s.unreadable.length)
              out.push(
                `    unreadable files (${s.unreadable.length}): ${sample(
                  s.unreadable.map((u) => `${u.file} (${u.reason})`),
                  5,
                )}`,
              );
          }
          const done = r.sets.filter((s) => s.complete).length;
          out.push(`${done} of ${r.sets.length} sets complete.`);
          process.stdout.write(`${escapeControl(out.join('\n'))}\n`);
        }
        if (!r.complete) process.exitCode = 3;
      }),
    );
}
