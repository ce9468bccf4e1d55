/**
 * Size of report.html and time of `fcprobe report` at the scale of issue 24: 10,000 images per set, 5 students,
 * with the disagreement gallery. The results.json is synthetic (test/report/fixtures.ts's hand-made results, its
 * student copied four times with other accuracies, every set at n = 10,000 with its Clopper-Pearson intervals
 * recomputed), so nothing is extracted. For the gallery every OOD set gets its predictions file (10,000 rows, each
 * model right on a share of the images equal to its accuracy) and its 10,000 images on disk: JPEGs of 500 x 375
 * (ImageNet's typical size), 64 distinct ones hard-linked under every file name, so sharp decodes and shrinks real
 * files. The report then runs as a user runs it, in its own process: `--format html` (with the gallery),
 * `--format html --no-images` and `--format all`.
 *
 * `--photos <dir>`: take the pool from the JPEGs under <dir> instead (real photographs make larger thumbnails
 * than the generated images: the page's size with real data).
 *
 *   npm run build && node dist/bench/report-size.js [--rounds 3] [--photos ../shared/realdata/pacs-mini/photo]
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, linkSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { accuracyInterval } from '../src/experiment/statistics.js';
import { Rng } from '../src/math/rng.js';
import { sampleResults } from '../test/report/fixtures.js';

const N = 10_000;
const STUDENTS = 5;
const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1] ?? 3) || 3;
const photos = process.argv.includes('--photos') ? process.argv[process.argv.indexOf('--photos') + 1] : undefined;

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

/** Distinct source images per set; every file name of the set is a hard link to one of them. */
const POOL = 64;

/** A 500 x 375 JPEG of smooth colour and noise (compresses like a photograph, not like a flat fill). */
async function photo(rng: Rng): Promise<Buffer> {
  const [w, h] = [500, 375];
  const px = Buffer.alloc(w * h * 3);
  const [r0, g0, b0] = [rng.int(256), rng.int(256), rng.int(256)];
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      px[i] = (r0 + x / 3 + rng.int(40)) & 255;
      px[i + 1] = (g0 + y / 2 + rng.int(40)) & 255;
      px[i + 2] = (b0 + (x + y) / 5 + rng.int(40)) & 255;
    }
  return sharp(px, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer();
}

/**
 * Each OOD set's images (hard links to a pool of JPEGs) and predictions file: a model is right on a random
 * share of the images equal to its top-1, and otherwise predicts another of 1,000 classes.
 */
async function writeGalleryInputs(dir: string, r: ReturnType<typeof synthetic>): Promise<number> {
  const rng = new Rng(24);
  const pool = join(dir, 'pool');
  mkdirSync(pool, { recursive: true });
  const found = photos
    ? (readdirSync(photos, { recursive: true }) as string[]).filter((f) => /\.jpe?g$/i.test(f)).slice(0, POOL)
    : [];
  if (photos && found.length === 0) throw new Error(`--photos ${photos}: no JPEG files under it`);
  for (let k = 0; k < POOL; k++)
    if (photos) copyFileSync(join(photos, found[k % found.length]!), join(pool, `${k}.jpg`));
    else writeFileSync(join(pool, `${k}.jpg`), await photo(rng));
  mkdirSync(join(dir, 'predictions'), { recursive: true });
  const models = r.models.map((m) => m.name);
  let images = 0;
  for (const [si, set] of r.sets.entries()) {
    if (!('n' in set)) continue;
    set.path = join(dir, 'images', String(si));
    if (set.role !== 'ood') continue;
    mkdirSync(set.path, { recursive: true });
    const lines = [['file', 'label', ...models.flatMap((m) => [`${m} top1`, `${m} top5`, `${m} correct`])].join(',')];
    const acc = models.map((m) => r.accuracy.find((a) => a.model === m && a.set === set.name)?.top1 ?? 0.5);
    for (let i = 0; i < N; i++) {
      const file = `img${String(i).padStart(5, '0')}.jpg`;
      linkSync(join(pool, `${i % POOL}.jpg`), join(set.path, file));
      images++;
      const label = i % 1000;
      const row = [file, `class-${label}`];
      for (const a of acc) {
        const right = rng.uniform() < a;
        const top1 = right ? label : (label + 1 + rng.int(999)) % 1000;
        row.push(`class-${top1}`, `class-${top1}`, right ? '1' : '0');
      }
      lines.push(row.join(','));
    }
    writeFileSync(join(dir, 'predictions', `${set.name}.csv`), `${lines.join('\n')}\n`);
  }
  return images;
}

const dir = mkdtempSync(join(tmpdir(), 'fcprobe-report-size-'));
const results = synthetic();
const images = await writeGalleryInputs(dir, results);
writeFileSync(join(dir, 'results.json'), JSON.stringify(results, null, 2));
console.log(
  `${images} images on disk (hard links to ${POOL} ` +
    `${photos ? `JPEGs from ${photos}` : 'generated 500 x 375 JPEGs'}), ` +
    'predictions files written',
);
const cli = new URL('../src/cli/main.js', import.meta.url).pathname;
for (const [label, args] of [
  ['--format html (gallery)', ['--format', 'html']],
  ['--format html --no-images', ['--format', 'html', '--no-images']],
  ['--format all (gallery)', ['--format', 'all']],
] as const) {
  const out = join(dir, label.replace(/[^a-z]+/g, '-'));
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = process.hrtime.bigint();
    const p = spawnSync(process.execPath, [cli, 'report', dir, ...args, '--out', out], { encoding: 'utf8' });
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
    if (p.status !== 0) throw new Error(`fcprobe report failed: ${p.stderr}`);
  }
  times.sort((a, b) => a - b);
  const size = statSync(join(out, 'report.html')).size;
  console.log(
    `${label}: report.html ${(size / 1024).toFixed(0)} KiB; fcprobe report ${times
      .map((t) => t.toFixed(2))
      .join(' / ')} s (sorted, ${rounds} rounds, median ${times[Math.floor(times.length / 2)]!.toFixed(2)} s)`,
  );
}
console.log(`results.json: ${join(dir, 'results.json')}`);
