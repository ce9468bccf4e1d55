/**
 * `npm run bench`: every benchmark of issue 7 in one run, one table on the terminal, and
 * bench/results/<date>-<host>.json with the machine, versions, each figure's min/median/max and the commands.
 *
 *   node dist/bench/run.js [--quick] [--only gemm,ceiling,decode,e2e,memory,probe,simulate] [--skip ...]
 *     [--out file.json]
 *
 * Full run: ~15-20 min on 2 cores. --quick: a few minutes (fewer batch sizes and images, small probe).
 */
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, hostname, loadavg, totalmem, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import sharp from 'sharp';
import { spread, type Stats, stopChildrenOnSignal, trackChild } from '../src/bench/bench.js';
import { lastResort } from '../src/cli/run-command.js';
import { FcprobeError } from '../src/errors.js';
import { ensureWritableDir } from '../src/io/atomic.js';
import { fromSystemError } from '../src/io/sysError.js';
import { ratioVerdict } from '../src/bench/diagnose.js';
import { FCPROBE_VERSION } from '../src/version.js';
import { FULL, QUICK, runExtractBench, type ExtractBenchResult, type ExtractPart } from './extract.js';
import { measureGemmRate, type GemmRate } from './gemm.js';

const PARTS = ['gemm', 'ceiling', 'decode', 'e2e', 'memory', 'probe', 'simulate'] as const;
type Part = (typeof PARTS)[number];
const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = join(HERE, '..', '..');

/** The parts named by --only/--skip; an unknown one is a usage error (exit 2), never a stack trace. */
function listArg(name: string): string[] | null {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return null;
  const text = process.argv[i + 1] ?? '';
  const v = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const p of v)
    if (!(PARTS as readonly string[]).includes(p))
      throw new FcprobeError(
        'BAD_OPTION',
        `Expected --${name} to be a comma-separated list of parts (${PARTS.join(', ')}), got ${JSON.stringify(text)}.`,
      );
  return v;
}

/**
 * Where the results go (see USAGE), decided and checked before anything is measured: a bad --out (a file
 * given as a folder, /proc, a read-only disk) used to fail only after the whole run, losing its figures.
 */
function resultPath(started: Date): string {
  const outArg = process.argv.lastIndexOf('--out');
  const outValue = outArg >= 0 ? (process.argv[outArg + 1] ?? '') : '';
  // Checked before anything is measured (a bad --out used to lose the figures after the runs).
  const out = resolve(resultsPath(outValue, started, hostname(), RESULTS_DIR));
  ensureWritableDir(dirname(out));
  return out;
}

/** Writes the results; when `out` cannot be written after all, they go to the temporary folder instead. */
function saveResults(out: string, text: string): void {
  try {
    writeFileSync(out, text);
  } catch (e) {
    const fallback = join(tmpdir(), basename(out));
    writeFileSync(fallback, text);
    const mapped = fromSystemError(e, out, 'writing');
    const why = mapped instanceof FcprobeError ? mapped.message : String(e);
    throw new FcprobeError('IO', `${why} The figures were saved to ${fallback}.`);
  }
}

export function machineInfo(): Record<string, unknown> {
  let gpu: string | null = null;
  try {
    gpu =
      execFileSync('nvidia-smi', ['--query-gpu=name,memory.total,driver_version', '--format=csv,noheader'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim() || null;
  } catch {
    gpu = null;
  }
  return {
    host: hostname(),
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: +(totalmem() / 2 ** 30).toFixed(1),
    gpu: gpu ?? 'none',
    os: `${process.platform} ${process.arch}`,
  };
}

interface ScriptResult {
  command: string;
  seconds: number;
  exitCode: number | null;
  json: unknown;
  outputTail: string;
}

/** Runs another helper's benchmark script; it may write JSON to the path given with --json. */
async function runScript(
  script: string,
  args: string[],
  log: (s: string) => void,
): Promise<ScriptResult | { command: string; note: string }> {
  const path = join(HERE, script);
  const command = `node dist/bench/${script} ${args.join(' ')}`.trim();
  if (!existsSync(path)) return { command, note: `not run (dist/bench/${script} not built)` };
  const jsonFile = join(tmpdir(), `fcprobe-bench-${process.pid}-${script}.json`);
  log(`running ${command}`);
  const t = performance.now();
  const { code, out } = await new Promise<{ code: number | null; out: string }>((res) => {
    const child = spawn(process.execPath, [path, ...args, '--json', jsonFile], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    trackChild(child);
    let o = '';
    child.stdout.on('data', (d: Buffer) => {
      o += d.toString();
      process.stderr.write(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      o += d.toString();
    });
    child.on('close', (c) => res({ code: c, out: o }));
  });
  const seconds = (performance.now() - t) / 1000;
  let json: unknown = null;
  if (existsSync(jsonFile)) {
    json = JSON.parse(readFileSync(jsonFile, 'utf8'));
    rmSync(jsonFile);
  }
  return { command, seconds, exitCode: code, json, outputTail: out.split('\n').slice(-40).join('\n') };
}

const fmt = (x: number, d = 1): string => (Number.isFinite(x) ? x.toFixed(d) : '-');
const range = (s: Stats, d = 1): string => `${fmt(s.min, d)}-${fmt(s.max, d)} (${(100 * spread(s)).toFixed(0)}%)`;

export function renderTable(gemm: GemmRate | null, x: ExtractBenchResult | null): string {
  const rows: string[][] = [['figure', 'median', 'min-max (spread)', 'unit', 'note']];
  if (gemm)
    rows.push([
      `GEMM ${gemm.size}^3 (onnxruntime, all cores)`,
      fmt(gemm.gflops.median),
      range(gemm.gflops),
      'GFLOP/s',
      `best ${fmt(gemm.gflops.max)}`,
    ]);
  for (const c of x?.ceiling ?? []) {
    const label = `ceiling ${c.model} ${c.provider} batch ${c.batch}`;
    if (!c.imagesPerSecond) {
      rows.push([label, '-', '-', 'img/s', c.note ?? '']);
      continue;
    }
    // Load only ever lowers a rate, so the best GEMM run is the machine's figure. Convolutions can beat it
    // (onnxruntime's conv kernels pack and block better than one large GEMM; fused ops count FLOPs they skip):
    // a ratio above 100% would read as an error, so it is replaced by a plain statement and a footnote.
    const ratio = gemm && c.provider === 'cpu' ? c.achievedGflops! / gemm.gflops.max : null;
    const ofGemm =
      ratio === null ? '' : ratio <= 1 ? `, ${fmt(100 * ratio, 0)}% of best GEMM` : ', faster than the GEMM probe (*)';
    rows.push([
      label,
      fmt(c.imagesPerSecond.median, 2),
      range(c.imagesPerSecond, 2),
      'img/s',
      `${fmt(c.flopsPerImage / 1e9, 2)} GFLOP/img -> ${fmt(c.achievedGflops!)} GFLOP/s${ofGemm}`,
    ]);
  }
  if (x?.decode)
    rows.push([
      `decode ${x.decode.imageSize} (concurrency ${x.decode.concurrency})`,
      fmt(x.decode.imagesPerSecond.median),
      range(x.decode.imagesPerSecond),
      'img/s',
      'decode+resize+crop+normalize',
    ]);
  for (const e of x?.endToEnd ?? []) {
    const v = ratioVerdict(e.ratio, e.target);
    const rerun = e.ceilingRerun != null ? ' after one rerun' : '';
    const limits = `ceiling ${fmt(e.ceiling, 2)}${rerun}, decode ${fmt(e.decode)}`;
    rows.push([
      `extract ${e.model} ${e.provider} (${e.images} img, batch ${e.batch})`,
      fmt(e.imagesPerSecond.median, 2),
      range(e.imagesPerSecond, 2),
      'img/s',
      `${v.text.replace('min(ceiling, decode)', `min(${limits})`)}; ` +
        `wall ${fmt(e.wallImagesPerSecond.median, 2)} img/s; peak RSS ${fmt(e.peakRssMiB.median, 0)} MiB`,
    ]);
  }
  for (const m of x?.memory ?? []) {
    rows.push([
      `extract peak RSS, ${m.images} images (tiny model)`,
      fmt(m.peakRssMiB.median, 0),
      range(m.peakRssMiB, 0),
      'MiB',
      `${fmt(m.imagesPerSecond.median)} img/s`,
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const footnote = rows.some((r) => r[4]!.endsWith('(*)'))
    ? "\n(*) The model runs at more GFLOP/s than the 2048^3 GEMM probe: onnxruntime's convolution kernels reuse data " +
      'in\n    cache better than one large GEMM, and fused operators skip FLOPs the graph count includes. The GEMM ' +
      'rate is a\n    reference, not a ceiling, so no percentage is given.'
    : '';
  return (
    rows
      .map((r, j) => {
        const line = r
          .map((c, i) => (i === 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
          .join('  ')
          .trimEnd();
        return j === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
      })
      .join('\n') + footnote
  );
}

/** bench/results/ of the checkout this script belongs to (dist/bench/run.js -> bench/results/). */
export const RESULTS_DIR = fileURLToPath(new URL('../../bench/results/', import.meta.url));

/**
 * Where the results JSON goes: `--out` as a file, or `fcprobe-bench-<date>-<host>.json` in `--out` as a folder
 * (ending in / or existing), by default in `resultsDir`, never the current folder: a bench run from the
 * repository root left its JSON among the tracked files. An existing dated file gets -<hhmmss> appended.
 */
export function resultsPath(outValue: string, started: Date, host: string, resultsDir: string): string {
  const folder =
    outValue === '' || outValue.endsWith('/') || (existsSync(outValue) && statSync(outValue).isDirectory());
  if (!folder) return outValue;
  const dated = join(
    resolve(outValue || resultsDir),
    `fcprobe-bench-${started.toISOString().slice(0, 10)}-${host}.json`,
  );
  return existsSync(dated)
    ? dated.replace(/\.json$/, `-${started.toISOString().slice(11, 19).replace(/:/g, '')}.json`)
    : dated;
}

const USAGE = `Usage: npm run bench -- [--quick] [--only <parts>] [--skip <parts>] [--out file.json]
  parts: ${PARTS.join(', ')} (comma-separated)
  --quick  a few minutes: fewer batch sizes and images, small probe problem
  --out    a .json file, or a folder (ending in /) for fcprobe-bench-<date>-<host>.json; default: bench/results/
           of this checkout (-<hhmmss> appended when that file exists; ignored by git: add -f what you keep).
  full run: ~15-20 min on 2 idle cores`;

/** Rejects what it does not know, so that a typo (or --help) never starts a 20-minute run. */
function checkArgs(argv: string[]): void {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    if (a === '--quick' || a === '--debug') continue;
    if (a === '--only' || a === '--skip' || a === '--out') {
      i++;
      continue;
    }
    process.stderr.write(`bench: unknown argument ${JSON.stringify(a)}\n${USAGE}\n`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  checkArgs(process.argv.slice(2));
  stopChildrenOnSignal();
  const quick = process.argv.includes('--quick');
  const only = listArg('only');
  const skip = new Set(listArg('skip') ?? []);
  const parts = new Set<Part>((only ?? [...PARTS]).filter((p) => !skip.has(p)) as Part[]);
  const log = (s: string): void => {
    process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
  };
  const started = new Date();
  const out = resultPath(started);
  const load0 = loadavg();
  if (load0[0]! > cpus().length * 0.5)
    log(`warning: load average ${load0[0]!.toFixed(1)} on ${cpus().length} cores: other work will distort the figures`);

  if (parts.has('gemm')) log('GEMM rate');
  const gemm = parts.has('gemm') ? await measureGemmRate(2048, 5) : null;
  const xParts = new Set([...parts].filter((p) => ['ceiling', 'decode', 'e2e', 'memory'].includes(p)) as ExtractPart[]);
  const extract = xParts.size ? await runExtractBench(quick ? QUICK : FULL, xParts, log) : null;
  const probe = parts.has('probe') ? await runScript('probe.js', ['--size', quick ? 'small' : 'all'], log) : null;
  const simulate = parts.has('simulate')
    ? await runScript('simulate.js', quick ? ['--iterations', '2000'] : [], log)
    : null;

  const table = renderTable(gemm, extract);
  process.stdout.write(`\n${table}\n`);
  for (const [name, r] of [
    ['probe', probe],
    ['simulate', simulate],
  ] as const) {
    if (!r) continue;
    if ('note' in r) process.stdout.write(`\n${name}: ${r.note}\n`);
    else
      process.stdout.write(
        `\n${name} (${r.command}: ${r.seconds.toFixed(1)} s, exit ${r.exitCode}):\n${r.outputTail.trim()}\n`,
      );
  }
  const load1 = loadavg();
  const result = {
    fcprobeBenchFormat: 1,
    date: started.toISOString(),
    seconds: (Date.now() - started.getTime()) / 1000,
    mode: quick ? 'quick' : 'full',
    parts: [...parts],
    machine: machineInfo(),
    loadAverage: { start: load0, end: load1 },
    versions: {
      fcprobe: FCPROBE_VERSION,
      node: process.version,
      onnxruntime: ort.env.versions.common,
      sharp: sharp.versions.sharp,
      libvips: sharp.versions.vips,
    },
    command: `node dist/bench/run.js ${process.argv.slice(2).join(' ')}`.trim(),
    gemm,
    extract,
    probe,
    simulate,
    table,
  };
  saveResults(out, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(
    `\nload average ${load0.map((l) => l.toFixed(1)).join(' ')} at start, ` +
      `${load1.map((l) => l.toFixed(1)).join(' ')} at end; ${result.seconds.toFixed(0)} s in all.\nwrote ${out}\n`,
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // The CLI's error handler: user errors print one line with their exit code, a bug one line asking for a
  // report (the stack only with --debug), as for every fcprobe command.
  const debug = process.argv.includes('--debug');
  process.on('uncaughtException', (e) => lastResort(e, debug));
  process.on('unhandledRejection', (e) => lastResort(e, debug));
  try {
    await main();
  } catch (e) {
    lastResort(e, debug);
  }
}
