import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { wrap } from '../../src/cli/commands/demo.js';
import { createStageLog, type LogStream } from '../../src/cli/progress.js';

/** What a terminal shows after `out`: \r returns to column 0, ESC[K clears to the end, \n starts a line. */
function screen(out: string): string[] {
  const lines: string[] = [''];
  let col = 0;
  for (let i = 0; i < out.length; i++) {
    const ch = out[i]!;
    const row = lines.length - 1;
    if (ch === '\r') col = 0;
    else if (ch === '\n') {
      lines.push('');
      col = 0;
    } else if (out.startsWith('\x1b[K', i)) {
      lines[row] = lines[row]!.slice(0, col);
      i += 2;
    } else {
      lines[row] = lines[row]!.slice(0, col) + ch + lines[row]!.slice(col + 1);
      col++;
    }
  }
  return lines;
}

function fake(isTTY: boolean, columns = 200): LogStream & { out: string } {
  const s = {
    out: '',
    isTTY,
    columns,
    write(chunk: string) {
      s.out += chunk;
      return true;
    },
  };
  return s;
}

function drive(log: ReturnType<typeof createStageLog>): void {
  log.stage('run: teacher vs relu student');
  log.stage('  check model teacher');
  log.stage('  extract teacher / train (100 images)');
  for (const d of [32, 64, 100]) log.progress('    teacher / train', d, 100, `${d} img/s`);
  log.stage('  probe teacher');
  log.stage('run: teacher vs linear student');
  log.stage('  extract teacher / train (100 images)');
  log.progress('    teacher / train', 100, 100, 'fast');
  log.close();
}

describe('createStageLog', () => {
  it('on a terminal: one line per top-level stage, details rewritten in place', () => {
    const s = fake(true);
    drive(createStageLog({ stream: s }));
    assert.deepEqual(screen(s.out), [
      'run: teacher vs relu student: probe teacher',
      'run: teacher vs linear student: teacher / train 100/100 (100%) fast',
      '',
    ]);
  });

  it('cuts a line to the terminal width, so that \\r rewrites all of it', () => {
    const s = fake(true, 30);
    const log = createStageLog({ stream: s });
    log.stage('a stage with a rather long name that wraps');
    log.close();
    const [line] = screen(s.out);
    assert.equal(line!.length, 29);
    assert.ok(line!.endsWith('…'));
  });

  it('not on a terminal, or with verbose: the full log, each message on its own line', () => {
    for (const [s, verbose] of [
      [fake(false), false],
      [fake(true), true],
    ] as const) {
      drive(createStageLog({ stream: s, verbose, intervalSeconds: 3600 }));
      assert.ok(!s.out.includes('\r'), 'no in-place rewriting');
      const lines = s.out.trimEnd().split('\n');
      assert.deepEqual(lines.slice(0, 3), [
        'run: teacher vs relu student',
        '  check model teacher',
        '  extract teacher / train (100 images)',
      ]);
      assert.ok(lines.includes('  probe teacher'));
      assert.ok(lines.includes('run: teacher vs linear student'));
      // Progress: the first update and 100% (intervals of an hour suppress the rest).
      assert.ok(lines.some((l) => /^ {4}teacher \/ train .*100\/100 \(100%\) 100 img\/s$/.test(l)));
      assert.equal(lines.filter((l) => l.includes('64/100')).length, 0);
    }
  });

  it('quiet: nothing', () => {
    const s = fake(true);
    drive(createStageLog({ stream: s, quiet: true }));
    assert.equal(s.out, '');
  });
});

describe('wrap', () => {
  it('breaks at spaces within the width and keeps long words whole', () => {
    assert.equal(wrap('aaa bbb ccc ddd', 9, '  '), '  aaa bbb\n  ccc ddd');
    assert.equal(wrap('x /a/very/long/path.html y', 10, ''), 'x\n/a/very/long/path.html\ny');
  });
});
