/**
 * One CSV cell writer for every CSV fcprobe writes (results.csv, compare.csv, predictions/<set>.predictions.csv,
 * curves.csv), so quoting and formula neutralisation cannot differ between files.
 *
 * Spreadsheet formula injection (OWASP, "CSV Injection"): a cell that starts with `=`, `+`, `-`, `@`, a tab or
 * a carriage return is run as a formula by Excel, LibreOffice and Google Sheets when the CSV is opened. Class
 * folders, file names and run titles are chosen by whoever made the data, so a folder named `=HYPERLINK(...)`
 * would otherwise become a live formula in the user's spreadsheet. Such text cells get a leading single quote
 * (OWASP's rule; spreadsheets show the text without it). Numbers are never changed: a number cell (-0.5) and a
 * text cell that is a plain decimal number ("-1", a class called -1) cannot hold a formula and stay as they are.
 */

const FORMULA_START = /^[=+\-@\t\r]/;
const PLAIN_NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** A text cell made safe to open in a spreadsheet: formula starts prefixed with `'`, then quoted if needed. */
export function csvText(s: string): string {
  const safe = FORMULA_START.test(s) && !PLAIN_NUMBER.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** One cell: a number as it is (non-finite: empty), null/undefined empty, text through csvText. */
export function csvCell(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  return csvText(v);
}

/** One CSV line (no line end). */
export function csvLine(row: readonly (string | number | null | undefined)[]): string {
  return row.map(csvCell).join(',');
}

/**
 * Rows of CSV text as written by csvLine (RFC 4180 quoting, doubled quotes, \n or \r\n line ends); a formula
 * cell keeps its neutralising quote (csvUnneutralised removes it). For fcprobe's own files: whole text in memory.
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else if (ch !== '\r') cell += ch;
  }
  return rows;
}

/** A text cell as written before csvText neutralised a formula start (the leading quote removed). */
export function csvUnneutralised(s: string): string {
  return /^'[=+\-@\t\r]/.test(s) ? s.slice(1) : s;
}
