/**
 * `fcprobe report` shows what a run decided without being told (issue 23): a probe at chance on its own training
 * rows is marked (!) beside its model's numbers, a tied C sweep and a scaled warm-up are listed among the
 * warnings, and top-5 on a few classes carries its chance.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeResults } from '../../src/experiment/results.js';
import { escapeXml } from '../../src/report/svgCharts.js';
import { CLI } from '../helpers/fixtures.js';
import { sampleResults } from '../report/fixtures.js';

test('fcprobe report: (!) beside a probe at chance, sweep ties and scaled warm-ups warned, Chance@5 shown', () => {
  const work = mkdtempSync(join(tmpdir(), 'fcprobe-report-guard-'));
  const r = sampleResults();
  const [teacher, student] = [r.probes[0]!, r.probes[1]!];
  const atChance =
    "the probe scores 16.7% top-1 on its own 42 training rows, not above chance (14.3%, the largest class's " +
    'share) at one-sided 99% (lower bound 5.8%): the fit learned nothing its training rows show';
  student.warnings = [atChance];
  student.decided = [{ setting: 'warmup', value: 0, from: 'scaled from the default 500 to 1% of the 10 steps' }];
  const grid = Array.from({ length: 13 }, (_, i) => Number((10 ** (-4 + i / 2)).toPrecision(12)));
  teacher.C = 1e-4;
  teacher.sweep = { grid, nVal: 7, classes: 7, atGridEdge: false, tied: 13, valTop1: 1 };
  // One OOD set scored over 7 classes: chance@5 = 5/7.
  const seven = r.accuracy.find((a) => r.sets.some((s) => s.name === a.set && s.role === 'ood'))!.set;
  for (const a of r.accuracy) if (a.set === seven) a.classes = 7;
  writeResults(work, r);

  const out = spawnSync(process.execPath, [CLI, 'report', work, '--format', 'terminal,md,html'], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  const md = readFileSync(join(work, 'report.md'), 'utf8');
  const html = readFileSync(join(work, 'report.html'), 'utf8');
  for (const [name, text, esc] of [
    ['terminal', out.stdout, (x: string) => x],
    ['markdown', md, (x: string) => x],
    ['html', html, escapeXml],
  ] as const) {
    assert.ok(text.includes('Student@1 (!)'), `${name}: the student's accuracy column is marked`);
    assert.ok(!text.includes('Teacher@1 (!)'), `${name}: the teacher's fit is fine`);
    assert.ok(text.includes(esc(`(!) distilled-rn50 probe: ${atChance}.`)), `${name}: the warning under the table`);
    assert.ok(text.includes('Chance@5') && text.includes('71.43'), `${name}: Chance@5 = 5/7`);
    assert.ok(text.includes(`Gap@5 is n/a for ${seven} (7 classes)`), `${name}: no top-5 gap at chance@5 >= 50%`);
    assert.ok(
      text.includes(
        esc(
          'clip-rn50: 13 of 13 C values tied at 100.0% held-out top-1 on 7 rows: chose C=0.0001 (smallest); ' +
            'the sweep carried no information.',
        ),
      ),
      `${name}: the sweep tie`,
    );
    assert.ok(!/clip-rn50: the chosen C = 0.0001 is at the edge/.test(text), `${name}: no edge advice for a tie`);
    assert.ok(
      text.includes(esc('distilled-rn50 probe: --warmup 0 was scaled from the default 500 to 1% of the 10 steps.')),
      `${name}: the scaled warm-up`,
    );
  }
});
