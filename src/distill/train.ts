/**
 * The distillation loop: streamed shuffled mini-batches (batches.ts), the head's forward/backward on a Gemm
 * (math/mlp.ts), MSE or cosine loss, AdamW (float32 state, as torch.optim.AdamW) with the probe's per-step
 * linear warmup + cosine schedule (math/adamw.ts cosineLr), and an atomic checkpoint after every epoch.
 */
import type { Gemm, Mat } from '../compute/gemm.js';
import { FcprobeError } from '../errors.js';
import { cosineLr } from '../math/adamw.js';
import { computeLoss, cosineDistanceLoss } from '../math/losses.js';
import { type Mlp, MlpWorkspace } from '../math/mlp.js';
import { Optimizer } from '../math/optimizers.js';
import type { PairedStream } from './batches.js';
import { readCheckpoint, writeCheckpoint } from './checkpoint.js';
import { DISTILL_LOSSES } from '../options.js';

export { DISTILL_LOSSES };
export type DistillLoss = (typeof DISTILL_LOSSES)[number];

export interface TrainSettings {
  loss: DistillLoss;
  epochs: number;
  lr: number;
  weightDecay: number;
  warmupSteps: number;
  seed: number;
}

export interface TrainProgress {
  epoch: number;
  step: number;
  totalSteps: number;
  /** Loss of the batch just used (before the update). */
  batchLoss: number;
  /** Steps done in this process (for the ETA: resumed steps cost nothing). */
  stepsThisRun: number;
}

export interface TrainOutcome {
  /** Per epoch: mean over the epoch's rows of the batch losses before each update. */
  epochLosses: number[];
  steps: number;
  /** Epoch the run started from (0 unless resumed from a checkpoint). */
  resumedFromEpoch: number;
  /** Why a checkpoint present in the output folder was not used (null: none was there, or it was used). */
  checkpointIgnored: string | null;
}

export interface TrainHooks {
  onStep?: (p: TrainProgress) => void;
  /** Checked after every step; true stops the run (the last epoch checkpoint stays) and `train` returns null. */
  shouldStop?: () => boolean;
}

/**
 * Trains `net` in place. `checkpointPath`/`key`: where the epoch checkpoint lives and the settings key it must
 * carry to be resumed from. Returns null when stopped by `shouldStop`.
 */
export async function trainHead(
  gemm: Gemm,
  net: Mlp,
  stream: PairedStream,
  s: TrainSettings,
  checkpointPath: string,
  key: string,
  hooks: TrainHooks = {},
): Promise<TrainOutcome | null> {
  const params = net.parameters();
  const opt = new Optimizer('adamw', params, { lr: s.lr, weightDecay: s.weightDecay });
  const ws = new MlpWorkspace(net, stream.batchSize);
  const dt = stream.dt;
  const grad = new Float32Array(stream.batchSize * dt);
  const totalSteps = s.epochs * stream.stepsPerEpoch;
  let epochLosses: number[] = [];
  let startEpoch = 0;
  let checkpointIgnored: string | null = null;
  const ck = readCheckpoint(checkpointPath, key);
  if (ck.state) {
    const st = ck.state;
    if (st.params.length !== params.length || st.params.some((p, k) => p.length !== params[k]!.data.length)) {
      checkpointIgnored = 'parameter shapes differ';
    } else {
      for (let k = 0; k < params.length; k++) params[k]!.data.set(st.params[k]!);
      opt.restore({ steps: st.optimizerSteps, m: st.m, v: st.v });
      epochLosses = st.epochLosses.slice();
      startEpoch = st.epochs;
    }
  } else if (ck.reason !== 'none') checkpointIgnored = ck.reason;
  let stepsThisRun = 0;
  for (let epoch = startEpoch; epoch < s.epochs; epoch++) {
    let lossSum = 0;
    let rowsSeen = 0;
    const finished = await stream.epoch(s.seed, epoch, async (b) => {
      const x: Mat = { data: b.x.subarray(0, b.rows * stream.ds), rows: b.rows, cols: stream.ds };
      const out = await ws.forward(gemm, x);
      const t = b.t.subarray(0, b.rows * dt);
      const loss =
        s.loss === 'mse'
          ? computeLoss('mse', out.data, t, b.rows, dt, grad)
          : cosineDistanceLoss(out.data, t, b.rows, dt, grad);
      if (!Number.isFinite(loss))
        throw new FcprobeError(
          'BAD_OPTION',
          `The distillation diverged: the ${s.loss} loss is ${loss} at step ${opt.steps + 1} (epoch ${epoch + 1}).`,
          'Lower --lr, add --warmup steps, or standardize the targets with --standardize-target.',
        );
      await ws.backward(gemm, x, grad);
      opt.step(cosineLr(s.lr, s.warmupSteps, totalSteps, opt.steps));
      lossSum += loss * b.rows;
      rowsSeen += b.rows;
      stepsThisRun++;
      hooks.onStep?.({ epoch, step: opt.steps, totalSteps, batchLoss: loss, stepsThisRun });
      return !hooks.shouldStop?.();
    });
    if (!finished) return null;
    epochLosses.push(lossSum / rowsSeen);
    const st = opt.state();
    writeCheckpoint(checkpointPath, {
      key,
      epochs: epoch + 1,
      optimizerSteps: opt.steps,
      epochLosses,
      params: params.map((p) => p.data),
      m: st.m,
      v: st.v,
    });
  }
  return { epochLosses, steps: opt.steps, resumedFromEpoch: startEpoch, checkpointIgnored };
}
