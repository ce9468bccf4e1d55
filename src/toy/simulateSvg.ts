/**
 * The synthetic experiment's figure as one self-contained SVG (no scripts, fonts or links): per run a row of
 * two panels, as the paper's Figure: ID vs OOD loss, and the mean neuron weight norm along the core vs the
 * background directions over iterations (the paper calls this quantity "feature correlation"; it is a norm,
 * not a correlation, and exceeds 1). Those panels share one y-axis across rows so a flat linear-network curve
 * reads as flat next to the ReLU one.
 */
import type { SimulationRecord } from './simulation.js';
import { escapeXml, niceTicks } from '../report/svgCharts.js';

export interface SimulationFigureInput {
  options: { iterations: number; loss: string; optimizer: string; data: { coreMode: string } };
  runs: { activation: string; records: SimulationRecord[] }[];
}

interface Series {
  name: string;
  color: string;
  dash?: string;
  points: [number, number][];
}

const FONT = 'font-family="Helvetica, Arial, sans-serif"';
const PANEL_W = 420,
  PANEL_H = 266,
  MARGIN = { l: 62, r: 16, t: 50, b: 46 },
  GAP = 30;

function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1000) return `${v / 1000}k`;
  return Number(v.toPrecision(3)).toString();
}

function panel(
  x0: number,
  y0: number,
  title: string,
  yLabel: string,
  xMax: number,
  yMax: number,
  series: Series[],
): string {
  const w = PANEL_W - MARGIN.l - MARGIN.r,
    h = PANEL_H - MARGIN.t - MARGIN.b;
  const px = x0 + MARGIN.l,
    py = y0 + MARGIN.t;
  const xTicks = niceTicks(0, xMax, 4),
    yTicks = niceTicks(0, yMax, 5);
  const xHi = xTicks[xTicks.length - 1]!,
    yHi = yTicks[yTicks.length - 1]!;
  const sx = (v: number): number => px + (xHi > 0 ? (v / xHi) * w : 0);
  const sy = (v: number): number => py + h - (yHi > 0 ? (v / yHi) * h : 0);
  const out: string[] = [];
  out.push(
    `<text x="${px + w / 2}" y="${y0 + 20}" text-anchor="middle" font-size="14" font-weight="bold" ` +
      `${FONT}>${escapeXml(title)}</text>`,
  );
  for (const t of yTicks) {
    out.push(`<line x1="${px}" x2="${px + w}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}" stroke="#e3e3e3"/>`);
    out.push(
      `<text x="${px - 6}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end" font-size="11" ${FONT}>${fmt(t)}</text>`,
    );
  }
  for (const t of xTicks) {
    out.push(`<line x1="${sx(t).toFixed(1)}" x2="${sx(t).toFixed(1)}" y1="${py}" y2="${py + h}" stroke="#efefef"/>`);
    out.push(
      `<text x="${sx(t).toFixed(1)}" y="${py + h + 16}" text-anchor="middle" font-size="11" ${FONT}>${fmt(t)}</text>`,
    );
  }
  out.push(`<rect x="${px}" y="${py}" width="${w}" height="${h}" fill="none" stroke="#444"/>`);
  out.push(`<text x="${px + w / 2}" y="${py + h + 36}" text-anchor="middle" font-size="12" ${FONT}>iterations</text>`);
  out.push(
    `<text transform="translate(${x0 + 16},${py + h / 2}) rotate(-90)" text-anchor="middle" font-size="12" ` +
      `${FONT}>${escapeXml(yLabel)}</text>`,
  );
  for (const s of series) {
    const d = s.points
      .filter(([, y]) => Number.isFinite(y))
      .map(([x, y], i) => `${i ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(Math.min(y, yHi)).toFixed(1)}`)
      .join('');
    out.push(
      `<path d="${d}" fill="none" stroke="${s.color}" ` +
        `stroke-width="2.5"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
    );
  }
  // Legend in one row between the title and the plot, where no curve can hide it.
  let lx = px;
  for (const s of series) {
    const ly = y0 + 38;
    out.push(
      `<line x1="${lx}" x2="${lx + 22}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" ` +
        `stroke-width="2.5"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
    );
    out.push(`<text x="${lx + 28}" y="${ly}" font-size="12" ${FONT}>${escapeXml(s.name)}</text>`);
    lx += 40 + 7 * s.name.length;
  }
  return out.join('\n');
}

function runLabel(activation: string): string {
  return activation === 'none' ? 'linear network (no activation)' : `${activation} network`;
}

export function renderSimulationSvg(result: SimulationFigureInput): string {
  const xMax = Math.max(1, result.options.iterations);
  const rows = result.runs.length;
  const width = 2 * PANEL_W + GAP;
  const height = 40 + rows * PANEL_H;
  const maxOf = (f: (r: SimulationRecord) => number): number =>
    Math.max(1e-9, ...result.runs.flatMap((run) => run.records.map(f).filter(Number.isFinite)));
  const corrMax = Math.max(
    maxOf((r) => r.coreWeightNorm),
    maxOf((r) => r.backgroundWeightNorm),
  );
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
  );
  parts.push(`<rect width="${width}" height="${height}" fill="#fff"/>`);
  const o = result.options;
  parts.push(
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" ${FONT}>${escapeXml(
      `Structured feature model (${o.data.coreMode} core): ${o.loss} loss, ${o.optimizer}`,
    )}</text>`,
  );
  result.runs.forEach((run, k) => {
    const y0 = 34 + k * PANEL_H;
    const xs = run.records.map((r) => r.iteration);
    const pts = (f: (r: SimulationRecord) => number): [number, number][] => run.records.map((r, i) => [xs[i]!, f(r)]);
    const lossMax = Math.max(1e-9, ...run.records.flatMap((r) => [r.idLoss, r.oodLoss]).filter(Number.isFinite));
    parts.push(
      panel(0, y0, `${runLabel(run.activation)}: loss`, 'loss', xMax, lossMax, [
        { name: 'ID loss', color: '#1f77b4', points: pts((r) => r.idLoss) },
        { name: 'OOD loss', color: '#ff7f0e', points: pts((r) => r.oodLoss) },
      ]),
    );
    parts.push(
      panel(
        PANEL_W + GAP,
        y0,
        `${runLabel(run.activation)}: weight norm (paper: "feature correlation")`,
        'mean neuron weight norm',
        xMax,
        corrMax,
        [
          { name: 'core', color: '#2ca02c', points: pts((r) => r.coreWeightNorm) },
          { name: 'background', color: '#d62728', points: pts((r) => r.backgroundWeightNorm) },
        ],
      ),
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
