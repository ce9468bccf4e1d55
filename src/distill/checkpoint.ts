/**
 * The distillation's epoch checkpoint: one file, written atomically (io/atomic.ts) after every epoch, holding
 * everything that determines the rest of the run: the head's parameters, the optimizer's step count and moments,
 * and the per-epoch losses so far. Together with the per-epoch shuffle generators (batches.ts) a resumed run
 * produces the same bytes as an uninterrupted one.
 *
 * Layout: 8 bytes "FCPDCKP1", uint32 LE header length, the JSON header, then the float32 arrays in header order
 * (little-endian). The header carries the run's settings key and the payload's SHA-256, both checked on load:
 * a checkpoint of other settings or with damaged bytes is never resumed from.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { writeFileAtomic } from '../io/atomic.js';

const MAGIC = 'FCPDCKP1';

export interface CheckpointState {
  /** Settings key of the run (a checkpoint of other settings is not resumed from). */
  key: string;
  /** Epochs finished. */
  epochs: number;
  optimizerSteps: number;
  epochLosses: number[];
  /** Parameter tensors, then the optimizer's first moments, then its second moments. */
  params: Float32Array[];
  m: Float32Array[];
  v: Float32Array[];
}

interface Header {
  key: string;
  epochs: number;
  optimizerSteps: number;
  epochLosses: number[];
  lengths: { params: number[]; m: number[]; v: number[] };
  sha256: string;
}

export function writeCheckpoint(path: string, s: CheckpointState): void {
  const arrays = [...s.params, ...s.m, ...s.v];
  const total = arrays.reduce((a, x) => a + x.byteLength, 0);
  const payload = Buffer.alloc(total);
  let off = 0;
  for (const a of arrays) {
    // Typed arrays are little-endian on every platform Node supports.
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).copy(payload, off);
    off += a.byteLength;
  }
  const header: Header = {
    key: s.key,
    epochs: s.epochs,
    optimizerSteps: s.optimizerSteps,
    epochLosses: s.epochLosses,
    lengths: { params: s.params.map((a) => a.length), m: s.m.map((a) => a.length), v: s.v.map((a) => a.length) },
    sha256: createHash('sha256').update(payload).digest('hex'),
  };
  const h = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(h.length);
  writeFileAtomic(path, Buffer.concat([Buffer.from(MAGIC, 'latin1'), len, h, payload]));
}

export type CheckpointRead = { state: CheckpointState } | { state: null; reason: string };

/**
 * Reads a checkpoint if there is one whose key is `key` and whose bytes are intact; otherwise says why not
 * (no file, other settings, damaged), so the caller starts from scratch and can tell the user.
 */
export function readCheckpoint(path: string, key: string): CheckpointRead {
  if (!existsSync(path)) return { state: null, reason: 'none' };
  const buf = readFileSync(path);
  if (buf.length < 12 || buf.subarray(0, 8).toString('latin1') !== MAGIC)
    return { state: null, reason: 'not an fcprobe distill checkpoint' };
  const hl = buf.readUInt32LE(8);
  let header: Header;
  try {
    header = JSON.parse(buf.subarray(12, 12 + hl).toString('utf8')) as Header;
  } catch {
    return { state: null, reason: 'unreadable header' };
  }
  if (header.key !== key) return { state: null, reason: 'made with other settings or inputs' };
  const payload = buf.subarray(12 + hl);
  if (createHash('sha256').update(payload).digest('hex') !== header.sha256)
    return { state: null, reason: 'damaged (checksum mismatch)' };
  let off = 0;
  const take = (n: number): Float32Array => {
    const a = new Float32Array(n);
    Buffer.from(a.buffer).set(payload.subarray(off, off + 4 * n));
    off += 4 * n;
    return a;
  };
  const params = header.lengths.params.map(take);
  const m = header.lengths.m.map(take);
  const v = header.lengths.v.map(take);
  if (off !== payload.length) return { state: null, reason: 'damaged (wrong length)' };
  return {
    state: {
      key,
      epochs: header.epochs,
      optimizerSteps: header.optimizerSteps,
      epochLosses: header.epochLosses,
      params,
      m,
      v,
    },
  };
}
