/**
 * Worker for test/io/workerTask.test.ts. workerData picks the behaviour; after its end message the worker
 * keeps running for a while (as a worker releasing onnxruntime sessions does) and marks the shared flag last.
 * Loaded on the main thread (the test runner runs every file under test/), it does nothing.
 */
import { isMainThread, workerData } from 'node:worker_threads';
import { serveWorkerTask } from '../../src/io/workerTask.js';

export interface TaskWorkerData {
  mode: 'done' | 'throw' | 'silent';
  /** Int32Array over a SharedArrayBuffer: [0] is set to 1 as the worker's very last act. */
  flag: SharedArrayBuffer;
}

if (!isMainThread) {
  const data = workerData as TaskWorkerData;
  const flag = new Int32Array(data.flag);
  const lastAct = (): void => {
    setTimeout(() => Atomics.store(flag, 0, 1), 100);
  };
  if (data.mode !== 'silent') {
    await serveWorkerTask<number, string>(async (send) => {
      send(1);
      send(2);
      if (data.mode === 'throw') throw new Error('task failed on purpose');
      return 'result';
    });
  }
  lastAct();
}
