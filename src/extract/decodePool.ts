/**
 * A pool of decode worker threads. The main thread only routes files out; the workers write each image into
 * its slot of a shared batch buffer, so the main thread neither copies nor collects per-image buffers (0.4 of
 * its 0.6 ms per image before, cpu profile in bench/NOTES.md), its own work no longer stalls decoding, and
 * decoding scales with cores.
 */
import { Worker } from 'node:worker_threads';
import type { PreprocessSpec } from '../image/preprocessSpec.js';
import { InFlight } from '../io/inFlight.js';

export interface DecodeRequest {
  id: number;
  file: string;
  /** Read only these bytes of `file` (an image inside a tar shard); null: the whole file. */
  range: { offset: number; size: number } | null;
  spec: PreprocessSpec;
  /** The batch buffer (shared with the worker) and the float index of this image's [3, crop, crop] slot. */
  out: SharedArrayBuffer;
  offset: number;
}

export interface DecodeReply {
  id: number;
  /** The decoder's message when decoding failed; null when the slot was written. */
  error: string | null;
}

/** A batch buffer the decode workers can write into: float32 on a SharedArrayBuffer. */
export function sharedBatchBuffer(floats: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(floats * 4));
}

/** A file that could not be decoded (as opposed to a failing decode worker, which rejects with other errors). */
export class ImageDecodeError extends Error {}

export class DecodePool {
  private readonly workers: Worker[];
  /** Requests in flight per worker: each new file goes to the least busy one. */
  private readonly busy: number[];
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private readonly inFlight = new InFlight();
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
        if (m.error === null) p?.resolve();
        else p?.reject(new ImageDecodeError(m.error));
      });
      w.on('error', (e) => this.failAll(e));
      w.on('exit', (code) => {
        if (code !== 0) this.failAll(new Error(`decode worker exited with code ${code}`));
      });
      return w;
    });
  }

  private failAll(e: Error): void {
    this.dead = e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  /**
   * Decodes one file into `out` (a sharedBatchBuffer) from float index `offset`; rejects with the decoder's
   * message (first line = the reason) on a bad file, leaving the slot as it was. With `range`, only those bytes
   * of `file` are the image (a tar member).
   */
  decodeInto(
    file: string,
    spec: PreprocessSpec,
    out: Float32Array,
    offset: number,
    range: { offset: number; size: number } | null = null,
  ): Promise<void> {
    if (this.dead) return Promise.reject(this.dead);
    if (!(out.buffer instanceof SharedArrayBuffer))
      return Promise.reject(new TypeError('decodeInto needs a sharedBatchBuffer'));
    const id = this.nextId++;
    const decoded = new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const req: DecodeRequest = {
        id,
        file,
        range,
        spec,
        out: out.buffer as SharedArrayBuffer,
        offset: out.byteOffset / 4 + offset,
      };
      let k = 0;
      for (let i = 1; i < this.busy.length; i++) if (this.busy[i]! < this.busy[k]!) k = i;
      this.busy[k]!++;
      this.workers[k]!.postMessage(req);
    });
    return this.inFlight.track(decoded);
  }

  /**
   * Refuses new decodes (the p-limit queue of a prefetched batch would otherwise start some during the wait),
   * waits for the ones in flight (a worker stopped inside sharp can abort the process), then stops the workers.
   */
  async close(): Promise<void> {
    this.dead ??= new Error('decode pool is closed');
    await this.inFlight.drain();
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
