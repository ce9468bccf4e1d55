import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { mallocHint, TUNED_MALLOC } from '../../src/cli/mallocHint.js';
import { gaussianClasses, writeFeatureDir } from '../helpers/featureDir.js';
import { CLI, tempDir } from '../helpers/fixtures.js';

test('mallocHint: only on Linux and only when GLIBC_TUNABLES is unset', () => {
  assert.match(mallocHint({}, 'linux') ?? '', new RegExp(`GLIBC_TUNABLES=${TUNED_MALLOC}`));
  assert.equal(mallocHint({ GLIBC_TUNABLES: 'glibc.malloc.tcache_count=0' }, 'linux'), null);
  assert.equal(mallocHint({}, 'darwin'), null);
});

test('probe --recipe paper: the hint on stderr without GLIBC_TUNABLES, none with it, and the same weights', () => {
  const dir = tempDir('fcprobe-malloc-');
  const set = gaussianClasses(
    [
      [2, 0, 0, 1],
      [0, 2, 1, 0],
      [0, 0, 2, 2],
    ],
    90,
    4,
  );
  writeFeatureDir(join(dir, 'train'), { ...set, classes: ['a', 'b', 'c'] });
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'GLIBC_TUNABLES'));
  const probe = (out: string, extra: Record<string, string>, quiet = false) =>
    spawnSync(
      process.execPath,
      [
        CLI,
        'probe',
        '--train',
        join(dir, 'train'),
        '--out',
        join(dir, out),
        '--recipe',
        'paper',
        '--weight-decay',
        '0.1',
        '--epochs',
        '2',
        '--batch',
        '16',
        ...(quiet ? ['--quiet'] : []),
      ],
      { encoding: 'utf8', env: { ...env, ...extra } },
    );
  const plain = probe('plain', {});
  assert.equal(plain.status, 0, plain.stderr);
  const hinted = process.platform === 'linux';
  assert.equal(plain.stderr.includes(`GLIBC_TUNABLES=${TUNED_MALLOC}`), hinted, plain.stderr);
  const tuned = probe('tuned', { GLIBC_TUNABLES: TUNED_MALLOC });
  assert.equal(tuned.status, 0, tuned.stderr);
  assert.doesNotMatch(tuned.stderr, /hint:/);
  const quiet = probe('quiet', {}, true);
  assert.equal(quiet.status, 0, quiet.stderr);
  assert.doesNotMatch(quiet.stderr, /hint:/);
  // The setting changes where freed memory goes, not a number.
  const w = (out: string) => readFileSync(join(dir, out, 'weights.npy'));
  assert.ok(w('plain').equals(w('tuned')), 'weights differ between the two allocator settings');
  assert.ok(w('plain').equals(w('quiet')));
});
