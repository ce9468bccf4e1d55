/**
 * Size of report.html and time of `fcprobe report` at the scale of issue 24: 10,000 images per set, 5 students.
 * The results.json is synthetic (test/report/fixtures.ts's hand-made results, its student copied four times
 * with other accuracies, every set at n = 10,000 with its Clopper-Pearson intervals recomputed), so nothing is
 * extracted; the report then runs as a user runs it, in its own process, `--format html` and `--format all`.
 *
 *   npm run build && node dist/bench/report-size.js [--rounds 3]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accuracyInterval } from '../src/experiment/statistics.js';
import { sampleResults } from '../test/report/fixtures.js';

const N = 10_000;
const STUDENTS = 5;
const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1] ?? 3) || 3;

function synthetic(): ReturnType<typeof sampleResults> {
  const r = sampleResults();
  const student = r.models.find((m) => m.role === 'student')!;
  for (let k = 2; k <= STUDENTS; k++) {
    const name = `${student.name}-${k}`;
    r.models.push({ ...student, name, path: `models/student_${k}.onnx` });
    // Each further student a few points less accurate than the first, more so out of distribution.
    for (const a of r.accuracy.filter((x) => x.model === student.name)) {
      const top1 = Math.max(0.01, a.top1 - 0.01 * k * (r.sets.find((s) => s.name === a.set)?.role === 'ood' ? 2 : 1));
      r.accuracy.push({ ...a, model: name, top1 });
    }
    for (const g of r.gaps.filter((x) => x.student === student.name)) r.gaps.push({ ...g, student: name });
    for (const c of r.contamination.filter((x) => x.student === student.name))
      r.contamination.push({ ...c, student: name });
    for (const f of r.representationFit.filter((x) => x.student === student.name))
      r.representationFit.push({ ...f, student: name });
    r.probes.push({ ...r.probes[1]!, model: name });
  }
  for (const s of r.sets) if ('n' in s) s.n = N;
  for (const a of r.accuracy) {
    a.n = N;
    a.top1 = Math.round(a.top1 * N) / N;
    a.top1Interval = accuracyInterval(a.top1, N);
  }
  for (const g of r.gaps) g.n = N;
  return r;
}

const dir = mkdtempSync(join(tmpdir(), 'fcprobe-report-size-'));
writeFileSync(join(dir, 'results.json'), JSON.stringify(synthetic(), null, 2));
const cli = new URL('../src/cli/main.js', import.meta.url).pathname;
for (const format of ['html', 'all']) {
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = process.hrtime.bigint();
    const p = spawnSync(process.execPath, [cli, 'report', dir, '--format', format, '--out', join(dir, format)], {
      encoding: 'utf8',
    });
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
    if (p.status !== 0) throw new Error(`fcprobe report failed: ${p.stderr}`);
  }
  times.sort((a, b) => a - b);
  const size = statSync(join(dir, format, 'report.html')).size;
  console.log(
    `--format ${format}: report.html ${(size / 1024).toFixed(0)} KiB; fcprobe report ${times
      .map((t) => t.toFixed(2))
      .join(' / ')} s (sorted, ${rounds} rounds, median ${times[Math.floor(times.length / 2)]!.toFixed(2)} s)`,
  );
}
console.log(`results.json: ${join(dir, 'results.json')}`);
