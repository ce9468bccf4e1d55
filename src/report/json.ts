/**
 * report.json: the whole report model (every number, the fcprobe version, the models' sha256, the config).
 * JSON has no NaN or Infinity: undefined measures (NaN) are written as null.
 */
import type { Report } from './types.js';

/** The report as JSON text (accuracies as fractions; NaN as null). */
export function renderJson(r: Report): string {
  const finiteOrNull = (_key: string, value: unknown): unknown =>
    typeof value === 'number' && !Number.isFinite(value) ? null : value;
  return `${JSON.stringify(r, finiteOrNull, 2)}\n`;
}
