/**
 * Helpers of the browser test (report-browser.test.ts) and of scripts/screenshots.mjs: real `fcprobe run`s on
 * generated colour images, and headless Chromium driven from the command line (no npm dependency): a copy of a
 * page with a script that measures it and writes its findings into the DOM, read back with --dump-dom.
 * Loaded on its own (the test runner loads every file under dist/test/) it does nothing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unescapeXml } from '../../src/report/svgCharts.js';
import { CLI, linearEncoder, makeColourSet, writeModel } from '../helpers/fixtures.js';

/** The first Chromium on PATH (Debian's `chromium`, or another distribution's name for it); null when none. */
export function findChromium(): string | null {
  for (const name of ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']) {
    const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  return null;
}

function fcprobe(args: string[]): void {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`fcprobe ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
}

/** Linear students: fixed mixings of the colour channels, each a different distance from the teacher's. */
const STUDENTS: Record<string, number[][]> = {
  s1: [
    [1, 0.5, 0],
    [0, 1, 0.5],
    [0.2, 0.2, 1],
  ],
  s2: [
    [1, 1, 0],
    [0, 1, 1],
    [1, 0, 0.3],
  ],
};

export interface Runs {
  dir: string;
  /** Work dirs of the runs, in the order made. */
  work: string[];
}

/**
 * Three finished runs over the same sets (ID train split into train and test, two OOD sets): the first with
 * the teacher and both students, the others with fewer students and other seeds, so a compare has several
 * runs, models and marker shapes.
 */
export async function makeRuns(): Promise<Runs> {
  const dir = mkdtempSync(join(tmpdir(), 'fcprobe-browser-'));
  const classes = ['a', 'b', 'c'];
  const look = { lean: 40, noise: 90, size: 12 };
  await makeColourSet(join(dir, 'train'), classes, 16, 1, 0.2, look);
  await makeColourSet(join(dir, 'shift'), classes, 12, 2, 1, look);
  await makeColourSet(join(dir, 'noisy'), classes, 12, 3, 0.4, { ...look, noise: 160 });
  writeModel(
    join(dir, 'teacher.onnx'),
    linearEncoder(
      [
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
        [1, 1, 1],
      ],
      null,
    ),
  );
  for (const [name, w] of Object.entries(STUDENTS)) writeModel(join(dir, `${name}.onnx`), linearEncoder(w, null));
  const plans = [
    { students: ['s1', 's2'], seed: 1 },
    { students: ['s1'], seed: 2 },
    { students: ['s2', 's1'], seed: 3 },
  ];
  const work: string[] = [];
  for (const [i, p] of plans.entries()) {
    const w = join(dir, `run-${String.fromCharCode(97 + i)}`);
    fcprobe(
      ['run', '--teacher', join(dir, 'teacher.onnx'), '--student', ...p.students.map((s) => join(dir, `${s}.onnx`))]
        .concat(['--train', join(dir, 'train'), '--split', '0.4', '--ood', join(dir, 'shift'), join(dir, 'noisy')])
        .concat(['--work', w, '--seed', String(p.seed), '--preset', 'torchvision', '--bootstrap', '100', '-q']),
    );
    work.push(w);
  }
  return { dir, work };
}

/** The repository's root (pages.js runs from dist/test/browser/). */
export const REPO_ROOT = new URL('../../../', import.meta.url).pathname;

/** The PACS example's committed report (docs/examples/pacs/run.sh --update makes it; it needs real data). */
export const PACS_REPORT = join(REPO_ROOT, 'docs', 'examples', 'pacs', 'report.html');

/**
 * `fcprobe demo` into `dir` (its data, models and work folders), in a child process so that other set-up can run
 * beside it; resolves to the demo's report.html. `iterations` shortens the students' distillation (the default
 * 2,000 steps take about a minute on 2 cores, 300 about 25 s); the report has the same sections either way.
 */
export function runDemo(dir: string, iterations?: number): Promise<string> {
  const args = [CLI, 'demo', '--data', join(dir, 'data'), '--models', join(dir, 'models'), '--work', join(dir, 'work')];
  if (iterations !== undefined) args.push('--iterations', String(iterations));
  args.push('-q');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(join(dir, 'work', 'report.html'))
        : reject(new Error(`fcprobe demo failed (${code}): ${err}`)),
    );
  });
}

/** `fcprobe report <work> --format html --out <out>`; returns the report's path. */
export function reportHtml(work: string, out: string): string {
  mkdirSync(out, { recursive: true });
  fcprobe(['report', work, '--format', 'html', '--out', out]);
  return join(out, 'report.html');
}

/** `fcprobe compare <works...> --out <out>`; returns compare.html's path. */
export function compareHtml(works: string[], out: string): string {
  mkdirSync(out, { recursive: true });
  fcprobe(['compare', ...works, '--out', out]);
  return join(out, 'compare.html');
}

/** What the injected script measured in the rendered page. */
export interface PageFindings {
  viewportWidth: number;
  scrollWidth: number;
  scrollHeight: number;
  /** Right edge of every table, in px from the page's left. */
  tableRights: number[];
  charts: {
    title: string;
    /** Visible <text> elements. */
    texts: number;
    /** Pairs of visible texts whose boxes intersect by more than 1 px both ways. */
    overlaps: [string, string][];
    /** Texts whose box leaves the chart's <svg>. */
    outside: string[];
    /** Per `data-series` (legend entries excluded): elements drawn with a size, and their distinct data indices. */
    series: Record<string, { drawn: number; items: number }>;
  }[];
  /** Errors the page raised or logged (window error events, console.error, Chromium's console log). */
  errors: string[];
}

/** Collects errors before anything else in the page runs. */
const HEAD_SCRIPT = `<script>
window.__fcErrors = [];
addEventListener('error', (e) => window.__fcErrors.push(String(e.message || (e.target && e.target.outerHTML))), true);
const __fcError = console.error.bind(console);
console.error = (...a) => { window.__fcErrors.push(a.map(String).join(' ')); __fcError(...a); };
</script>`;

/** Measures the laid-out page and writes the findings into <pre id="fc-findings">. */
const BODY_SCRIPT = `<script>
(() => {
  const visible = (el) => {
    const s = getComputedStyle(el);
    return s.display !== 'none' && s.visibility !== 'hidden' && Number(s.opacity) > 0;
  };
  const out = {
    viewportWidth: innerWidth,
    scrollWidth: document.documentElement.scrollWidth,
    scrollHeight: document.documentElement.scrollHeight,
    tableRights: [...document.querySelectorAll('table')].map((t) => t.getBoundingClientRect().right),
    charts: [],
    errors: window.__fcErrors,
  };
  for (const svg of document.querySelectorAll('svg')) {
    const box = svg.getBoundingClientRect();
    const texts = [...svg.querySelectorAll('text')]
      .filter((t) => t.textContent.trim() !== '' && visible(t))
      .map((t) => ({ text: t.textContent, r: t.getBoundingClientRect() }));
    const overlaps = [];
    for (let i = 0; i < texts.length; i++)
      for (let j = i + 1; j < texts.length; j++) {
        const a = texts[i].r, b = texts[j].r;
        const ox = Math.min(a.right, b.right) - Math.max(a.left, b.left);
        const oy = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (ox > 1 && oy > 1) overlaps.push([texts[i].text, texts[j].text]);
      }
    const outside = texts
      .filter(({ r }) => r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.top < box.top - 0.5 ||
        r.bottom > box.bottom + 0.5)
      .map((t) => t.text);
    const series = {};
    for (const el of svg.querySelectorAll('[data-series]:not([ecmeta_ssr_type="legend"])')) {
      const r = el.getBoundingClientRect();
      if (!(r.width > 0 || r.height > 0) || !visible(el)) continue;
      const s = (series[el.getAttribute('data-series')] ??= { drawn: 0, items: new Set() });
      s.drawn++;
      s.items.add(el.getAttribute('ecmeta_data_index'));
    }
    for (const k of Object.keys(series)) series[k].items = series[k].items.size;
    out.charts.push({ title: svg.getAttribute('aria-label') || '', texts: texts.length, overlaps, outside, series });
  }
  const pre = document.createElement('pre');
  pre.id = 'fc-findings';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>`;

/**
 * Opens a copy of `htmlPath` (with the measuring scripts) in headless Chromium at `width` px and returns what
 * the scripts found, plus every console message Chromium logged (the page has no script of its own, so any is
 * a finding).
 */
export function inspectPage(chromium: string, htmlPath: string, width = 1400): PageFindings {
  const work = mkdtempSync(join(tmpdir(), 'fcprobe-chromium-'));
  const html = readFileSync(htmlPath, 'utf8')
    .replace('<head>', `<head>\n${HEAD_SCRIPT}`)
    .replace('</body>', `${BODY_SCRIPT}\n</body>`);
  const copy = join(work, 'page.html');
  writeFileSync(copy, html);
  const r = spawnSync(
    chromium,
    [...chromiumFlags(work, width, 900), '--dump-dom', '--enable-logging=stderr', '--v=0', `file://${copy}`],
    { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
  );
  const m = /<pre id="fc-findings">([\s\S]*?)<\/pre>/.exec(r.stdout ?? '');
  if (!m) throw new Error(`Chromium gave no findings (status ${r.status}): ${(r.stderr ?? '').slice(-2000)}`);
  const findings = JSON.parse(unescapeXml(m[1]!)) as PageFindings;
  const consoleLines = (r.stderr ?? '').split('\n').filter((l) => /:CONSOLE\(\d+\)\]/.test(l));
  findings.errors.push(...consoleLines);
  return findings;
}

/** Screenshot of the top `height` px of a page at `width` px, scaled by `scale` (smaller PNGs). */
export function screenshot(chromium: string, htmlPath: string, png: string, width: number, height: number, scale = 1) {
  const work = mkdtempSync(join(tmpdir(), 'fcprobe-chromium-'));
  const r = spawnSync(
    chromium,
    [
      ...chromiumFlags(work, width, height),
      `--force-device-scale-factor=${scale}`,
      `--screenshot=${png}`,
      `file://${htmlPath}`,
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  if (r.status !== 0) throw new Error(`Chromium screenshot failed (${r.status}): ${r.stderr}`);
}

function chromiumFlags(profile: string, width: number, height: number): string[] {
  // A profile of its own: several Chromiums (other tests, other users of the machine) may run at once.
  return [
    '--headless=new',
    '--no-sandbox',
    '--disable-gpu',
    '--hide-scrollbars',
    '--no-first-run',
    `--user-data-dir=${profile}`,
    `--window-size=${width},${height}`,
  ];
}
