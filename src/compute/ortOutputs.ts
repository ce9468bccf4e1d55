/**
 * Where a run's results end up when the caller pre-allocates the outputs.
 *
 * onnxruntime fills pre-allocated outputs in place; onnxruntime-node (1.30) then also hands each output back as
 * a fresh copy in a new ArrayBuffer. For the probe step's 8 MB weight gradient that copy is an allocation, page
 * faults whenever the allocator maps new memory, a memcpy and external memory that triggers V8 mark-compacts
 * (bench/RESULTS.md, 2026-11-30). The binding's copy cannot be avoided from JavaScript; copying it back a
 * second time can, and so can keeping it: `discardCopies` frees it as soon as the run returns, so the next
 * run's copy reuses the same memory (no page faults, no external memory piling up for V8 to collect in bulk).
 * Whether the caller's buffers hold the results is checked once per session, not assumed.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type ort from 'onnxruntime-node';

/**
 * Runs `run` once with every buffer of `outputs` pre-filled with NaN and returns true when afterwards each one
 * holds exactly the values the run returned (so later runs of the same session may skip `takeOutputs`). The
 * probe's inputs must give finite results.
 */
export async function fillsOutputsInPlace(
  outputs: Record<string, Float32Array>,
  run: () => Promise<ort.InferenceSession.ReturnType>,
): Promise<boolean> {
  for (const a of Object.values(outputs)) a.fill(Number.NaN);
  const r = await run();
  for (const [name, mine] of Object.entries(outputs)) {
    const got = r[name]?.data;
    if (!(got instanceof Float32Array) || got.length !== mine.length) return false;
    for (let i = 0; i < got.length; i++) if (!(mine[i] === got[i])) return false;
  }
  return true;
}

/** Copies each returned output into the caller's buffer of the same name (where the binding wrote elsewhere). */
export function takeOutputs(r: ort.InferenceSession.ReturnType, outputs: Record<string, Float32Array>): void {
  for (const [name, mine] of Object.entries(outputs)) {
    const got = r[name]?.data;
    if (!(got instanceof Float32Array)) throw new Error(`onnxruntime returned no float32 output '${name}'`);
    if (got !== mine) mine.set(got.subarray(0, mine.length));
  }
}

let sink: MessagePort | null = null;

/**
 * Frees the binding's copies of the named outputs now instead of at a later garbage collection: each copy's
 * ArrayBuffer is transferred to a closed MessagePort, which detaches it and drops the message, and with it
 * the memory (Node releases a transferred backing store with the message). Copies that share memory with the
 * caller's buffers are left alone. Afterwards `r`'s tensors for those names are empty (detached).
 */
export function discardCopies(r: ort.InferenceSession.ReturnType, outputs: Record<string, Float32Array>): void {
  if (!sink) {
    const { port1 } = new MessageChannel();
    port1.close();
    sink = port1;
  }
  for (const [name, mine] of Object.entries(outputs)) {
    const got = r[name]?.data;
    if (!(got instanceof Float32Array) || got.buffer === mine.buffer || !(got.buffer instanceof ArrayBuffer)) continue;
    try {
      sink.postMessage(null, [got.buffer]);
    } catch {
      // Not transferable here (a runtime that shares the buffer elsewhere): the collector frees it as before.
    }
  }
}
