/**
 * Decode worker: file -> normalized CHW float32, written straight into its slot of the shared batch buffer
 * (decodeToChwInto), so neither this thread nor the main thread allocates or copies per image.
 */
import { readFileSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import sharp from 'sharp';
import { decodeToChwInto } from '../image/decode.js';
import type { DecodeReply, DecodeRequest } from './decodePool.js';

if (!parentPort) throw new Error('decodeWorker.ts must run in a worker thread');
const port = parentPort;
sharp.cache(false);

port.on('message', (m: DecodeRequest) => {
  const fail = (e: unknown): void => {
    const reply: DecodeReply = { id: m.id, error: e instanceof Error ? e.message : String(e) };
    port.postMessage(reply);
  };
  try {
    // A synchronous read blocks only this worker, and saves the four thread-pool round trips of an async one
    // (open, fstat, read, close: ~0.25 ms of this thread per image, cpu profile in bench/NOTES.md).
    const bytes = readFileSync(m.file);
    decodeToChwInto(bytes, m.spec, new Float32Array(m.out), m.offset).then(() => {
      const reply: DecodeReply = { id: m.id, error: null };
      port.postMessage(reply);
    }, fail);
  } catch (e) {
    fail(e);
  }
});
