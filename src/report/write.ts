/**
 * Renders the report from measured results into files: report.md, report.json, report.html (and the terminal
 * text, which the caller prints). `run` calls `writeReport` after measuring; `fcprobe report <work-dir>` calls
 * `renderReportFromWorkDir`, which reads <work-dir>/results.json.
 */
import { join } from 'node:path';
import { FcprobeError } from '../errors.js';
import { REPORT_FORMATS } from '../options.js';
import { ensureWritableDir, writeFileAtomic } from '../io/atomic.js';
import { buildReport } from './build.js';
import { CLASS_GAPS_CSV_FILE, CSV_FILE, renderClassGapsCsv, renderResultsCsv } from './csv.js';
import type { GalleryEntry } from './gallery.js';
import { renderHtml } from './html.js';
import { renderJson } from './json.js';
import { renderMarkdown } from './markdown.js';
import { renderTerminal } from './terminal.js';
import type { Report, RunResults } from './types.js';
import { readResults } from '../experiment/results.js';

/** 'terminal' is returned as text; the others are files (REPORT_FILES). csv: results.csv, every measured number
 * with its interval as tidy rows (report/csv.ts). */
export { REPORT_FORMATS };
export type ReportFormat = (typeof REPORT_FORMATS)[number];
/** File name of each file format, inside the report's folder. */
export const REPORT_FILES: Record<Exclude<ReportFormat, 'terminal'>, string> = {
  md: 'report.md',
  json: 'report.json',
  html: 'report.html',
  csv: CSV_FILE,
};

/** What writeReport produced. */
export interface RenderedReport {
  report: Report;
  /** The terminal text when 'terminal' was asked for, else null. */
  terminal: string | null;
  /** Paths of the files written. */
  written: string[];
}

/**
 * 'all' or a comma-separated list of formats -> the formats, validated and deduplicated.
 *
 * @throws FcprobeError BAD_OPTION for an empty list or an unknown format.
 */
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
      `Expected --format to be "all" or a comma-separated list of ${REPORT_FORMATS.join(', ')}, got ` +
        `${JSON.stringify(text)}.`,
    );
  }
  return [...new Set(parts as ReportFormat[])];
}

/**
 * Builds the report from measured results and writes the requested file formats into `outDir` (created;
 * files replaced atomically): report.md, report.json, report.html. The terminal text is returned, not
 * printed. Accuracies show as percent, gaps in percentage points.
 *
 * @throws FcprobeError BAD_DATA when the results are inconsistent (not exactly one teacher and one student,
 *   duplicate names, measurements of unknown models or sets); BAD_CONFIG for an invalid effective-robustness
 *   baseline. Errors from node:fs when `outDir` cannot be written.
 *
 * @example
 * ```js
 * const { written, terminal } = writeReport(readResults('work/exp'), ['terminal', 'html'], 'work/exp');
 * ```
 */
export function writeReport(
  results: RunResults,
  formats: readonly ReportFormat[],
  outDir: string,
  extras: { gallery?: readonly GalleryEntry[] } = {},
): RenderedReport {
  const report = buildReport(results);
  const written: string[] = [];
  const files = formats.filter((f): f is Exclude<ReportFormat, 'terminal'> => f !== 'terminal');
  if (files.length) ensureWritableDir(outDir);
  for (const f of files) {
    const text =
      f === 'md'
        ? renderMarkdown(report)
        : f === 'json'
          ? renderJson(report)
          : f === 'csv'
            ? renderResultsCsv(results)
            : renderHtml(report, extras.gallery);
    const path = join(outDir, REPORT_FILES[f]);
    writeFileAtomic(path, text);
    written.push(path);
    const classGaps = f === 'csv' ? renderClassGapsCsv(results) : null;
    if (classGaps !== null) {
      const p = join(outDir, CLASS_GAPS_CSV_FILE);
      writeFileAtomic(p, classGaps);
      written.push(p);
    }
  }
  return { report, terminal: formats.includes('terminal') ? renderTerminal(report) : null, written };
}

/**
 * `fcprobe report <work-dir>`: reads `<workDir>/results.json` and writes the report (see writeReport) into
 * `outDir` (default: the work directory).
 *
 * @throws FcprobeError NOT_FOUND when there is no results.json; BAD_DATA for invalid results (see
 *   readResults, writeReport).
 */
export function renderReportFromWorkDir(
  workDir: string,
  formats: readonly ReportFormat[],
  outDir = workDir,
): RenderedReport {
  return writeReport(readResults(workDir), formats, outDir);
}
