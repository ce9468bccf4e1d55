import type { Command } from 'commander';
import { parseReportFormats, writeReport } from '../../report/write.js';
import { collectGallery } from '../../report/gallery.js';
import { readResults } from '../../experiment/results.js';
import { REPORT_OPTIONS } from '../../options.js';
import { addOptions } from '../run-command.js';
import { action } from '../run-command.js';

export function registerReportCommand(program: Command): void {
  const cmd = program
    .command('report')
    .description('Re-render the report of a finished `run` from <work-dir>/results.json (no models or features needed)')
    .argument('<work-dir>', 'the work directory of `fcprobe run`');
  addOptions(cmd, REPORT_OPTIONS)
    .addHelpText(
      'after',
      `
Examples:
  fcprobe report work/exp                              # report.md, report.csv, report.html in work/exp
  fcprobe report work/exp --format json --out shared/  # elsewhere, in another format
  fcprobe report work/exp --format html --no-images    # without the disagreement thumbnails`,
    )
    .action(
      action(async (workDir: string, opts: { format: string; out?: string; images?: boolean }) => {
        const formats = parseReportFormats(opts.format);
        const results = readResults(workDir);
        // Thumbnails only for the HTML, read from the sets' own images (folders or tar shards).
        const gallery = opts.images !== false && formats.includes('html') ? await collectGallery(workDir, results) : [];
        const r = writeReport(results, formats, opts.out ?? workDir, { gallery });
        if (r.terminal !== null) process.stdout.write(r.terminal);
        for (const p of r.written) process.stdout.write(`wrote ${p}\n`);
      }),
    );
}
