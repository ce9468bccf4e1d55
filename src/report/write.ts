/**
 * Renders the report from measured results into files: report.md, report.json, report.html (and the terminal
 * text, which the caller prints). `run` calls `writeReport` after measuring; `fcprobe report <work-dir>` calls
 * `renderReportFromWorkDir`, which reads <work-dir>/results.json.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { FcprobeError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { buildReport } from './build.js';
import { CSV_FILE, renderResultsCsv } from './csv.js';
import { renderHtml } from './html.js';
import { renderJson } from './json.js';
import { renderMarkdown } from './markdown.js';
import { renderTerminal } from './terminal.js';
import type { Report, RunResults } from './types.js';
import { readResults } from '../experiment/results.js';

export type ReportFormat = 'terminal' | 'md' | 'json' | 'html' | 'csv';
export const REPORT_FORMATS: readonly ReportFormat[] = ['terminal', 'md', 'json', 'html', 'csv'];
/** csv: results.csv, every measured number with its interval as tidy rows (report/csv.ts). */
export const REPORT_FILES: Record<Exclude<ReportFormat, 'terminal'>, string> = {
  md: 'report.md',
  json: 'report.json',
  html: 'report.html',
  csv: CSV_FILE,
};

export interface RenderedReport {
  report: Report;
  /** The terminal text when 'terminal' was asked for, else null. */
  terminal: string | null;
  /** Paths of the files written. */
  written: string[];
}

/** 'all' or a comma-separated list of formats -> the formats, validated. */
export function parseReportFormats(text: string): ReportFormat[] {
  if (text === 'all') return [...REPORT_FORMATS];
  const parts = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = parts.filter((p) => !(REPORT_FORMATS as readonly string[]).includes(p));
  if (parts.length === 0 || bad.length) {
    throw new FcprobeError(
      'BAD_OPTION',
      `Expected --format to be "all" or a comma-separated list of ${REPORT_FORMATS.join(', ')}, got ${JSON.stringify(text)}.`,
    );
  }
  return [...new Set(parts as ReportFormat[])];
}

export function writeReport(results: RunResults, formats: readonly ReportFormat[], outDir: string): RenderedReport {
  const report = buildReport(results);
  const written: string[] = [];
  const files = formats.filter((f): f is Exclude<ReportFormat, 'terminal'> => f !== 'terminal');
  if (files.length) mkdirSync(outDir, { recursive: true });
  for (const f of files) {
    const text =
      f === 'md'
        ? renderMarkdown(report)
        : f === 'json'
          ? renderJson(report)
          : f === 'csv'
            ? renderResultsCsv(results)
            : renderHtml(report);
    const path = join(outDir, REPORT_FILES[f]);
    writeFileAtomic(path, text);
    written.push(path);
  }
  return { report, terminal: formats.includes('terminal') ? renderTerminal(report) : null, written };
}

export function renderReportFromWorkDir(
  workDir: string,
  formats: readonly ReportFormat[],
  outDir = workDir,
): RenderedReport {
  return writeReport(readResults(workDir), formats, outDir);
}
