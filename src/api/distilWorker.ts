/** Worker thread entry: trains one demo student (distil.ts) and reports progress and the result. */
import { parentPort, workerData } from 'node:worker_threads';
import { createOrtGemm } from '../compute/gemm.js';
import { trainStudent, type DistilJob, type DistilMessage } from './distil.js';

if (!parentPort) throw new Error('distilWorker.ts must run in a worker thread');
const port = parentPort;
const send = (m: DistilMessage): void => port.postMessage(m);

// One onnxruntime thread per student: the products are small enough that a second thread spins more than it
// helps (measured: same 24.7 s for 2,000 steps, half the CPU time), and the other student has the other core.
const gemm = await createOrtGemm({ threads: 1 });
try {
  const result = await trainStudent(gemm, workerData as DistilJob, (iteration, total, loss) => send({ type: 'progress', iteration, total, loss }));
  send({ type: 'done', result });
} catch (e) {
  send({ type: 'error', message: e instanceof Error ? e.message : String(e) });
} finally {
  await gemm.dispose();
}
