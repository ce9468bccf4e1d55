/**
 * A pool of decode worker threads. The main thread only routes files out and copies finished images into
 * batch buffers, so its own work (fsync of committed batches, messages to the inference worker) no longer
 * stalls decoding, and decoding scales with cores.
 */
import { Worker } from 'node:worker_threads';
import type { PreprocessSpec } from '../io/featureManifest.js';

export interface DecodeRequest {
  id: number;
  file: string;
  spec: PreprocessSpec;
}

export interface DecodeReply {
  id: number;
  /** [3, crop, crop] normalized float32, transferred; null when decoding failed. */
  data: Float32Array | null;
  /** The decoder's message when decoding failed. */
  error: string | null;
}

/** A file that could not be decoded (as opposed to a failing decode worker, which rejects with other errors). */
export class ImageDecodeError extends Error {}

export class DecodePool {
  private readonly workers: Worker[];
  /** Requests in flight per worker: each new file goes to the least busy one. */
  private readonly busy: number[];
  private readonly pending = new Map<number, { resolve: (d: Float32Array) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private dead: Error | null = null;

  constructor(size: number) {
    this.busy = new Array<number>(Math.max(1, size)).fill(0);
    this.workers = this.busy.map((_, k) => {
      const w = new Worker(new URL('./decodeWorker.js', import.meta.url));
      w.on('message', (m: DecodeReply) => {
        this.busy[k]!--;
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (m.data) p?.resolve(m.data);
        else p?.reject(new ImageDecodeError(m.error ?? 'decode failed'));
      });
      w.on('error', (e) => this.failAll(e));
      w.on('exit', (code) => { if (code !== 0) this.failAll(new Error(`decode worker exited with code ${code}`)); });
      return w;
    });
  }

  private failAll(e: Error): void {
    this.dead = e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  /** Decodes one file; rejects with the decoder's message (first line = the reason) on a bad file. */
  decode(file: string, spec: PreprocessSpec): Promise<Float32Array> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const req: DecodeRequest = { id, file, spec };
      let k = 0;
      for (let i = 1; i < this.busy.length; i++) if (this.busy[i]! < this.busy[k]!) k = i;
      this.busy[k]!++;
      this.workers[k]!.postMessage(req);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
