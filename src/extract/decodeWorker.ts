/**
 * Decode worker: file -> normalized CHW float32, written straight into its slot of the shared batch buffer
 * (decodeToChwInto), so neither this thread nor the main thread allocates or copies per image.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import sharp from 'sharp';
import { decodeToChwInto } from '../image/decode.js';
import { openRegularFile } from '../io/regularFile.js';
import type { DecodeReply, DecodeRequest } from './decodePool.js';

if (!parentPort) throw new Error('decodeWorker.ts must run in a worker thread');
const port = parentPort;
sharp.cache(false);

/** Largest image file read (bytes): a file past it is skipped rather than read into memory. */
const MAX_FILE_BYTES = 1 << 30;

/**
 * Reads a regular file (after following symlinks) of at most MAX_FILE_BYTES. A FIFO would block this worker
 * forever and a link to /dev/zero would grow without end: both were replaced after listing (the listing keeps
 * only regular files), and are refused here by fstat before any read.
 */
function readRegularFile(path: string): Buffer {
  // The shared safe open (io/regularFile.ts): a FIFO neither blocks the open nor gets read.
  const { fd, stats: st } = openRegularFile(path);
  try {
    if (st.size > MAX_FILE_BYTES) throw new Error(`file of ${st.size} bytes is larger than ${MAX_FILE_BYTES}`);
    const buf = Buffer.allocUnsafe(st.size);
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) break;
      off += n;
    }
    return off === buf.length ? buf : buf.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}

/**
 * `size` bytes from byte `offset` of `path` (an image inside a tar shard), at most MAX_FILE_BYTES like a plain
 * file: a member's size comes from its tar header, and three sparse 1.5 GiB members read whole took 3.3 GB.
 */
function readRange(path: string, offset: number, size: number): Buffer {
  if (size > MAX_FILE_BYTES) throw new Error(`tar member of ${size} bytes is larger than ${MAX_FILE_BYTES}`);
  const buf = Buffer.allocUnsafe(size);
  const fd = openSync(path, 'r');
  try {
    let done = 0;
    while (done < size) {
      const n = readSync(fd, buf, done, size - done, offset + done);
      if (n === 0) throw new Error(`tar shard ends inside this member (${done} of ${size} bytes): truncated`);
      done += n;
    }
    return buf;
  } finally {
    closeSync(fd);
  }
}

port.on('message', (m: DecodeRequest) => {
  const fail = (e: unknown): void => {
    const reply: DecodeReply = { id: m.id, error: e instanceof Error ? e.message : String(e) };
    port.postMessage(reply);
  };
  try {
    // A synchronous read blocks only this worker, and saves the four thread-pool round trips of an async one
    // (open, fstat, read, close: ~0.25 ms of this thread per image, cpu profile in bench/NOTES.md).
    const bytes = m.range ? readRange(m.file, m.range.offset, m.range.size) : readRegularFile(m.file);
    decodeToChwInto(bytes, m.spec, new Float32Array(m.out), m.offset).then(() => {
      const reply: DecodeReply = { id: m.id, error: null };
      port.postMessage(reply);
    }, fail);
  } catch (e) {
    fail(e);
  }
});
