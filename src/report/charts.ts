/**
 * The report's charts, drawn with Apache ECharts and rendered to SVG strings on the server (ECharts' `ssr` mode:
 * no DOM, no canvas, no browser). The SVG is inlined into report.html and compare.html, so the files stay
 * self-contained and open offline; ECharts lays out axes, ticks, legends and label collisions, and we only map
 * report numbers onto its options.
 *
 * Choices the charts share, and why:
 * - Text widths are estimated (there is no font on the server). The estimate below is that of a wide sans-serif
 *   (DejaVu Sans, the usual fallback on Linux), so text laid out here never overruns when a narrower font
 *   (Helvetica, Arial, Segoe UI) draws it.
 * - Models are told apart by a colour fixed by their position in results.models (`modelColor`), the same in
 *   every chart of every page; sets and runs by marker shape.
 * - Points are not labelled in the plot (labels of crowded points overlap whatever the layout): legends name
 *   every colour and shape, and sit outside the plot.
 * - Every element of a series carries `data-series` (its series id), so a test in a real browser can tell the
 *   interval marks of each model from the rest.
 */
import * as echarts from 'echarts';
import type { CustomSeriesRenderItemAPI, CustomSeriesRenderItemParams, EChartsOption } from 'echarts';
import { escapeXml, niceTicks, unescapeXml } from './svgCharts.js';
import type { Interval } from './types.js';

type SeriesOption = Exclude<NonNullable<EChartsOption['series']>, readonly unknown[]>;
type RenderItemReturn = ReturnType<echarts.CustomSeriesRenderItem>;

/** Font of every chart; the page's CSS uses the same stack. */
// Single quotes only: zrender writes the family into a double-quoted style attribute without escaping it.
export const FONT_FAMILY = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif";

/**
 * Colours by a model's position in results.models (teacher first, then students, then references): blue,
 * orange, then hues far from both and from each other, so the same model looks the same everywhere.
 */
export const MODEL_PALETTE = [
  '#2b6cb0',
  '#dd8a2e',
  '#c0392b',
  '#3f8f3a',
  '#8064a2',
  '#1f9bb0',
  '#a0522d',
  '#c9a100',
  '#d35fb7',
  '#5b6770',
];

export function paletteColor(index: number): string {
  return MODEL_PALETTE[((index % MODEL_PALETTE.length) + MODEL_PALETTE.length) % MODEL_PALETTE.length]!;
}

/** Marker shapes for sets (or runs): the order in which they are handed out. */
const SHAPES = [
  'circle',
  'triangle',
  'rect',
  'diamond',
  // Inverted triangle, star, plus: ECharts' other built-in symbols (pin, arrow, roundRect) read as the first four.
  'path://M0,0 L10,0 L5,9 Z',
  'path://M5,0 L6.2,3.6 L10,3.6 L7,5.9 L8.1,9.5 L5,7.3 L1.9,9.5 L3,5.9 L0,3.6 L3.8,3.6 Z',
  'path://M3.5,0 H6.5 V3.5 H10 V6.5 H6.5 V10 H3.5 V6.5 H0 V3.5 H3.5 Z',
] as const;
export type Shape = (typeof SHAPES)[number];
export function shapeOf(index: number): Shape {
  return SHAPES[index % SHAPES.length]!;
}

/** Em widths of a wide sans-serif (DejaVu Sans): over-estimating keeps laid-out text from colliding. */
function charEm(c: string): number {
  // Wide scripts (zrender also takes the width of one CJK character as the line height).
  if (c.charCodeAt(0) >= 0x2e80) return 1;
  if (" .,:;'!|`ijlI".includes(c)) return 0.33;
  if ('frt()[]{}-/'.includes(c)) return 0.42;
  if ('mwMW%@'.includes(c)) return 0.98;
  if (c >= 'A' && c <= 'Z') return 0.76;
  return 0.64;
}

/** Estimated width in px of `text` at `fontSize` px (bold text is about 8% wider). */
export function textWidth(text: string, fontSize: number, bold = false): number {
  let em = 0;
  for (const c of text) em += charEm(c);
  return em * fontSize * (bold ? 1.08 : 1);
}

// ECharts measures text through this hook; without a canvas its own estimate assumes a narrower font.
echarts.setPlatformAPI({
  measureText: (text: string, font?: string) => {
    const size = Number(/(\d+(?:\.\d+)?)px/.exec(font ?? '')?.[1] ?? 12);
    return { width: textWidth(text, size, /bold|[6-9]00/.test(font ?? '')) };
  },
});

/** Distinct, stable ids for several charts in one HTML document. */
function hashId(s: string): string {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) >>> 0;
  return h.toString(36);
}

/**
 * Renders an option to an SVG string. The output is made stable and HTML-friendly: zrender's per-process ids
 * are replaced by one derived from the title (the same input gives the same bytes in any process), the xmlns
 * URLs are dropped (HTML parsers put <svg> in the SVG namespace themselves, and the page then holds no URL),
 * and every series element is tagged with its series id.
 */
/** Hover text per series id: for a data index, what the browser shows over that mark (its SVG <title>). */
type Tips = Record<string, (dataIndex: number) => string | null>;

function render(option: EChartsOption, width: number, height: number, title: string, tips: Tips = {}): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  let svg: string;
  try {
    chart.setOption({
      animation: false,
      textStyle: { fontFamily: FONT_FAMILY },
      ...option,
    });
    svg = chart.renderToSVGString();
  } finally {
    // A chart left alive keeps a timer running and the process from exiting.
    chart.dispose();
  }
  const series = (Array.isArray(option.series) ? option.series : option.series ? [option.series] : []) as {
    id?: string | number;
    name?: string | number;
  }[];
  const id = `fc${hashId(title)}`;
  return (
    svg
      .replace(/\s+xmlns(:xlink)?="[^"]*"/g, '')
      .replace(/\bzr\d+-/g, `${id}-`)
      .replace(/ecmeta_series_index="(\d+)"/g, (m, i: string) => {
        const s = series[Number(i)];
        const sid = s?.id ?? s?.name;
        return sid === undefined ? m : `${m} data-series="${escapeXml(String(sid))}"`;
      })
      .replace(/^<svg([^>]*)>/, `<svg$1 role="img" aria-label="${escapeXml(title)}"><title>${escapeXml(title)}</title>`)
      // Tooltips without a script: a <title> in a mark is shown by every browser on hover.
      .replace(
        /(<path [^>]*data-series="([^"]*)" ecmeta_data_index="(\d+)" ecmeta_ssr_type="chart"[^>]*>)<\/path>/g,
        (m, open: string, sid: string, i: string) => {
          const tip = tips[unescapeXml(sid)]?.(Number(i));
          return tip ? `${open}<title>${escapeXml(tip)}</title></path>` : m;
        },
      )
  );
}

const intervalText = (i: Interval | null | undefined, format: (v: number) => string): string =>
  i ? ` [${format(i.low)}, ${format(i.high)}]` : '';

const TITLE_STYLE = { fontSize: 15, fontWeight: 600, color: '#222' } as const;
const AXIS_TEXT = { fontSize: 11, color: '#555' } as const;
const LEGEND_TEXT = { fontSize: 11, color: '#333' } as const;

/** Height of a horizontal legend of `names` wrapped into `width` px (ECharts wraps legends the same way). */
function legendRows(names: string[], width: number): number {
  let rows = 1,
    x = 0;
  for (const n of names) {
    const w = 25 + 5 + textWidth(n, LEGEND_TEXT.fontSize) + 12;
    if (x > 0 && x + w > width) {
      rows++;
      x = 0;
    }
    x += w;
  }
  return rows;
}

export interface BarSeries {
  name: string;
  values: (number | null)[];
  color: string;
  /** Per value, an interval drawn as an error bar (null: none). */
  errors?: (Interval | null)[];
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
  /** Hover text of a value and its interval (default: `format`), e.g. more digits than the ticks need. */
  tipFormat?: (v: number) => string;
  /** The axis always spans these (and 0, and every value and interval). */
  yMin?: number;
  yMax?: number;
  width?: number;
  height?: number;
  /** Print each bar's value at its end (bars with an error bar never: the bar would hide the label). */
  valueLabels?: boolean;
  /** Band colour per group name, so a group looks the same in every chart; others cycle through defaults. */
  groupFills?: Record<string, string>;
}

const GROUP_FILLS = ['#f3f6fa', '#fdf3ec', '#eef7f0', '#f6f0fa'];
/** Bar layout fractions, fixed so the error bars (drawn by a custom series) can find each bar's centre. */
const BAR_CATEGORY_GAP = 0.22;

/** Grouped bars with 95% intervals, the category groups shaded and labelled. */
export function groupedBarChart(o: GroupedBarOptions): string {
  const width = o.width ?? 1000,
    height = o.height ?? 360;
  const values = o.series
    .flatMap((s) => [...s.values, ...(s.errors ?? []).flatMap((e) => (e ? [e.low, e.high] : []))])
    .filter((v): v is number => v !== null && Number.isFinite(v));
  let lo0 = Math.min(0, o.yMin ?? 0, ...values);
  let hi0 = Math.max(0, o.yMax ?? 0, ...values);
  if (hi0 === lo0) hi0 = lo0 + 1;
  // An interval ending exactly on what would be the axis's last tick (a gap interval of +40.0 pp) would draw its
  // cap on the plot's edge: an unbounded axis then goes on to the next tick.
  const ends = o.series.flatMap((s) => (s.errors ?? []).flatMap((e) => (e ? [e.low, e.high] : [])));
  const ticks0 = niceTicks(lo0, hi0);
  const onEdge = (v: number, tick: number): boolean => ends.includes(v) && Math.abs(v - tick) < 1e-9 * (hi0 - lo0);
  const pad = 0.01 * (hi0 - lo0);
  if (o.yMax === undefined && hi0 > 0 && onEdge(hi0, ticks0[ticks0.length - 1]!)) hi0 += pad;
  if (o.yMin === undefined && lo0 < 0 && onEdge(lo0, ticks0[0]!)) lo0 -= pad;
  const ticks = niceTicks(lo0, hi0);
  const lo = ticks[0]!,
    hi = ticks[ticks.length - 1]!;
  const step = ticks.length > 1 ? ticks[1]! - ticks[0]! : 1;
  const nCat = Math.max(1, o.categories.length);
  const showLegend = o.series.length > 1;
  const legendTop = 30;
  const plotLeft = 70,
    plotRight = 16;
  const rows = showLegend
    ? legendRows(
        o.series.map((s) => s.name),
        width - plotLeft - plotRight,
      )
    : 0;
  const top = showLegend ? legendTop + rows * 22 + 22 : 52;
  // Category labels: wrapped onto at most two lines when that fits the band, else rotated.
  const band = (width - plotLeft - plotRight) / nCat;
  const fits = o.categories.every((c) => wrapCount(c.label, band - 8, 11) <= 2);
  const wrapped = o.categories.some((c) => wrapCount(c.label, band - 8, 11) === 2);
  const groups: { name: string; from: number; to: number; fill: string }[] = [];
  let fillIndex = 0;
  o.categories.forEach((c, i) => {
    const last = groups[groups.length - 1];
    if (c.group === undefined) return;
    if (last && last.name === c.group && last.to === i - 1) last.to = i;
    else
      groups.push({
        name: c.group,
        from: i,
        to: i,
        fill: o.groupFills?.[c.group] ?? GROUP_FILLS[fillIndex++ % GROUP_FILLS.length]!,
      });
  });
  const n = Math.max(1, o.series.length);
  const series: SeriesOption[] = [];
  series.push({
    type: 'custom',
    id: 'groups',
    silent: true,
    z: 0,
    clip: false,
    data: groups.map((g) => [g.from, g.to]),
    renderItem: (params: CustomSeriesRenderItemParams, api: CustomSeriesRenderItemAPI): RenderItemReturn => {
      const g = groups[params.dataIndex]!;
      const sys = params.coordSys as unknown as { x: number; y: number; width: number; height: number };
      const w = categoryWidth(api);
      const x0 = api.coord([g.from, 0])[0]! - w / 2,
        x1 = api.coord([g.to, 0])[0]! + w / 2;
      return {
        type: 'group',
        children: [
          { type: 'rect', shape: { x: x0, y: sys.y, width: x1 - x0, height: sys.height }, style: { fill: g.fill } },
          {
            type: 'text',
            x: (x0 + x1) / 2,
            y: sys.y - 6,
            style: {
              text: g.name,
              fill: '#666',
              fontSize: 11,
              fontFamily: FONT_FAMILY,
              align: 'center',
              verticalAlign: 'bottom',
            },
          },
        ],
      };
    },
  });
  o.series.forEach((s, si) => {
    const labels = o.valueLabels !== false && !s.errors;
    series.push({
      type: 'bar',
      id: `bar:${s.name}`,
      name: s.name,
      itemStyle: { color: s.color },
      barGap: '0%',
      barCategoryGap: `${BAR_CATEGORY_GAP * 100}%`,
      z: 2,
      data: s.values.map((v) => {
        if (v === null || !Number.isFinite(v)) return '-';
        const at = labelPlace(v, lo, hi);
        return {
          value: v,
          label: {
            show: labels,
            position: at.position,
            formatter: () => o.format(v),
            fontSize: 10,
            color: at.inside ? '#fff' : '#333',
          },
        };
      }),
      labelLayout: { hideOverlap: true },
    });
    const missing = s.values.flatMap((v, ci) => (v === null || !Number.isFinite(v) ? [ci] : []));
    if (missing.length)
      series.push({
        type: 'custom',
        id: `missing:${s.name}`,
        name: s.name,
        silent: true,
        z: 3,
        data: missing.map((ci) => [ci, 0]),
        renderItem: (params: CustomSeriesRenderItemParams, api: CustomSeriesRenderItemAPI): RenderItemReturn => {
          const ci = api.value(0) as number;
          const inner = categoryWidth(api) * (1 - BAR_CATEGORY_GAP);
          const [x, y] = api.coord([ci, 0]) as [number, number];
          const sys = params.coordSys as unknown as { y: number };
          // Above the zero line, or below it when the zero line is the top of the plot.
          const below = y - sys.y < 16;
          return {
            type: 'text',
            x: x - inner / 2 + (inner / n) * (si + 0.5),
            y: below ? y + 4 : y - 4,
            style: {
              text: 'n/a',
              fill: '#999',
              fontSize: 10,
              fontFamily: FONT_FAMILY,
              align: 'center',
              verticalAlign: below ? 'top' : 'bottom',
            },
          };
        },
      });
    if (!s.errors) return;
    const errs = s.errors;
    series.push({
      type: 'custom',
      id: `interval:${s.name}`,
      name: s.name,
      z: 3,
      data: errs.flatMap((e, ci) =>
        e && Number.isFinite(e.low) && Number.isFinite(e.high) ? [[ci, e.low, e.high]] : [],
      ),
      encode: { x: 0, y: [1, 2] },
      renderItem: (_params: CustomSeriesRenderItemParams, api: CustomSeriesRenderItemAPI): RenderItemReturn => {
        const ci = api.value(0) as number;
        const bandW = categoryWidth(api);
        const inner = bandW * (1 - BAR_CATEGORY_GAP),
          barW = inner / n;
        const cx = api.coord([ci, 0])[0]! - inner / 2 + barW * (si + 0.5);
        const yLow = api.coord([ci, api.value(1) as number])[1]!,
          yHigh = api.coord([ci, api.value(2) as number])[1]!;
        const cap = Math.min(6, barW / 4);
        return {
          type: 'group',
          children: [
            { type: 'line', shape: { x1: cx, y1: yLow, x2: cx, y2: yHigh }, style: { stroke: '#222', lineWidth: 1.2 } },
            {
              type: 'line',
              shape: { x1: cx - cap, y1: yLow, x2: cx + cap, y2: yLow },
              style: { stroke: '#222', lineWidth: 1.2 },
            },
            {
              type: 'line',
              shape: { x1: cx - cap, y1: yHigh, x2: cx + cap, y2: yHigh },
              style: { stroke: '#222', lineWidth: 1.2 },
            },
          ],
        };
      },
    });
  });
  const tickWidth = Math.max(...ticks.map((t) => textWidth(o.format(t), AXIS_TEXT.fontSize)));
  const tips: Tips = {};
  for (const s of o.series)
    tips[`bar:${s.name}`] = (ci) => {
      const v = s.values[ci];
      if (v === null || v === undefined) return null;
      const fmt = o.tipFormat ?? o.format;
      return `${o.categories[ci]?.label}, ${s.name}: ${fmt(v)}${intervalText(s.errors?.[ci], fmt)}`;
    };
  return render(
    {
      title: { text: o.title, left: plotLeft, top: 6, textStyle: TITLE_STYLE },
      legend: showLegend
        ? {
            data: o.series.map((s) => s.name),
            top: legendTop,
            left: plotLeft,
            right: plotRight,
            icon: 'rect',
            itemWidth: 14,
            itemHeight: 12,
            textStyle: LEGEND_TEXT,
          }
        : { show: false },
      // Two-line category labels need the room of their second line (ECharts' containment counts one).
      grid: { left: plotLeft, right: plotRight, top, bottom: fits && wrapped ? 20 : 6, outerBoundsMode: 'same' },
      xAxis: {
        type: 'category',
        data: o.categories.map((c) => c.label),
        axisTick: { show: false },
        axisLine: { lineStyle: { color: '#888' } },
        axisLabel: {
          interval: 0,
          fontSize: 11,
          lineHeight: 14,
          color: '#333',
          ...(fits ? { width: band - 8, overflow: 'break' as const } : { rotate: 35 }),
        },
      },
      yAxis: {
        type: 'value',
        min: lo,
        max: hi,
        interval: step,
        name: o.yLabel,
        nameLocation: 'middle',
        nameGap: tickWidth + 14,
        nameTextStyle: AXIS_TEXT,
        axisLabel: { ...AXIS_TEXT, formatter: (v: number) => o.format(v) },
        splitLine: { lineStyle: { color: '#ddd' } },
      },
      series,
    },
    width,
    height,
    o.title,
    tips,
  );
}

/**
 * Where a bar's value label goes: beyond the bar's end when there is room before the plot's edge, else inside
 * the bar (white) when the bar is long enough to hold it, else (a zero or tiny bar at the edge) on the other
 * side of the zero line, dark, where white text would stand on the pale band.
 */
function labelPlace(
  v: number,
  lo: number,
  hi: number,
): { position: 'top' | 'bottom' | 'insideTop' | 'insideBottom'; inside: boolean } {
  const room = 0.07 * (hi - lo);
  if (v >= 0) {
    if (hi - v >= room) return { position: 'top', inside: false };
    if (v >= room) return { position: 'insideTop', inside: true };
    return { position: 'bottom', inside: false };
  }
  if (v - lo >= room) return { position: 'bottom', inside: false };
  if (-v >= room) return { position: 'insideBottom', inside: true };
  return { position: 'top', inside: false };
}

/** Width in px of one category of the x axis. */
function categoryWidth(api: CustomSeriesRenderItemAPI): number {
  const size = api.size?.([1, 0]);
  return Array.isArray(size) ? (size[0] ?? 0) : (size ?? 0);
}

/** Lines `label` wraps into at `maxWidth` px, breaking at spaces (a longer word counts as two lines). */
function wrapCount(label: string, maxWidth: number, fontSize: number): number {
  let lines = 0,
    cur = '';
  for (const word of label.split(/\s+/)) {
    if (textWidth(word, fontSize) > maxWidth) return 3;
    const next = cur ? `${cur} ${word}` : word;
    if (textWidth(next, fontSize) <= maxWidth) cur = next;
    else {
      lines++;
      cur = word;
    }
  }
  return lines + (cur ? 1 : 0);
}

export interface ScatterPoint {
  x: number;
  y: number;
  label?: string;
}

export interface ScatterModelPoint extends ScatterPoint {
  color: string;
  xInterval?: Interval | null;
  yInterval?: Interval | null;
  /** Legend entry (one per model); default: the label. */
  series?: string;
  /** Legend entry of the marker shape (a set, a run); points without one are circles. */
  shape?: string;
}

export interface LogitScatterOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Reference models (grey dots); may be empty. */
  baseline: ScatterPoint[];
  /** Highlighted models, with optional 95% intervals drawn as bars in x and y. */
  models: ScatterModelPoint[];
  /** The fitted line logit(y) = slope * logit(x) + intercept; null: none. */
  fit: { slope: number; intercept: number } | null;
  /** Band around the fit: at each x, the interval of the prediction (fractions). */
  band?: { x: number[]; low: number[]; high: number[] } | null;
  /** Draw the y = x line. */
  diagonal?: boolean;
  /** Chance accuracy (fraction): a line on each axis where it falls inside the (data-fitted) axes. */
  chance?: number | null;
  width?: number;
  height?: number;
}

// 0% and 100% are infinite on a logit axis: such points are drawn at 0.5% and 99.5%, the edge of any axis.
const LOGIT_CLAMP = 0.005;
const logitOf = (p: number): number => {
  const q = Math.min(1 - LOGIT_CLAMP, Math.max(LOGIT_CLAMP, p));
  return Math.log(q / (1 - q));
};
/** How far (logits) an interval end may stretch an axis beyond its point: odds times about 7. */
const INTERVAL_REACH = 2;
const sigmoid = (l: number): number => 1 / (1 + Math.exp(-l));

/** Tick percentages, coarse to fine; on a logit axis the round values near 0 and 100 sit far apart. */
const TICK_LEVELS: number[][] = (() => {
  const range = (from: number, to: number, step: number): number[] =>
    Array.from({ length: Math.round((to - from) / step) + 1 }, (_, i) => Number((from + i * step).toFixed(4)));
  const tails = [0.1, 0.2, 0.5, 1, 2, 5];
  const mirror = (a: number[]): number[] => [...a, ...a.map((t) => Number((100 - t).toFixed(4))).reverse()];
  return [
    [...tails, ...range(10, 90, 10), ...tails.map((t) => 100 - t).reverse()],
    [...tails, ...range(10, 90, 5), ...tails.map((t) => 100 - t).reverse()],
    mirror([0.1, 0.2, 0.5, ...range(1, 49, 1)])
      .concat([50])
      .sort((a, b) => a - b),
    range(0.5, 99.5, 0.5),
    range(0.1, 99.9, 0.1),
  ];
})();

/**
 * Percent ticks inside [lo, hi] (logits), placed at their logits (uneven spacing): the coarsest level that,
 * once ticks closer than 8% of the axis to the previous one are dropped, leaves at least 4.
 */
function percentTicks(lo: number, hi: number): { at: number; text: string }[] {
  let best: number[] = [];
  for (const level of TICK_LEVELS) {
    const kept: number[] = [];
    for (const t of level) {
      const l = logitOf(t / 100);
      if (l < lo || l > hi) continue;
      const prev = kept[kept.length - 1];
      if (prev === undefined || l - logitOf(prev / 100) >= 0.08 * (hi - lo)) kept.push(t);
    }
    if (kept.length > best.length) best = kept;
    if (kept.length >= 4) break;
  }
  return best.map((t) => ({ at: logitOf(t / 100), text: String(t) }));
}

/**
 * Accuracy vs accuracy on logit-scaled axes (as Taori et al. plot them), where the baseline fit is a straight
 * line. The axes span the data (points, their intervals, the baseline models) and not more, so points at 85-95%
 * are not squeezed into a corner by a chance line at 12%; chance is drawn only when it falls inside.
 */
export function logitScatterChart(o: LogitScatterOptions): string {
  const width = o.width ?? 760,
    height = o.height ?? 480;
  // An interval reaching 0% or 100% (small sets) is infinite on a logit axis: for the range, each interval end
  // counts at most INTERVAL_REACH logits from its point; beyond that, the bar runs to the plot's edge.
  const ends = (v: number, i: Interval | null | undefined): number[] =>
    i
      ? [i.low, i.high].map((e) =>
          Math.min(logitOf(v) + INTERVAL_REACH, Math.max(logitOf(v) - INTERVAL_REACH, logitOf(e))),
        )
      : [];
  const xs = [
      ...o.baseline.map((p) => logitOf(p.x)),
      ...o.models.flatMap((m) => [logitOf(m.x), ...ends(m.x, m.xInterval)]),
    ],
    ys = [
      ...o.baseline.map((p) => logitOf(p.y)),
      ...o.models.flatMap((m) => [logitOf(m.y), ...ends(m.y, m.yInterval)]),
    ];
  const pad = (a: number[]): [number, number] => {
    if (a.length === 0) return [logitOf(0.05), logitOf(0.95)];
    const lo = Math.min(...a),
      hi = Math.max(...a),
      m = Math.max(0.12, (hi - lo) * 0.08);
    return [lo - m, hi + m];
  };
  const [x0, x1] = pad(xs),
    [y0, y1] = pad(ys);
  const xTicks = percentTicks(x0, x1),
    yTicks = percentTicks(y0, y1);
  const chance = o.chance !== null && o.chance !== undefined && o.chance > 0 && o.chance < 1 ? logitOf(o.chance) : null;
  const series: SeriesOption[] = [];
  const legendItems: { name: string; icon?: string }[] = [];
  const addLegend = (name: string, icon?: string): void => {
    if (!legendItems.some((l) => l.name === name)) legendItems.push(icon ? { name, icon } : { name });
  };
  const lineSeries = (name: string, id: string, color: string, dash: number[], pts: number[][]): SeriesOption => ({
    type: 'line',
    id,
    name,
    data: pts,
    showSymbol: false,
    symbol: 'none',
    silent: true,
    z: 1,
    lineStyle: { color, width: 1.5, type: dash },
    itemStyle: { color },
  });
  const fitName = o.band ? 'baseline fit (band: 95%)' : 'baseline fit';
  if (o.band && o.band.x.length > 1) {
    const b = o.band;
    const poly = [
      ...b.x.map((x, i) => [logitOf(x), logitOf(b.high[i]!)]),
      ...b.x.map((x, i) => [logitOf(x), logitOf(b.low[i]!)]).reverse(),
    ];
    series.push({
      type: 'custom',
      id: 'band',
      name: fitName,
      silent: true,
      z: 0,
      clip: true,
      itemStyle: { color: '#9aa3ad' },
      data: [[0]],
      renderItem: (_p: CustomSeriesRenderItemParams, api: CustomSeriesRenderItemAPI): RenderItemReturn => ({
        type: 'polygon',
        shape: { points: poly.map((q) => api.coord(q)) },
        style: { fill: '#9aa3ad', opacity: 0.25 },
      }),
    });
  }
  if (o.fit) {
    const fit = o.fit;
    series.push(
      lineSeries(
        fitName,
        'fit',
        '#777',
        [6, 4],
        [x0, x1].map((l) => [l, fit.slope * l + fit.intercept]),
      ),
    );
    addLegend(fitName);
  }
  if (o.diagonal) {
    const a = Math.max(x0, y0),
      b = Math.min(x1, y1);
    if (b > a) {
      series.push(
        lineSeries(
          'OOD = ID',
          'diagonal',
          '#444',
          [1, 3],
          [
            [a, a],
            [b, b],
          ],
        ),
      );
      addLegend('OOD = ID');
    }
  }
  if (chance !== null) {
    const chancePct = `chance (${(sigmoid(chance) * 100).toFixed(1)}%)`;
    if (chance >= x0 && chance <= x1)
      series.push(
        lineSeries(
          chancePct,
          'chance-x',
          '#c55',
          [3, 3],
          [
            [chance, y0],
            [chance, y1],
          ],
        ),
      );
    if (chance >= y0 && chance <= y1)
      series.push(
        lineSeries(
          chancePct,
          'chance-y',
          '#c55',
          [3, 3],
          [
            [x0, chance],
            [x1, chance],
          ],
        ),
      );
    if ((chance >= x0 && chance <= x1) || (chance >= y0 && chance <= y1)) addLegend(chancePct);
  }
  if (o.baseline.length) {
    series.push({
      type: 'scatter',
      id: 'baseline',
      name: 'baseline models',
      symbolSize: 7,
      itemStyle: { color: '#9aa3ad' },
      z: 2,
      data: o.baseline.map((p) => ({ value: [logitOf(p.x), logitOf(p.y)], name: p.label ?? '' })),
    });
    addLegend('baseline models', 'circle');
  }
  // Shapes: one per distinct `shape` name, in order of appearance; shown in the legend as grey markers.
  const shapeNames = [...new Set(o.models.flatMap((m) => (m.shape ? [m.shape] : [])))];
  const shapeFor = (m: ScatterModelPoint): Shape => (m.shape ? shapeOf(shapeNames.indexOf(m.shape)) : 'circle');
  const groups = new Map<string, ScatterModelPoint[]>();
  for (const m of o.models) {
    const key = m.series ?? m.label ?? '';
    groups.set(key, [...(groups.get(key) ?? []), m]);
  }
  for (const [name, pts] of groups) {
    const color = pts[0]!.color;
    series.push({
      type: 'scatter',
      id: `point:${name}`,
      name,
      z: 4,
      symbolSize: 11,
      symbol: shapeNames.length ? 'circle' : shapeFor(pts[0]!),
      itemStyle: { color, borderColor: '#fff', borderWidth: 1.2 },
      data: pts.map((p) => ({ value: [logitOf(p.x), logitOf(p.y)], name: p.label ?? name, symbol: shapeFor(p) })),
    });
    addLegend(name, 'circle');
    const bars = pts.filter((p) => p.xInterval || p.yInterval);
    if (bars.length === 0) continue;
    series.push({
      type: 'custom',
      id: `interval:${name}`,
      name,
      z: 3,
      clip: true,
      data: bars.map((p) => [
        logitOf(p.x),
        logitOf(p.y),
        p.xInterval ? logitOf(p.xInterval.low) : NaN,
        p.xInterval ? logitOf(p.xInterval.high) : NaN,
        p.yInterval ? logitOf(p.yInterval.low) : NaN,
        p.yInterval ? logitOf(p.yInterval.high) : NaN,
      ]),
      encode: { x: [0, 2, 3], y: [1, 4, 5] },
      renderItem: (_p: CustomSeriesRenderItemParams, api: CustomSeriesRenderItemAPI): RenderItemReturn => {
        const v = [0, 1, 2, 3, 4, 5].map((i) => api.value(i) as number);
        const c = api.coord([v[0]!, v[1]!]);
        const children: { type: 'line'; shape: object; style: object }[] = [];
        const style = { stroke: color, lineWidth: 1.5 };
        const cap = 4;
        if (Number.isFinite(v[2]) && Number.isFinite(v[3])) {
          const a = api.coord([v[2]!, v[1]!])[0]!,
            b = api.coord([v[3]!, v[1]!])[0]!;
          children.push({ type: 'line', shape: { x1: a, y1: c[1], x2: b, y2: c[1] }, style });
          for (const e of [a, b])
            children.push({ type: 'line', shape: { x1: e, y1: c[1]! - cap, x2: e, y2: c[1]! + cap }, style });
        }
        if (Number.isFinite(v[4]) && Number.isFinite(v[5])) {
          const a = api.coord([v[0]!, v[4]!])[1]!,
            b = api.coord([v[0]!, v[5]!])[1]!;
          children.push({ type: 'line', shape: { x1: c[0], y1: a, x2: c[0], y2: b }, style });
          for (const e of [a, b])
            children.push({ type: 'line', shape: { x1: c[0]! - cap, y1: e, x2: c[0]! + cap, y2: e }, style });
        }
        return { type: 'group', children } as RenderItemReturn;
      },
    });
  }
  // Empty series that only put the shapes into the legend.
  shapeNames.forEach((s, i) => {
    series.push({
      type: 'scatter',
      id: `shape:${s}`,
      name: s,
      symbol: shapeOf(i),
      itemStyle: { color: '#666' },
      data: [],
    });
  });
  const legendWidth = Math.min(
    260,
    Math.max(120, ...[...legendItems.map((l) => l.name), ...shapeNames].map((t) => 30 + textWidth(t, 11))),
  );
  const plotLeft = 64,
    top = 44,
    bottom = 10;
  const plotRight = legendWidth + 28;
  const legendBase = {
    orient: 'vertical' as const,
    right: 8,
    width: legendWidth,
    itemWidth: 16,
    itemHeight: 10,
    itemGap: 7,
    textStyle: { ...LEGEND_TEXT, width: legendWidth - 28, overflow: 'truncate' as const },
  };
  const modelLegendHeight = legendItems.length * 17 + 8;
  const tickWidth = Math.max(24, ...yTicks.map((t) => textWidth(t.text, AXIS_TEXT.fontSize)));
  const pct = (v: number): string => (v * 100).toFixed(1);
  const tips: Tips = {
    baseline: (i) => {
      const p = o.baseline[i];
      return p ? `${p.label ?? 'baseline model'}: ${pct(p.x)}, ${pct(p.y)}` : null;
    },
  };
  for (const [name, pts] of groups)
    tips[`point:${name}`] = (i) => {
      const p = pts[i];
      if (!p) return null;
      const id = `${pct(p.x)}${intervalText(p.xInterval, pct)}`,
        ood = `${pct(p.y)}${intervalText(p.yInterval, pct)}`;
      return `${p.label ?? name}: ID ${id}, OOD ${ood} (%)`;
    };
  return render(
    {
      title: { text: o.title, left: plotLeft, top: 6, textStyle: TITLE_STYLE },
      legend: [
        { ...legendBase, top, data: legendItems },
        ...(shapeNames.length
          ? [{ ...legendBase, top: top + modelLegendHeight + 8, data: shapeNames.map((name) => ({ name })) }]
          : []),
      ],
      grid: { left: plotLeft, right: plotRight, top, bottom, outerBoundsMode: 'same' },
      xAxis: {
        type: 'value',
        min: x0,
        max: x1,
        name: o.xLabel,
        nameLocation: 'middle',
        nameGap: 30,
        nameTextStyle: AXIS_TEXT,
        axisLine: { onZero: false, lineStyle: { color: '#888' } },
        axisTick: { customValues: xTicks.map((t) => t.at) },
        axisLabel: { ...AXIS_TEXT, customValues: xTicks.map((t) => t.at), formatter: tickText(xTicks) },
        splitLine: { show: false },
      },
      yAxis: {
        type: 'value',
        min: y0,
        max: y1,
        name: o.yLabel,
        nameLocation: 'middle',
        nameGap: tickWidth + 14,
        nameTextStyle: AXIS_TEXT,
        axisLine: { onZero: false, lineStyle: { color: '#888' } },
        axisTick: { customValues: yTicks.map((t) => t.at) },
        axisLabel: { ...AXIS_TEXT, customValues: yTicks.map((t) => t.at), formatter: tickText(yTicks) },
        splitLine: { show: false },
      },
      series: [...gridLines(xTicks, yTicks, [x0, x1], [y0, y1]), ...series],
    },
    width,
    height,
    o.title,
    tips,
  );
}

function tickText(ticks: { at: number; text: string }[]): (v: number) => string {
  return (v: number) => ticks.find((t) => Math.abs(t.at - v) < 1e-9)?.text ?? '';
}

/** Grid lines at the (uneven) percent ticks: ECharts draws split lines only at evenly spaced ticks. */
function gridLines(
  xTicks: { at: number }[],
  yTicks: { at: number }[],
  [x0, x1]: [number, number],
  [y0, y1]: [number, number],
): SeriesOption[] {
  const pts = [
    ...xTicks.flatMap((t) => [
      [t.at, y0],
      [t.at, y1],
      [Number.NaN, Number.NaN],
    ]),
    ...yTicks.flatMap((t) => [
      [x0, t.at],
      [x1, t.at],
      [Number.NaN, Number.NaN],
    ]),
  ];
  return [
    {
      type: 'line',
      id: 'grid',
      silent: true,
      symbol: 'none',
      z: 0,
      connectNulls: false,
      lineStyle: { color: '#e4e4e4', width: 1 },
      data: pts.map((p) => (Number.isNaN(p[0]) ? '-' : p)) as (number[] | '-')[],
    } as SeriesOption,
  ];
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
  const width = o.width ?? 1000;
  const rowH = 40,
    top = 44,
    bottom = 12;
  // Below the rows: the tick labels and the axis name (about 44 px), which ECharts keeps inside the grid's bounds.
  const height = top + bottom + 44 + rowH * Math.max(1, o.boxes.length);
  const values = o.boxes.flatMap((b) => [b.p10, b.p90, b.mean]).filter((v) => Number.isFinite(v));
  const ticks = niceTicks(0, Math.max(1e-9, ...values));
  const hi = ticks[ticks.length - 1]!;
  const labelWidth = Math.max(60, ...o.boxes.map((b) => textWidth(b.label, 12)));
  const ok = (b: QuantileBox): boolean => [b.p10, b.p25, b.median, b.p75, b.p90].every(Number.isFinite);
  return render(
    {
      title: { text: o.title, left: labelWidth + 24, top: 6, textStyle: TITLE_STYLE },
      grid: { left: labelWidth + 24, right: 24, top, bottom, outerBoundsMode: 'same' },
      xAxis: {
        type: 'value',
        min: 0,
        max: hi,
        interval: ticks.length > 1 ? ticks[1]! - ticks[0]! : hi,
        name: o.xLabel,
        nameLocation: 'middle',
        nameGap: 28,
        nameTextStyle: AXIS_TEXT,
        axisLabel: { ...AXIS_TEXT, formatter: (v: number) => o.format(v) },
        splitLine: { lineStyle: { color: '#e2e2e2' } },
      },
      yAxis: {
        type: 'category',
        inverse: true,
        data: o.boxes.map((b) => b.label),
        axisTick: { show: false },
        axisLabel: { fontSize: 12, color: '#222' },
      },
      series: [
        {
          type: 'boxplot',
          id: 'boxes',
          layout: 'horizontal',
          boxWidth: [12, 22],
          data: o.boxes.map((b) => ({
            value: ok(b) ? [b.p10, b.p25, b.median, b.p75, b.p90] : [],
            itemStyle: { color: `${b.color}59`, borderColor: b.color, borderWidth: 1.5 },
          })),
        },
        {
          type: 'scatter',
          id: 'means',
          symbolSize: 7,
          itemStyle: { color: '#fff', borderColor: '#222', borderWidth: 1 },
          data: o.boxes.flatMap((b, i) => (ok(b) && Number.isFinite(b.mean) ? [[b.mean, i]] : [])),
        },
      ],
    },
    width,
    height,
    o.title,
    {
      boxes: (i) => {
        const b = o.boxes[i];
        if (!b) return null;
        return (
          `${b.label}: p10 ${o.format(b.p10)}, p25 ${o.format(b.p25)}, median ${o.format(b.median)}, ` +
          `p75 ${o.format(b.p75)}, p90 ${o.format(b.p90)}, mean ${o.format(b.mean)}`
        );
      },
    },
  );
}
