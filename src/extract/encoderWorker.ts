/** Main-thread handle on the inference worker: promise per batch, errors as FcprobeError. */
import { Worker } from 'node:worker_threads';
import { FcprobeError, type ErrorCode } from '../errors.js';
import { InFlight } from '../io/inFlight.js';
import type { InitReply, InitRequest, RunReply, WorkerReply, WorkerRequest } from './protocol.js';
import type { PoolName } from '../options.js';

export class EncoderWorker {
  private worker: Worker;
  private pending = new Map<number, { resolve: (r: RunReply) => void; reject: (e: Error) => void }>();
  private initWaiter: { resolve: (r: InitReply) => void; reject: (e: Error) => void } | null = null;
  private nextId = 0;
  private dead: Error | null = null;
  private exited = false;
  private readonly inFlight = new InFlight();

  constructor() {
    this.worker = new Worker(new URL('./encoderWorkerEntry.js', import.meta.url));
    this.worker.on('message', (m: WorkerReply) => this.onMessage(m));
    this.worker.on('error', (e) => this.failAll(e));
    this.worker.on('exit', (code) => {
      this.exited = true;
      if (code !== 0 || this.pending.size > 0 || this.initWaiter)
        this.failAll(new Error(`inference worker exited with code ${code}`));
    });
  }

  private failAll(e: Error): void {
    this.dead = e;
    this.initWaiter?.reject(e);
    this.initWaiter = null;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private onMessage(m: WorkerReply): void {
    if (m.type === 'ready') {
      this.initWaiter?.resolve(m);
      this.initWaiter = null;
    } else if (m.type === 'result') {
      this.pending.get(m.id)?.resolve(m);
      this.pending.delete(m.id);
    } else {
      const err = new FcprobeError(m.code as ErrorCode, m.message, m.hint);
      if (m.id === null) {
        this.initWaiter?.reject(err);
        this.initWaiter = null;
      } else {
        this.pending.get(m.id)?.reject(err);
        this.pending.delete(m.id);
      }
    }
  }

  private send(msg: WorkerRequest, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(msg, transfer);
  }

  init(req: Omit<InitRequest, 'type'>): Promise<InitReply> {
    return new Promise((resolve, reject) => {
      this.initWaiter = { resolve, reject };
      this.send({ type: 'init', ...req });
    });
  }

  /**
   * Runs one batch. An ordinary buffer is transferred (unusable by the caller afterwards); a shared one is
   * shared, and the caller must not rewrite it until the promise settles.
   */
  run(data: Float32Array, n: number, size: number, outputName: string, pool: PoolName | null): Promise<RunReply> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    const reply = new Promise<RunReply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.send(
        { type: 'run', id, data, n, size, outputName, pool },
        data.buffer instanceof ArrayBuffer ? [data.buffer] : [],
      );
    });
    return this.inFlight.track(reply);
  }

  /**
   * Lets every batch in flight finish, then asks the worker to release its session and exit. Terminating it
   * inside an onnxruntime call would abort the whole process, so the fallback only fires for a worker that has
   * not exited long after its last call.
   */
  async close(): Promise<void> {
    if (this.exited) return;
    await this.inFlight.drain();
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.send({ type: 'close' });
    const t = setTimeout(() => {
      void this.worker.terminate();
    }, 30_000);
    await exited;
    clearTimeout(t);
  }
}
