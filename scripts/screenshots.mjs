#!/usr/bin/env node
// Regenerates the screenshots of docs/run.md and docs/compare.md: real `fcprobe run`s on generated images (the
// browser test's runs: a teacher, two students, two OOD sets), `fcprobe report` of the first and `fcprobe
// compare` of all three, photographed in headless Chromium at 1400 px.
// Usage: npm run build && node scripts/screenshots.mjs   (needs `chromium` on PATH)
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  compareHtml,
  findChromium,
  inspectPage,
  makeRuns,
  reportHtml,
  screenshot,
} from '../dist/test/browser/pages.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const chromium = findChromium();
if (!chromium) {
  console.error('screenshots: no chromium on PATH (Debian: apt-get install chromium)');
  process.exit(1);
}
const runs = await makeRuns();
const img = join(root, 'docs', 'img');
mkdirSync(img, { recursive: true });
const WIDTH = 1400;
// The top of each page (where the charts are), at 60% scale: readable, and PNGs of a few hundred kB.
const shots = [
  ['report.png', reportHtml(runs.work[0], join(runs.dir, 'report-out')), 2900],
  ['compare.png', compareHtml(runs.work, join(runs.dir, 'compare-out')), 1700],
];
for (const [name, page, maxHeight] of shots) {
  const height = Math.min(maxHeight, inspectPage(chromium, page, WIDTH).scrollHeight);
  screenshot(chromium, page, join(img, name), WIDTH, height, 0.6);
  console.log(`docs/img/${name}: ${WIDTH} x ${height} px at 0.6`);
}
