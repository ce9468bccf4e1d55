/**
 * One-shot worker threads (a demo student, one network of `simulate --compare-linear`): the worker posts any
 * number of progress messages, then ends with { type: 'done', result } or { type: 'error', message }.
 */
import { parentPort, Worker } from 'node:worker_threads';

type TaskEnd<R> = { type: 'done'; result: R } | { type: 'error'; message: string };

/** Starts `url` with `workerData`; progress messages go to onProgress, the end settles the promise. */
export function runWorkerTask<P, R>(url: URL, workerData: unknown, name: string, onProgress: (m: P) => void): Promise<R> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(url, { workerData });
    let settled = false;
    worker.on('message', (m: P | TaskEnd<R>) => {
      const end = m as TaskEnd<R>;
      if (end.type !== 'done' && end.type !== 'error') { onProgress(m as P); return; }
      settled = true;
      if (end.type === 'done') resolve(end.result);
      else reject(new Error(end.message));
      void worker.terminate();
    });
    worker.on('error', (e) => { settled = true; reject(e); });
    worker.on('exit', (code) => { if (!settled) reject(new Error(`${name} worker exited with code ${code}`)); });
  });
}

/** The worker's side: runs `task` with a function that posts progress, then posts its result or its error. */
export async function serveWorkerTask<P, R>(task: (send: (m: P) => void) => Promise<R>): Promise<void> {
  if (!parentPort) throw new Error('serveWorkerTask must run in a worker thread');
  const port = parentPort;
  let end: TaskEnd<R>;
  try {
    end = { type: 'done', result: await task((m) => port.postMessage(m)) };
  } catch (e) {
    end = { type: 'error', message: e instanceof Error ? e.message : String(e) };
  }
  port.postMessage(end);
}
