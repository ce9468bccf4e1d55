/** Number formatting shared by the renderers, so the terminal, Markdown and HTML show the same digits. */

export const MISSING = 'n/a';

function ok(x: number | null | undefined): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

/** Accuracy fraction as percent: 0.7623 -> "76.23". */
export function pct(x: number | null | undefined, digits = 2): string {
  return ok(x) ? (x * 100).toFixed(digits) : MISSING;
}

/** Difference of fractions in signed percentage points: 0.031 -> "+3.10". */
export function pp(x: number | null | undefined, digits = 2): string {
  if (!ok(x)) return MISSING;
  const s = (x * 100).toFixed(digits);
  return x >= 0 && !s.startsWith('-') ? `+${s}` : s;
}

/** An interval of fractions in percent: "[70.1, 81.5]"; signed (pp) when `signed`. */
export function ci(x: { low: number; high: number } | null | undefined, digits = 1, signed = false): string {
  if (!x || !ok(x.low) || !ok(x.high)) return MISSING;
  return signed ? `[${pp(x.low, digits)}, ${pp(x.high, digits)}]` : `[${pct(x.low, digits)}, ${pct(x.high, digits)}]`;
}

/** A p-value: 3 significant digits, "<1e-6" below that. */
export function pValue(p: number | null | undefined): string {
  if (!ok(p)) return MISSING;
  return p < 1e-6 ? '<1e-6' : String(Number(p.toPrecision(3)));
}

export function fixed(x: number | null | undefined, digits = 3): string {
  return ok(x) ? x.toFixed(digits) : MISSING;
}

export function seconds(x: number): string {
  if (!ok(x)) return MISSING;
  if (x < 60) return `${x.toFixed(1)} s`;
  const m = Math.floor(x / 60);
  return `${m} min ${Math.round(x - m * 60)} s`;
}

export function shortHash(h: string): string {
  return h.length > 12 ? h.slice(0, 12) : h;
}

export type Align = 'l' | 'r';

/**
 * One line of text: line breaks (and tabs) become spaces. Titles and names are the user's and may hold a line
 * break, which would end a Markdown heading or table row, or misalign a text table, in the middle.
 */
export function oneLine(s: string): string {
  return s.replace(/\r\n|[\r\n\t\u2028\u2029]/g, ' ');
}

/** Fixed-width text table: header, a rule, rows; columns padded to their widest cell (each one line). */
export function textTable(headerCells: string[], rowCells: string[][], align: Align[]): string {
  const headers = headerCells.map(oneLine);
  const rows = rowCells.map((r) => r.map(oneLine));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (align[i] === 'r' ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/**
 * Text for Markdown outside code: on one line (see oneLine), characters that would start emphasis, code or HTML
 * escaped.
 */
export function mdText(s: string): string {
  return oneLine(s).replace(/([\\`*_<>[\]|])/g, '\\$1');
}

/** GitHub-flavoured Markdown table; cells are escaped with mdText. */
export function markdownTable(headers: string[], rows: string[][], align: Align[]): string {
  const esc = mdText;
  const rule = align.map((a) => (a === 'r' ? '---:' : ':---'));
  return [headers, rule, ...rows].map((r, i) => `| ${(i === 1 ? r : r.map(esc)).join(' | ')} |`).join('\n');
}

export const ROLE_LABEL: Record<'id-train' | 'id-test' | 'ood', string> = {
  'id-train': 'ID train',
  'id-test': 'ID test',
  ood: 'OOD',
};
