/**
 * One-shot worker tasks settle only once the worker has exited by itself: terminating a worker that may be
 * inside an onnxruntime call aborts the process, so the result must not release the caller before that.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runWorkerTask } from '../../src/io/workerTask.js';
import type { TaskWorkerData } from '../helpers/taskWorker.js';

const url = new URL('../helpers/taskWorker.js', import.meta.url);

function start(mode: TaskWorkerData['mode']): { flag: Int32Array; task: Promise<string>; progress: number[] } {
  const sab = new SharedArrayBuffer(4);
  const progress: number[] = [];
  const task = runWorkerTask<number, string>(url, { mode, flag: sab } satisfies TaskWorkerData, 'test', (m) =>
    progress.push(m),
  );
  return { flag: new Int32Array(sab), task, progress };
}

test('the result arrives after the worker has finished everything it does after its end message', async () => {
  const { flag, task, progress } = start('done');
  assert.equal(await task, 'result');
  assert.deepEqual(progress, [1, 2]);
  assert.equal(Atomics.load(flag, 0), 1, 'the worker ran to its natural exit (it was not terminated)');
});

test('an error in the task rejects with its message, also after the worker has exited', async () => {
  const { flag, task } = start('throw');
  await assert.rejects(task, /task failed on purpose/);
  assert.equal(Atomics.load(flag, 0), 1);
});

test('a worker that exits without an end message is reported, not awaited forever', async () => {
  const { task } = start('silent');
  await assert.rejects(task, /test worker exited with code 0 before it reported a result/);
});
