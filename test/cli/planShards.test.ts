/**
 * `run --plan --shards N` builds one job per (model, set, shard): N is capped (MAX_PLAN_SHARDS, 10,000) with a
 * usage error, so 99999999999 no longer builds job objects until memory runs out.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { CLI, unextractedRunDir } from '../helpers/fixtures.js';

function plan(dir: string, shards: string): ReturnType<typeof spawnSync> {
  return spawnSync(
    process.execPath,
    [
      CLI,
      'run',
      '--teacher',
      't.onnx',
      '--student',
      's.onnx',
      '--train',
      'photo',
      '--test',
      'sketch',
      '--work',
      'w',
    ].concat(['--plan', '--shards', shards]),
    { encoding: 'utf8', cwd: dir, timeout: 60_000 },
  );
}

it('run --plan --shards 99999999999 and 10001: exit 2 at once; 3 shards plan 2 models x 2 sets x 3 jobs', () => {
  const dir = unextractedRunDir();
  for (const n of ['99999999999', '10001']) {
    const r = plan(dir, n);
    assert.equal(r.status, 2, String(r.stderr));
    assert.match(String(r.stderr), new RegExp(`Expected --shards to be an integer from 1 to 10000, got "${n}"`));
  }
  const ok = plan(dir, '3');
  assert.equal(ok.status, 0, String(ok.stderr));
  const jobs = (JSON.parse(readFileSync(join(dir, 'w', 'plan.json'), 'utf8')) as { jobs: unknown[] }).jobs;
  assert.equal(jobs.length, 2 * 2 * 3);
});
