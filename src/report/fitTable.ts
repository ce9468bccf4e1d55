/**
 * Tables that fit a width: a wide table is split into parts by columns (its leading key columns repeated in
 * every part), and cells of the columns marked as wrapping (paths, titles, lists of runs) are wrapped onto
 * several lines. Used by `fcprobe compare`, whose tables grow with every set and run compared; the terminal gets
 * `fittedTextTable`, and the HTML and Markdown get the same parts so all three read alike.
 */
import type { Align } from './format.js';
import type { Table } from './tables.js';

/** A table and how it may be fitted. */
export interface FitTable extends Table {
  /** Leading columns repeated in every part (the row's name). */
  keys: number;
  /** Columns whose cells may wrap (at spaces, and after `/`, `-`, `_`, `,` where needed). */
  wrap: readonly number[];
}

/** Columns between two cells of a text table. */
const GAP = 2;
/** A wrapping column is not made narrower than this (or its longest header word). */
const WRAP_MIN = 12;

/** The pieces a text may be broken into: words, split after `/ - _ ,` too (a path or a list breaks there). */
function pieces(text: string): string[] {
  return text.split(' ').flatMap((w) => w.match(/[^/\-_,]*[/\-_,]*/g)?.filter((p) => p !== '') ?? []);
}

/** Lines of at most `width` characters; a piece longer than that is cut. */
export function wrapText(text: string, width: number): string[] {
  if (text.length <= width) return [text];
  const lines: string[] = [];
  let line = '';
  // Pieces keep their own trailing separator; a space is put back only between whole words.
  const words = text.split(' ');
  words.forEach((word, wi) => {
    const parts = pieces(word);
    parts.forEach((p, pi) => {
      const sep = pi === 0 && wi > 0 && line !== '' ? ' ' : '';
      if (line.length + sep.length + p.length <= width) {
        line += sep + p;
        return;
      }
      if (line !== '') lines.push(line);
      line = '';
      let rest = p;
      while (rest.length > width) {
        lines.push(rest.slice(0, width));
        rest = rest.slice(width);
      }
      line = rest;
    });
  });
  if (line !== '') lines.push(line);
  return lines;
}

const longest = (xs: string[]): number => xs.reduce((m, x) => Math.max(m, x.length), 0);

/** Narrowest each column may be: its longest header word, and its longest cell (WRAP_MIN, if it wraps). */
function minWidths(t: FitTable): number[] {
  return t.headers.map((h, i) => {
    const cells = t.rows.map((r) => r[i] ?? '');
    // A wrapping cell's pieces longer than the column are cut, so only WRAP_MIN bounds it from below.
    const body = t.wrap.includes(i) ? Math.min(WRAP_MIN, longest(cells)) : longest(cells);
    return Math.max(longest(h.split(' ')), body);
  });
}

const naturalWidths = (t: Table): number[] =>
  t.headers.map((h, i) => Math.max(h.length, longest(t.rows.map((r) => r[i] ?? ''))));

/** The table restricted to some columns (indices into `t`). */
function pick(t: FitTable, cols: number[]): FitTable {
  return {
    headers: cols.map((c) => t.headers[c]!),
    rows: t.rows.map((r) => cols.map((c) => r[c] ?? '')),
    align: cols.map((c) => t.align[c] ?? 'l'),
    keys: t.keys,
    wrap: cols.flatMap((c, i) => (t.wrap.includes(c) ? [i] : [])),
    ...(t.notes ? { notes: t.notes } : {}),
  };
}

/**
 * The table in parts by columns, each of which `fittedTextTable` renders within `width` characters (unless one
 * column alone is wider: then that part holds just it and the keys). A table that fits is one part.
 */
export function splitColumns(t: FitTable, width: number): FitTable[] {
  const min = minWidths(t);
  const keys = [...Array(t.keys).keys()];
  const used = (cols: number[]): number => cols.reduce((s, c) => s + min[c]!, 0) + GAP * (cols.length - 1);
  const parts: number[][] = [];
  let current = [...keys];
  for (let c = t.keys; c < t.headers.length; c++) {
    if (current.length > t.keys && used([...current, c]) > width) {
      parts.push(current);
      current = [...keys];
    }
    current.push(c);
  }
  parts.push(current);
  return parts.map((cols) => pick(t, cols));
}

/**
 * Column widths within `width`, narrowed from the natural widths in three rounds, each only as far as needed:
 * first headers that are wider than their cells wrap, then wrapping cells of the other columns, and last those of
 * the key columns (a row's name is read on one line where possible). Within a round the widest-above-its-minimum
 * column narrows first.
 */
function fitWidths(t: FitTable, width: number): number[] {
  const w = naturalWidths(t);
  const min = minWidths(t);
  const floors = [
    t.headers.map((_, i) => Math.max(min[i]!, t.wrap.includes(i) ? longest(t.rows.map((r) => r[i] ?? '')) : 0)),
    t.headers.map((_, i) => (i < t.keys ? w[i]! : min[i]!)),
    min,
  ];
  let total = w.reduce((s, x) => s + x, 0) + GAP * (w.length - 1);
  for (const floor of floors)
    while (total > width) {
      let best = -1;
      for (let i = 0; i < w.length; i++)
        if (w[i]! > floor[i]! && (best < 0 || w[i]! - floor[i]! > w[best]! - floor[best]!)) best = i;
      if (best < 0) break;
      w[best]!--;
      total--;
    }
  return w;
}

/** One table part as text: cells padded (right-aligned where `align` says), wrapped cells on several lines. */
export function fittedTextTable(t: FitTable, width: number): string {
  const w = fitWidths(t, width);
  const block = (cells: string[], header: boolean): string[] => {
    const wrapped = cells.map((c, i) => (header || t.wrap.includes(i) ? wrapText(c, w[i]!) : [c]));
    const height = Math.max(...wrapped.map((x) => x.length));
    const out: string[] = [];
    for (let k = 0; k < height; k++)
      out.push(
        wrapped
          .map((x, i) => {
            const s = x[k] ?? '';
            return (t.align[i] as Align) === 'r' ? s.padStart(w[i]!) : s.padEnd(w[i]!);
          })
          .join(' '.repeat(GAP))
          .trimEnd(),
      );
    return out;
  };
  return [
    ...block(t.headers, true),
    w.map((x) => '-'.repeat(x)).join(' '.repeat(GAP)),
    ...t.rows.flatMap((r) => block(r, false)),
  ].join('\n');
}
