import type { Command } from 'commander';
import { parseReportFormats, renderReportFromWorkDir } from '../../report/write.js';
import { action } from '../run-command.js';

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('Re-render the report of a finished `run` from <work-dir>/results.json (no models or features needed)')
    .argument('<work-dir>', 'the work directory of `fcprobe run`')
    .option('--format <formats>', 'all, or a comma-separated list of: terminal, md, json, html, csv', 'all')
    .option('--out <dir>', 'where to write report.md / report.json / report.html (default: <work-dir>)')
    .action(
      action(async (workDir: string, opts: { format: string; out?: string }) => {
        const formats = parseReportFormats(opts.format);
        const r = renderReportFromWorkDir(workDir, formats, opts.out ?? workDir);
        if (r.terminal !== null) process.stdout.write(r.terminal);
        for (const p of r.written) process.stdout.write(`wrote ${p}\n`);
      }),
    );
}
