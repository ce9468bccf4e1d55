/**
 * One-shot worker threads (a demo student, one network of `simulate --compare-linear`): the worker posts any
 * number of progress messages, then ends with { type: 'done', result } or { type: 'error', message } and exits
 * by itself.
 *
 * The task settles on the worker's exit, never by terminating it: a worker that has loaded onnxruntime-node
 * may still be releasing sessions, and terminating it inside a native call aborts the whole process
 * ("terminate called after throwing an instance of 'Napi::Error'", seen once in CI).
 */
import { parentPort, Worker } from 'node:worker_threads';

type TaskEnd<R> = { type: 'done'; result: R } | { type: 'error'; message: string };

/** Starts `url` with `workerData`; progress messages go to onProgress; settles once the worker has exited. */
export function runWorkerTask<P, R>(
  url: URL,
  workerData: unknown,
  name: string,
  onProgress: (m: P) => void,
): Promise<R> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(url, { workerData });
    let end: TaskEnd<R> | null = null;
    let failure: Error | null = null;
    worker.on('message', (m: P | TaskEnd<R>) => {
      const e = m as TaskEnd<R>;
      if (e.type === 'done' || e.type === 'error') end = e;
      else onProgress(m as P);
    });
    worker.on('error', (e) => {
      failure ??= e;
    });
    worker.on('exit', (code) => {
      if (failure) reject(failure);
      else if (end?.type === 'done') resolve(end.result);
      else if (end?.type === 'error') reject(new Error(end.message));
      else reject(new Error(`${name} worker exited with code ${code} before it reported a result`));
    });
  });
}

/**
 * The worker's side: runs `task` with a function that posts progress, then posts its result or its error.
 * The task must release its native resources before it returns, since the end message lets the parent go on.
 */
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
