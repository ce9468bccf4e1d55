/**
 * Fault injection on the write path of `extract`: whatever was done to the partial or finished files between
 * two runs (truncated, deleted, a crash between the two final renames, a changed byte, a garbled manifest), the
 * next run ends with exactly the bytes of an uninterrupted extraction, never with padded zero rows, and never
 * answers "already extracted" for files that no longer match their manifest.
 */
import assert from 'node:assert/strict';
import {
  cpSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, it, before } from 'node:test';
import { extractFeatures, type ExtractOptions } from '../../src/extract/extract.js';
import { FcprobeError } from '../../src/errors.js';
import { scanImageFolder } from '../../src/dataset/listing.js';
import { loadFeatureSet } from '../../src/features/manifest.js';
import { linearEncoder, makeNoiseFolder, RAW_PIXELS_16, tempDir, writeModel } from '../helpers/fixtures.js';

const W = [
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
  [1, -2, 0.5],
];
const NORM = RAW_PIXELS_16;

let root = '';
let base: Omit<ExtractOptions, 'outDir'>;
const ref = (): string => join(root, 'ref');

function sameBytes(out: string): void {
  for (const f of ['features.npy', 'labels.npy'])
    assert.ok(readFileSync(join(ref(), f)).equals(readFileSync(join(out, f))), `${f} equals the uninterrupted run's`);
}

/** Runs until 8 of 12 images are committed, then stops (as Ctrl-C does). */
async function interrupted(out: string): Promise<void> {
  let batches = 0;
  await assert.rejects(
    extractFeatures({ ...base, outDir: out, shouldStop: () => ++batches >= 2 }),
    (e: unknown) => e instanceof FcprobeError && e.code === 'INTERRUPTED',
  );
}

async function rerun(out: string): Promise<string[]> {
  const notices: string[] = [];
  const r = await extractFeatures({ ...base, outDir: out, onNotice: (m) => notices.push(m) });
  assert.equal(r.status, 'extracted');
  return notices;
}

describe('resume never trusts .partial/ blindly', () => {
  before(async () => {
    root = tempDir('fcprobe-integrity-');
    await makeNoiseFolder(join(root, 'data'), ['a', 'b'], 6, 24);
    const model = writeModel(join(root, 'm.onnx'), linearEncoder(W, null));
    base = {
      modelPath: model,
      listing: scanImageFolder(join(root, 'data')),
      preprocess: NORM,
      batchSize: 4,
      commitEverySeconds: 0,
    };
    await extractFeatures({ ...base, outDir: ref() });
  });

  it('an intact partial extraction resumes (and says so)', async () => {
    const out = join(root, 'intact');
    await interrupted(out);
    const notices = await rerun(out);
    assert.ok(
      notices.some((n) => /Resuming .*8 of 12/.test(n)),
      notices.join('\n'),
    );
    sameBytes(out);
  });

  const faults: [string, (partial: string) => void][] = [
    ['features.npy truncated by a row', (p) => truncateSync(join(p, 'features.npy'), 128 + 7 * 4 * 4)],
    ['labels.npy truncated to its header', (p) => truncateSync(join(p, 'labels.npy'), 128)],
    ['features.npy deleted', (p) => rmSync(join(p, 'features.npy'))],
    [
      'a crash between the two final renames (features.npy already moved out)',
      (p) => renameSync(join(p, 'features.npy'), join(p, '..', 'features.npy')),
    ],
    [
      'one committed byte changed',
      (p) => {
        const fd = openSync(join(p, 'features.npy'), 'r+');
        writeSync(fd, Buffer.from([0x7f]), 0, 1, 128 + 13);
        closeSync(fd);
      },
    ],
  ];
  for (const [name, fault] of faults) {
    it(`${name}: starts over with a message, ends byte-identical, no zero padding`, async () => {
      const out = join(root, name.replace(/\W+/g, '-'));
      await interrupted(out);
      fault(join(out, '.partial'));
      const notices = await rerun(out);
      assert.ok(
        notices.some((n) => /Cannot resume .*starting over/.test(n)),
        `a notice says why: ${notices.join(' | ')}`,
      );
      assert.ok(!notices.some((n) => /Resuming/.test(n)), 'no "Resuming" when it restarts');
      sameBytes(out);
    });
  }
});

describe('a finished folder is verified before "already extracted"', () => {
  it('a changed or truncated features.npy is re-extracted, not reused', async () => {
    for (const damage of ['flip', 'truncate'] as const) {
      const out = join(root, `done-${damage}`);
      cpSync(ref(), out, { recursive: true });
      const f = join(out, 'features.npy');
      if (damage === 'truncate') truncateSync(f, 128 + 4 * 4);
      else {
        const b = readFileSync(f);
        b[128 + 5] = b[128 + 5]! ^ 0xff;
        writeFileSync(f, b);
      }
      const notices = await rerun(out);
      assert.ok(
        notices.some((n) => /does not match its manifest/.test(n)),
        notices.join(' | '),
      );
      sameBytes(out);
    }
  });

  it('the manifest records the size and sha256 of both arrays', () => {
    const m = loadFeatureSet(ref()).manifest;
    assert.equal(m.checksums?.features.dataBytes, 12 * 4 * 4);
    assert.equal(m.checksums?.labels.dataBytes, 12 * 8);
    assert.equal(m.nonFiniteRows, 0);
  });

  for (const garbage of ['null', '[]', '{"format": "fcprobe-feat', '']) {
    const content = JSON.stringify(garbage);
    it(`manifest.json = ${content}: a clear error naming the file (exit 5), --force recovers`, async () => {
      const out = join(root, `garbled-${garbage.length}`);
      cpSync(ref(), out, { recursive: true });
      writeFileSync(join(out, 'manifest.json'), garbage);
      await assert.rejects(extractFeatures({ ...base, outDir: out }), (e: unknown) => {
        assert.ok(e instanceof FcprobeError, `an FcprobeError, not ${String(e)}`);
        assert.equal(e.exitCode, 5);
        assert.match(
          e.message,
          /manifest\.json is not a feature manifest, "format": "fcprobe-features", "formatVersion": 1/,
        );
        return true;
      });
      assert.throws(
        () => loadFeatureSet(out),
        (e: unknown) => e instanceof FcprobeError && e.exitCode === 5,
      );
      const r = await extractFeatures({ ...base, outDir: out, force: true });
      assert.equal(r.status, 'extracted');
      sameBytes(out);
    });
  }

  it('a manifest without features.npy is a clear error for readers (exit 5)', () => {
    const out = join(root, 'no-features');
    cpSync(ref(), out, { recursive: true });
    rmSync(join(out, 'features.npy'));
    assert.throws(
      () => loadFeatureSet(out),
      (e: unknown) => e instanceof FcprobeError && e.exitCode === 5 && /no features\.npy/.test(e.message),
    );
  });
});
