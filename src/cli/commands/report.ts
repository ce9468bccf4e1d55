import type { Command } from 'commander';
import { parseReportFormats, renderReportFromWorkDir } from '../../report/write.js';
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
  fcprobe report work/exp --format json --out shared/  # elsewhere, in another format`,
    )
    .action(
      action(async (workDir: string, opts: { format: string; out?: string }) => {
        const formats = parseReportFormats(opts.format);
        const r = renderReportFromWorkDir(workDir, formats, opts.out ?? workDir);
        if (r.terminal !== null) process.stdout.write(r.terminal);
        for (const p of r.written) process.stdout.write(`wrote ${p}\n`);
      }),
    );
}
