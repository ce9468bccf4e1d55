/**
 * Progress on stderr: a live line on a TTY, a plain line every `intervalSeconds` otherwise (logs, CI, Slurm),
 * nothing when quiet.
 */
export interface ProgressReporter {
  update(done: number, total: number, extra: string): void;
  done(): void;
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
      lastLine = `${label} ${bar}${done}/${total} (${pct}%) ${extra}`;
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
