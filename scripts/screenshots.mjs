#!/usr/bin/env node
// Regenerates the docs' pictures of the three pages a reader opens first, in headless Chromium at 1400 px:
//   docs/img/demo-report.png  `fcprobe demo`'s report (the full demo, defaults, in a temporary folder: ~1 min)
//   docs/img/pacs-report.png  the PACS example's committed report (docs/examples/pacs/run.sh --update makes it)
//   docs/img/compare.png      `fcprobe compare` of three runs on generated images (the browser test's runs)
// Usage: npm run build && node scripts/screenshots.mjs   (needs `chromium` on PATH)
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  compareHtml,
  findChromium,
  inspectPage,
  makeRuns,
  PACS_REPORT,
  runDemo,
  screenshot,
} from '../dist/test/browser/pages.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const chromium = findChromium();
if (!chromium) {
  console.error('screenshots: no chromium on PATH (Debian: apt-get install chromium)');
  process.exit(1);
}
const demo = runDemo(mkdtempSync(join(tmpdir(), 'fcprobe-demo-')));
const runs = await makeRuns();
const img = join(root, 'docs', 'img');
mkdirSync(img, { recursive: true });
const WIDTH = 1400;
// The top of each page (headline cards, the students, the per-set charts), at 60% scale: readable, and PNGs of
// a few hundred kB.
const shots = [
  ['demo-report.png', await demo, 2400],
  ['pacs-report.png', PACS_REPORT, 2400],
  ['compare.png', compareHtml(runs.work, join(runs.dir, 'compare-out')), 1700],
];
for (const [name, page, maxHeight] of shots) {
  const height = Math.min(maxHeight, inspectPage(chromium, page, WIDTH).scrollHeight);
  screenshot(chromium, page, join(img, name), WIDTH, height, 0.6);
  console.log(`docs/img/${name}: ${WIDTH} x ${height} px at 0.6`);
}
