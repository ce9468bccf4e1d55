/**
 * Inline SVG charts for report.html: plain strings, no scripts, no external fonts or styles, so the HTML
 * stays one self-contained file that renders the same offline and in any browser. No xmlns attribute: HTML
 * parsers put <svg> in the SVG namespace themselves, and the file then holds no URL at all.
 */

export function escapeXml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

export interface BarSeries {
  name: string;
  values: (number | null)[];
  color: string;
  /** Per value, an interval drawn as an error bar (null: none). */
  errors?: ({ low: number; high: number } | null)[];
}

export interface BarCategory {
  label: string;
  /** Consecutive categories with the same group share a shaded band labelled with it ("ID", "OOD"). */
  group?: string;
}

export interface GroupedBarOptions {
  title: string;
  categories: BarCategory[];
  series: BarSeries[];
  yLabel: string;
  /** Tick and value-label text. */
  format: (v: number) => string;
  /** The axis always spans these (and 0, and every value). */
  yMin?: number;
  yMax?: number;
  width?: number;
  height?: number;
  /** Print each bar's value above (or below, when negative) it. */
  valueLabels?: boolean;
  /** Band colour per group name, so a group looks the same in every chart; others cycle through defaults. */
  groupFills?: Record<string, string>;
}

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';
const GROUP_FILLS = ['#f3f6fa', '#fdf3ec', '#eef7f0', '#f6f0fa'];

/** Round tick step (1, 2 or 5 times a power of ten) giving about `count` intervals over [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? 10 * pow;
  const ticks: number[] = [];
  // From the last tick at or below lo to the first at or above hi, so the axis always ends on a tick.
  const first = Math.floor(lo / step + 1e-9),
    last = Math.ceil(hi / step - 1e-9);
  for (let k = first; k <= last; k++) ticks.push(k === 0 ? 0 : Number((k * step).toPrecision(12)));
  return ticks;
}

/** Splits a label at spaces into lines of at most `maxChars` (a single longer word stays whole). */
function wrapLabel(label: string, maxChars: number): string[] {
  const lines: string[] = [];
  for (const word of label.split(/\s+/)) {
    const last = lines[lines.length - 1];
    if (last !== undefined && last.length + 1 + word.length <= maxChars) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines;
}

export function groupedBarChart(o: GroupedBarOptions): string {
  const width = o.width ?? 1000,
    height = o.height ?? 340;
  const values = o.series
    .flatMap((s) => [...s.values, ...(s.errors ?? []).flatMap((e) => (e ? [e.low, e.high] : []))])
    .filter((v): v is number => v !== null && Number.isFinite(v));
  let lo = Math.min(0, o.yMin ?? 0, ...values),
    hi = Math.max(0, o.yMax ?? 0, ...values);
  if (hi === lo) hi = lo + 1;
  const ticks = niceTicks(lo, hi);
  lo = Math.min(lo, ticks[0]!);
  hi = Math.max(hi, ticks[ticks.length - 1]!);
  const nCat = Math.max(1, o.categories.length);
  const left = 64,
    right = 16,
    top = 58;
  const plotW = width - left - right;
  const band = plotW / nCat;
  // Category labels: wrapped onto at most two lines when that fits the band, else rotated.
  const charW = 6.6,
    maxChars = Math.max(1, Math.floor((band - 6) / charW));
  const wrapped = o.categories.map((c) => wrapLabel(c.label, maxChars));
  const rotate = wrapped.some((lines) => lines.length > 2 || lines.some((l) => l.length > maxChars));
  const longest = Math.max(0, ...o.categories.map((c) => c.label.length));
  const bottom = rotate ? 24 + Math.min(130, longest * 5.2) : 50;
  const plotH = height - top - bottom;
  const y = (v: number): number => top + ((hi - v) / (hi - lo)) * plotH;
  const parts: string[] = [];
  parts.push(
    `<svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" ` +
      `aria-label="${escapeXml(o.title)}" ${FONT}>`,
  );
  parts.push(`<title>${escapeXml(o.title)}</title>`);
  parts.push(`<text x="${left}" y="20" font-size="15" font-weight="600" fill="#222">${escapeXml(o.title)}</text>`);

  // Group bands behind the bars.
  let start = 0,
    fillIndex = 0;
  for (let i = 1; i <= o.categories.length; i++) {
    const g = o.categories[start]?.group;
    if (i < o.categories.length && o.categories[i]!.group === g) continue;
    if (g !== undefined) {
      const x0 = left + start * band,
        w = (i - start) * band;
      const fill = o.groupFills?.[g] ?? GROUP_FILLS[fillIndex % GROUP_FILLS.length];
      parts.push(`<rect x="${f(x0)}" y="${top}" width="${f(w)}" height="${f(plotH)}" fill="${fill}"/>`);
      parts.push(
        `<text x="${f(x0 + w / 2)}" y="${top - 6}" font-size="11" fill="#666" ` +
          `text-anchor="middle">${escapeXml(g)}</text>`,
      );
      fillIndex++;
    }
    start = i;
  }

  for (const t of ticks) {
    const ty = y(t);
    parts.push(
      `<line x1="${left}" x2="${width - right}" y1="${f(ty)}" y2="${f(ty)}" ` +
        `stroke="${t === 0 ? '#888' : '#ddd'}" stroke-width="1"/>`,
    );
    parts.push(
      `<text x="${left - 6}" y="${f(ty + 4)}" font-size="11" fill="#555" ` +
        `text-anchor="end">${escapeXml(o.format(t))}</text>`,
    );
  }
  parts.push(
    `<text transform="translate(14 ${f(top + plotH / 2)}) rotate(-90)" font-size="11" fill="#555" ` +
      `text-anchor="middle">${escapeXml(o.yLabel)}</text>`,
  );

  const nSeries = Math.max(1, o.series.length);
  const inner = band * 0.78,
    barW = inner / nSeries;
  o.categories.forEach((c, ci) => {
    const x0 = left + ci * band + (band - inner) / 2;
    o.series.forEach((s, si) => {
      const v = s.values[ci];
      const bx = x0 + si * barW;
      if (v === null || v === undefined || !Number.isFinite(v)) {
        parts.push(
          `<text x="${f(bx + barW / 2)}" y="${f(y(0) - 4)}" font-size="10" fill="#999" text-anchor="middle">n/a</text>`,
        );
        return;
      }
      const y0 = y(Math.max(0, v)),
        y1 = y(Math.min(0, v));
      parts.push(
        `<rect x="${f(bx + 1)}" y="${f(y0)}" width="${f(Math.max(1, barW - 2))}" ` +
          `height="${f(Math.max(0.5, y1 - y0))}" ` +
          `fill="${s.color}"><title>${escapeXml(`${c.label}, ${s.name}: ${o.format(v)}`)}</title></rect>`,
      );
      const err = s.errors?.[ci];
      if (err && Number.isFinite(err.low) && Number.isFinite(err.high)) {
        const cx = bx + barW / 2,
          cap = Math.min(6, barW / 4);
        const title = `${c.label}, ${s.name}: 95% interval ${o.format(err.low)} to ${o.format(err.high)}`;
        parts.push(
          `<path d="M${f(cx)} ${f(y(err.low))}V${f(y(err.high))}` +
            `M${f(cx - cap)} ${f(y(err.low))}H${f(cx + cap)}M${f(cx - cap)} ${f(y(err.high))}H${f(cx + cap)}" ` +
            `stroke="#222" stroke-width="1.2" fill="none"><title>${escapeXml(title)}</title></path>`,
        );
      }
      if (o.valueLabels !== false && barW >= 22 && !err) {
        // Outside the bar's end, unless that would leave the plot: then inside, in white, when the bar is tall
        // enough to hold the label, else (a zero or tiny bar) dark on the other side of the zero line, where
        // white text would stand on the pale band.
        const outside = v >= 0 ? y0 - 4 : y1 + 12;
        const fits = outside >= top + 12 && outside <= top + plotH - 2;
        const inside = !fits && y1 - y0 >= 14;
        const ly = fits ? outside : inside ? (v >= 0 ? y0 + 12 : y1 - 4) : v >= 0 ? y1 + 12 : y0 - 4;
        parts.push(
          `<text x="${f(bx + barW / 2)}" y="${f(ly)}" font-size="10" fill="${inside ? '#fff' : '#333'}" ` +
            `text-anchor="middle">${escapeXml(o.format(v))}</text>`,
        );
      }
    });
    const lx = left + ci * band + band / 2,
      ly = top + plotH + 16;
    parts.push(
      rotate
        ? `<text transform="translate(${f(lx)} ${f(ly - 4)}) rotate(-35)" font-size="11" fill="#333" ` +
            `text-anchor="end">${escapeXml(c.label)}</text>`
        : `<text x="${f(lx)}" y="${f(ly)}" font-size="11" fill="#333" text-anchor="middle">` +
            wrapped[ci]!.map((l, li) => `<tspan x="${f(lx)}" dy="${li === 0 ? 0 : 13}">${escapeXml(l)}</tspan>`).join(
              '',
            ) +
            '</text>',
    );
  });
  parts.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${f(top + plotH)}" stroke="#888"/>`);
  if (o.series.length > 1)
    parts.push(
      legend(
        o.series.map((s) => ({ name: s.name, color: s.color })),
        width - right,
        20,
      ),
    );
  parts.push('</svg>');
  return parts.join('\n');
}

function legend(
  items: { name: string; color: string; shape?: 'square' | 'circle' | 'line' }[],
  rightX: number,
  yPos: number,
): string {
  // Laid out right-to-left from the chart's right edge; widths estimated from character counts.
  const out: string[] = [];
  let x = rightX;
  for (const it of [...items].reverse()) {
    const w = 18 + it.name.length * 6.6;
    x -= w;
    const mark =
      it.shape === 'circle'
        ? `<circle cx="${f(x + 5)}" cy="${yPos - 4}" r="5" fill="${it.color}"/>`
        : it.shape === 'line'
          ? `<line x1="${f(x)}" x2="${f(x + 11)}" y1="${yPos - 4}" y2="${yPos - 4}" stroke="${it.color}" ` +
            `stroke-width="2" stroke-dasharray="4 2"/>`
          : `<rect x="${f(x)}" y="${yPos - 10}" width="11" height="11" fill="${it.color}"/>`;
    out.push(`${mark}<text x="${f(x + 15)}" y="${yPos}" font-size="11" fill="#333">${escapeXml(it.name)}</text>`);
    x -= 10;
  }
  return out.join('\n');
}

export interface ScatterPoint {
  x: number;
  y: number;
  label?: string;
}

export interface LogitScatterOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Reference models (grey dots); may be empty. */
  baseline: ScatterPoint[];
  /** Highlighted models (coloured, labelled), with optional 95% intervals drawn as bars in x and y. */
  models: (ScatterPoint & {
    color: string;
    xInterval?: { low: number; high: number } | null;
    yInterval?: { low: number; high: number } | null;
  })[];
  /** The fitted line logit(y) = slope * logit(x) + intercept; null: none. */
  fit: { slope: number; intercept: number } | null;
  /** Band around the fit: at each x, the interval of the prediction (fractions). */
  band?: { x: number[]; low: number[]; high: number[] } | null;
  /** Draw the y = x line. */
  diagonal?: boolean;
  /** Chance accuracy (fraction), marked on both axes. */
  chance?: number | null;
  width?: number;
  height?: number;
}

const logitOf = (p: number): number => Math.log(p / (1 - p));

/**
 * Accuracy vs accuracy on logit-scaled axes (as Taori et al. plot them), where the baseline fit is a straight
 * line; points are fractions in (0, 1), ticks are shown as percent.
 */
export function logitScatterChart(o: LogitScatterOptions): string {
  const width = o.width ?? 560,
    height = o.height ?? 420;
  const left = 58,
    right = 16,
    top = 50,
    bottom = 48;
  const plotW = width - left - right,
    plotH = height - top - bottom;
  const clamp = (p: number): number => Math.min(0.995, Math.max(0.005, p));
  const all = [...o.baseline, ...o.models];
  const chance = o.chance !== null && o.chance !== undefined && o.chance > 0 && o.chance < 1 ? o.chance : null;
  const xs = [
      ...all.map((p) => p.x),
      ...o.models.flatMap((m) => (m.xInterval ? [m.xInterval.low, m.xInterval.high] : [])),
      ...(chance ? [chance] : []),
    ].map((v) => logitOf(clamp(v))),
    ys = [
      ...all.map((p) => p.y),
      ...o.models.flatMap((m) => (m.yInterval ? [m.yInterval.low, m.yInterval.high] : [])),
      ...(chance ? [chance] : []),
    ].map((v) => logitOf(clamp(v)));
  const pad = (a: number[]): [number, number] => {
    const lo = Math.min(...a),
      hi = Math.max(...a),
      m = Math.max(0.15, (hi - lo) * 0.08);
    return [lo - m, hi + m];
  };
  const [x0, x1] = pad(xs),
    [y0, y1] = pad(ys);
  const px = (l: number): number => left + ((l - x0) / (x1 - x0)) * plotW;
  const py = (l: number): number => top + ((y1 - l) / (y1 - y0)) * plotH;
  // Coarse percent ticks, or every 5 (then every 1) when the coarse ones leave an axis with fewer than 3.
  const visible = (ticks: number[], lo: number, hi: number): number =>
    ticks.filter((t) => logitOf(t / 100) >= lo && logitOf(t / 100) <= hi).length;
  const coarse = [1, 2, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 98, 99];
  const by5 = [1, 2, ...Array.from({ length: 19 }, (_, i) => 5 * (i + 1)), 98, 99];
  const by1 = Array.from({ length: 99 }, (_, i) => i + 1);
  const enough = (ticks: number[]): boolean => visible(ticks, x0, x1) >= 3 && visible(ticks, y0, y1) >= 3;
  const tickPcts = enough(coarse) ? coarse : enough(by5) ? by5 : by1;
  const parts: string[] = [];
  parts.push(
    `<svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" ` +
      `aria-label="${escapeXml(o.title)}" ${FONT}>`,
  );
  parts.push(`<title>${escapeXml(o.title)}</title>`);
  parts.push(`<text x="${left}" y="20" font-size="15" font-weight="600" fill="#222">${escapeXml(o.title)}</text>`);
  parts.push(`<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="#fafbfc" stroke="#ccc"/>`);
  for (const t of tickPcts) {
    const l = logitOf(t / 100);
    if (l >= x0 && l <= x1) {
      parts.push(`<line x1="${f(px(l))}" x2="${f(px(l))}" y1="${top}" y2="${top + plotH}" stroke="#e4e4e4"/>`);
      parts.push(
        `<text x="${f(px(l))}" y="${top + plotH + 15}" font-size="11" fill="#555" text-anchor="middle">${t}</text>`,
      );
    }
    if (l >= y0 && l <= y1) {
      parts.push(`<line x1="${left}" x2="${left + plotW}" y1="${f(py(l))}" y2="${f(py(l))}" stroke="#e4e4e4"/>`);
      parts.push(`<text x="${left - 6}" y="${f(py(l) + 4)}" font-size="11" fill="#555" text-anchor="end">${t}</text>`);
    }
  }
  const clip = `plot-clip-${hashId(o.title)}`;
  parts.push(`<clipPath id="${clip}"><rect x="${left}" y="${top}" width="${plotW}" height="${plotH}"/></clipPath>`);
  if (o.band && o.band.x.length > 1) {
    const b = o.band;
    const upper = b.x.map((x, i) => `${f(px(logitOf(clamp(x))))} ${f(py(logitOf(clamp(b.high[i]!))))}`);
    const lower = b.x.map((x, i) => `${f(px(logitOf(clamp(x))))} ${f(py(logitOf(clamp(b.low[i]!))))}`).reverse();
    parts.push(
      `<path d="M${upper.join('L')}L${lower.join('L')}Z" fill="#9aa3ad" fill-opacity="0.25" stroke="none" ` +
        `clip-path="url(#${clip})"><title>95% bootstrap band of the baseline fit</title></path>`,
    );
  }
  if (o.diagonal) {
    const a = Math.max(x0, y0),
      b = Math.min(x1, y1);
    if (b > a)
      parts.push(
        `<line x1="${f(px(a))}" y1="${f(py(a))}" x2="${f(px(b))}" y2="${f(py(b))}" stroke="#444" stroke-width="1" ` +
          `stroke-dasharray="1 3"><title>OOD = ID</title></line>`,
      );
  }
  if (chance) {
    const l = logitOf(chance);
    parts.push(
      `<line x1="${f(px(l))}" x2="${f(px(l))}" y1="${top}" y2="${top + plotH}" stroke="#c55" stroke-width="1" ` +
        `stroke-dasharray="3 3"><title>chance ${(chance * 100).toFixed(1)}%</title></line>`,
      `<line x1="${left}" x2="${left + plotW}" y1="${f(py(l))}" y2="${f(py(l))}" stroke="#c55" stroke-width="1" ` +
        `stroke-dasharray="3 3"><title>chance ${(chance * 100).toFixed(1)}%</title></line>`,
    );
  }
  if (o.fit) {
    const [fa, fb] = [x0, x1].map((l) => o.fit!.slope * l + o.fit!.intercept) as [number, number];
    parts.push(
      `<line x1="${f(px(x0))}" y1="${f(py(fa))}" x2="${f(px(x1))}" y2="${f(py(fb))}" stroke="#777" ` +
        `stroke-width="1.5" stroke-dasharray="6 4" clip-path="url(#${clip})"/>`,
    );
  }
  for (const p of o.baseline) {
    const title = `${p.label ?? 'baseline'}: ${(p.x * 100).toFixed(1)}, ${(p.y * 100).toFixed(1)}`;
    parts.push(
      `<circle cx="${f(px(logitOf(clamp(p.x))))}" cy="${f(py(logitOf(clamp(p.y))))}" r="3.5" fill="#9aa3ad">` +
        `<title>${escapeXml(title)}</title></circle>`,
    );
  }
  for (const p of o.models) {
    const cx = px(logitOf(clamp(p.x))),
      cy = py(logitOf(clamp(p.y)));
    const bars: string[] = [];
    if (p.xInterval)
      bars.push(`M${f(px(logitOf(clamp(p.xInterval.low))))} ${f(cy)}H${f(px(logitOf(clamp(p.xInterval.high))))}`);
    if (p.yInterval)
      bars.push(`M${f(cx)} ${f(py(logitOf(clamp(p.yInterval.low))))}V${f(py(logitOf(clamp(p.yInterval.high))))}`);
    if (bars.length) parts.push(`<path d="${bars.join('')}" stroke="${p.color}" stroke-width="1.5" fill="none"/>`);
    const title = `${p.label ?? ''}: ${(p.x * 100).toFixed(1)}, ${(p.y * 100).toFixed(1)}`;
    parts.push(
      `<circle cx="${f(cx)}" cy="${f(cy)}" r="6" fill="${p.color}" stroke="#fff" stroke-width="1.5">` +
        `<title>${escapeXml(title)}</title></circle>`,
    );
    if (p.label)
      parts.push(`<text x="${f(cx + 9)}" y="${f(cy + 4)}" font-size="11" fill="#222">${escapeXml(p.label)}</text>`);
  }
  parts.push(
    `<text x="${f(left + plotW / 2)}" y="${height - 8}" font-size="11" fill="#555" ` +
      `text-anchor="middle">${escapeXml(o.xLabel)}</text>`,
  );
  parts.push(
    `<text transform="translate(14 ${f(top + plotH / 2)}) rotate(-90)" font-size="11" fill="#555" ` +
      `text-anchor="middle">${escapeXml(o.yLabel)}</text>`,
  );
  const items: { name: string; color: string; shape?: 'square' | 'circle' | 'line' }[] = [];
  if (o.baseline.length) items.push({ name: 'baseline models', color: '#9aa3ad', shape: 'circle' });
  if (o.fit) items.push({ name: o.band ? 'baseline fit (band: 95%)' : 'baseline fit', color: '#777', shape: 'line' });
  if (o.diagonal) items.push({ name: 'OOD = ID', color: '#444', shape: 'line' });
  if (chance) items.push({ name: 'chance', color: '#c55', shape: 'line' });
  if (items.length) parts.push(legend(items, width - right, 40));
  parts.push('</svg>');
  return parts.join('\n');
}

export interface QuantileBox {
  label: string;
  color: string;
  p10: number;
  p25: number;
  median: number;
  p75: number;
  p90: number;
  mean: number;
}

/** Horizontal box plots (whiskers p10-p90, box p25-p75, median line, mean dot), one row per item. */
export function quantileBoxChart(o: {
  title: string;
  xLabel: string;
  boxes: QuantileBox[];
  format: (v: number) => string;
  width?: number;
}): string {
  const width = o.width ?? 1000,
    rowH = 38;
  const left = 160,
    right = 24,
    top = 40,
    bottom = 44;
  const height = top + bottom + rowH * Math.max(1, o.boxes.length);
  const values = o.boxes.flatMap((b) => [b.p10, b.p90, b.mean]).filter((v) => Number.isFinite(v));
  const ticks = niceTicks(0, Math.max(1e-9, ...values));
  const hi = ticks[ticks.length - 1]!;
  const plotW = width - left - right;
  const x = (v: number): number => left + (v / hi) * plotW;
  const parts: string[] = [];
  parts.push(
    `<svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" ` +
      `aria-label="${escapeXml(o.title)}" ${FONT}>`,
  );
  parts.push(`<title>${escapeXml(o.title)}</title>`);
  parts.push(`<text x="${left}" y="20" font-size="15" font-weight="600" fill="#222">${escapeXml(o.title)}</text>`);
  const plotBottom = top + rowH * o.boxes.length;
  for (const t of ticks) {
    parts.push(
      `<line x1="${f(x(t))}" x2="${f(x(t))}" y1="${top}" y2="${plotBottom}" stroke="${t === 0 ? '#888' : '#e2e2e2'}"/>`,
    );
    parts.push(
      `<text x="${f(x(t))}" y="${plotBottom + 15}" font-size="11" fill="#555" ` +
        `text-anchor="middle">${escapeXml(o.format(t))}</text>`,
    );
  }
  o.boxes.forEach((b, i) => {
    const cy = top + rowH * i + rowH / 2;
    parts.push(
      `<text x="${left - 10}" y="${f(cy + 4)}" font-size="12" fill="#222" ` +
        `text-anchor="end">${escapeXml(b.label)}</text>`,
    );
    if (![b.p10, b.p25, b.median, b.p75, b.p90].every(Number.isFinite)) return;
    const tip =
      `${b.label}: p10 ${o.format(b.p10)}, p25 ${o.format(b.p25)}, median ${o.format(b.median)}, p75 ` +
      `${o.format(b.p75)}, p90 ${o.format(b.p90)}, mean ${o.format(b.mean)}`;
    parts.push(`<g><title>${escapeXml(tip)}</title>`);
    parts.push(
      `<line x1="${f(x(b.p10))}" x2="${f(x(b.p90))}" y1="${f(cy)}" y2="${f(cy)}" stroke="${b.color}" ` +
        `stroke-width="1.5"/>`,
    );
    for (const w of [b.p10, b.p90])
      parts.push(
        `<line x1="${f(x(w))}" x2="${f(x(w))}" y1="${f(cy - 7)}" y2="${f(cy + 7)}" stroke="${b.color}" ` +
          `stroke-width="1.5"/>`,
      );
    parts.push(
      `<rect x="${f(x(b.p25))}" y="${f(cy - 11)}" width="${f(Math.max(1, x(b.p75) - x(b.p25)))}" height="22" ` +
        `fill="${b.color}" fill-opacity="0.35" stroke="${b.color}"/>`,
    );
    parts.push(
      `<line x1="${f(x(b.median))}" x2="${f(x(b.median))}" y1="${f(cy - 11)}" y2="${f(cy + 11)}" ` +
        `stroke="#222" stroke-width="2"/>`,
    );
    if (Number.isFinite(b.mean))
      parts.push(`<circle cx="${f(x(b.mean))}" cy="${f(cy)}" r="3.5" fill="#fff" stroke="#222"/>`);
    parts.push('</g>');
  });
  parts.push(
    `<text x="${f(left + plotW / 2)}" y="${height - 8}" font-size="11" fill="#555" ` +
      `text-anchor="middle">${escapeXml(o.xLabel)}</text>`,
  );
  parts.push('</svg>');
  return parts.join('\n');
}

/** Distinct ids for several charts in one HTML document. */
function hashId(s: string): string {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) >>> 0;
  return h.toString(36);
}

function f(v: number): string {
  return (Math.round(v * 10) / 10).toString();
}
