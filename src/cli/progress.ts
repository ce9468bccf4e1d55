/**
 * Progress on stderr: a live line on a TTY, a plain line every `intervalSeconds` otherwise (logs, CI, Slurm),
 * nothing when quiet. Labels and messages carry file and model names: they go through forTerminal before the
 * reporter adds its own control sequences (\r, erase line).
 */
import { isAbsolute, relative } from 'node:path';
import { forTerminal } from '../io/terminal.js';

export interface ProgressReporter {
  update(done: number, total: number, extra: string): void;
  done(): void;
}

/** A warning line: it says a number may be wrong, so --quiet does not silence it. */
export function isWarning(message: string): boolean {
  // Also said with -q: a provider fallback (the numbers come from another device than asked) and a lock taken
  // over from a process shown gone (fcprobe acted on a folder another process had claimed).
  return (
    /^warning:/i.test(message) ||
    /^Execution provider \S+ not used/.test(message) ||
    /^Took over the lock/.test(message)
  );
}

/**
 * Prints a command's notices on stderr, one a line. With --quiet only warnings are said; the informational
 * lines (`preprocessing of ...`, `Resuming ...`) go quiet, as -q promises.
 */
export function noticePrinter(quiet: boolean | undefined, stream: { write(s: string): unknown } = process.stderr) {
  return (message: string): void => {
    // Names in notices come from files and servers: escaped and redacted (io/terminal.ts).
    if (!quiet || isWarning(message)) stream.write(`${forTerminal(message)}\n`);
  };
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(r).padStart(2, '0')}s` : `${r}s`;
}

export function createProgress(
  label: string,
  options: { quiet?: boolean | undefined; stream?: NodeJS.WriteStream; intervalSeconds?: number } = {},
): ProgressReporter {
  const stream = options.stream ?? process.stderr;
  if (options.quiet) return { update: () => {}, done: () => {} };
  const tty = stream.isTTY === true;
  const interval = (options.intervalSeconds ?? 10) * 1000;
  let last = 0;
  let lastLine = '';
  let wrote = false;
  return {
    update(done, total, extra) {
      const pct = total > 0 ? Math.floor((100 * done) / total) : 100;
      const width = 24;
      const filled = Math.round((width * pct) / 100);
      const bar = tty ? `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ` : '';
      lastLine = `${forTerminal(label, false)} ${bar}${done}/${total} (${pct}%) ${forTerminal(extra, false)}`;
      const now = Date.now();
      if (tty) {
        stream.write(`\r${lastLine}\x1b[K`);
        wrote = true;
      } else if (now - last >= interval || done === total) {
        stream.write(`${lastLine}\n`);
        last = now;
      }
    },
    done() {
      if (tty && wrote) stream.write('\n');
    },
  };
}

/** Where a StageLog writes: stderr, or a stand-in with the same two fields in tests. */
export interface LogStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/**
 * A multi-stage command's progress. Top-level stages are messages without leading spaces; indented messages
 * and progress updates belong to the stage above them.
 * - On a terminal (and not `verbose`): one line per stage, its detail and progress rewritten in place.
 * - Otherwise (a log file, a pipe, CI, or `verbose`): every message on its own line, progress every
 *   `intervalSeconds` and at 100%, as `createProgress` writes it.
 */
export interface StageLog {
  stage(message: string): void;
  progress(label: string, done: number, total: number, extra: string): void;
  /** Ends the current line; call once at the end (also after an error). */
  close(): void;
}

export function createStageLog(
  options: {
    quiet?: boolean | undefined;
    verbose?: boolean | undefined;
    stream?: LogStream;
    intervalSeconds?: number;
  } = {},
): StageLog {
  const stream = options.stream ?? process.stderr;
  if (options.quiet) return { stage: () => {}, progress: () => {}, close: () => {} };
  if (!stream.isTTY || options.verbose) {
    let bar: ProgressReporter | null = null;
    let barLabel = '';
    const endBar = (): void => {
      bar?.done();
      bar = null;
    };
    return {
      stage(m) {
        endBar();
        stream.write(`${forTerminal(m)}\n`);
      },
      progress(label, done, total, extra) {
        if (bar && barLabel !== label) endBar();
        barLabel = label;
        bar ??= createProgress(label, {
          // Plain lines even on a terminal (verbose): a log to scroll back through, not a live bar.
          stream: { write: (c: string) => stream.write(c), isTTY: false } as unknown as NodeJS.WriteStream,
          ...(options.intervalSeconds !== undefined ? { intervalSeconds: options.intervalSeconds } : {}),
        });
        bar.update(done, total, extra);
      },
      close: endBar,
    };
  }
  let top: string | null = null;
  const show = (detail: string): void => {
    // A line longer than the terminal wraps, and \r then rewrites only its last row: cut it to fit.
    const width = Math.max(20, (stream.columns || 80) - 1);
    const text = forTerminal(detail ? `${top ?? ''}: ${detail}` : (top ?? ''), false);
    stream.write(`\r${text.length > width ? `${text.slice(0, width - 1)}…` : text}\x1b[K`);
  };
  return {
    stage(m) {
      if (/^\s/.test(m) && top !== null) {
        show(m.trim());
        return;
      }
      if (top !== null) stream.write('\n');
      top = m;
      show('');
    },
    progress(label, done, total, extra) {
      const pct = total > 0 ? Math.floor((100 * done) / total) : 100;
      show(`${label.trim()} ${done}/${total} (${pct}%) ${extra}`.trimEnd());
    },
    close() {
      if (top !== null) stream.write('\n');
      top = null;
    },
  };
}

/**
 * A path under the current folder relative to it, any other path as it is: shorter to read, and what a run
 * prints no longer names the machine's folders (committed example outputs stay the same in every checkout).
 */
export function shortPath<P extends string | null>(p: P): P {
  if (p === null) return p;
  const rel = relative(process.cwd(), p);
  return (rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : p) as P;
}
