import { loadFeatureSet } from '../../src/features/manifest.js';
import { featureOrigin } from '../../src/features/origin.js';
import type { ProbeFile } from '../../src/probe/probeFiles.js';

/**
 * probe.json for a probe whose weights a test sets by hand: lbfgs on raw features (no standardization), marked
 * converged, "trained" on features with the origin of the feature directory `featureDir` (so that evaluating
 * that directory passes the origin check). Save it with saveProbe next to the weights.
 */
export function handProbeFile(classes: string[], featureDim: number, featureDir: string): ProbeFile {
  return {
    format: 'fcprobe-probe',
    formatVersion: 1,
    fcprobeVersion: 'test',
    classes,
    featureDim,
    solver: 'lbfgs',
    recipe: null,
    C: 1,
    standardization: null,
    convergence: {
      iterations: 0,
      evaluations: 0,
      finalGradNorm: 0,
      objective: 0,
      meanTrainLoss: 0,
      converged: true,
      reason: 'gtol',
    },
    settings: {},
    sweep: null,
    train: {
      dir: '/x',
      key: 'k',
      rows: 0,
      origin: featureOrigin(loadFeatureSet(featureDir).manifest),
      droppedClasses: [],
    },
  };
}
