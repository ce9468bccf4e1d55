/**
 * Decode worker: file -> normalized CHW float32, with the same code as the main thread would run
 * (decodeToChw). Several of these take the JavaScript part of preprocessing (PIL-parity
 * resampling, normalization) off the main thread, which otherwise caps decoding at one core.
 */
import { parentPort } from 'node:worker_threads';
import sharp from 'sharp';
import { decodeToChw } from '../image/decode.js';
import type { DecodeReply, DecodeRequest } from './decodePool.js';

if (!parentPort) throw new Error('decodeWorker.ts must run in a worker thread');
const port = parentPort;
sharp.cache(false);

port.on('message', (m: DecodeRequest) => {
  decodeToChw(m.file, m.spec).then((data) => {
    const reply: DecodeReply = { id: m.id, data, error: null };
    port.postMessage(reply, [data.buffer as ArrayBuffer]);
  }, (e: unknown) => {
    const reply: DecodeReply = { id: m.id, data: null, error: e instanceof Error ? e.message : String(e) };
    port.postMessage(reply);
  });
});
