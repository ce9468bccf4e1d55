/** Worker thread entry: trains one demo student (distil.ts) and reports progress and the result. */
import { workerData } from 'node:worker_threads';
import { createOrtGemm } from '../compute/gemm.js';
import { trainStudent, type DistilJob, type DistilProgress, type StudentTraining } from './distil.js';
import { serveWorkerTask } from '../io/workerTask.js';

await serveWorkerTask<DistilProgress, StudentTraining>(async (send) => {
  // One onnxruntime thread per student: the products are small enough that a second thread spins more than it
  // helps (measured: same 24.7 s for 2,000 steps, half the CPU time), and the other student has the other core.
  const gemm = await createOrtGemm({ threads: 1 });
  try {
    return await trainStudent(gemm, workerData as DistilJob, (iteration, total, loss) =>
      send({ iteration, total, loss }),
    );
  } finally {
    await gemm.dispose();
  }
});
