/** The report's definitions, worded once for every format (docs/run.md says the same). */
import { ASYMMETRY_DEFINITION } from '../experiment/activationAsymmetry.js';

export const DEFINITIONS = {
  accuracy:
    "Top-1 / top-5: share of images whose label is the probe's highest-scoring class / among its five highest. ID " +
    'accuracy is the mean top-1 over the ID test sets, the OOD average the unweighted mean over the OOD sets. Gap = ' +
    'teacher minus student, in percentage points (pp); a larger OOD gap than ID gap is the feature-contamination ' +
    'signature.',
  effectiveRobustness:
    'Effective robustness (Taori et al., 2020): fit logit(OOD) = a * logit(ID) + b by least squares over the ' +
    "baseline models' (ID, OOD) accuracies, with logit(p) = ln(p / (1 - p)); the baseline predicts beta(x) = " +
    "sigmoid(a * logit(x) + b). A model's effective robustness is its OOD accuracy minus beta(its ID accuracy): " +
    'above zero means more robust than the baseline trend.',
  cka:
    "Linear CKA between the teacher's and a student's feature matrices X [n, Dt], Y [n, Ds] of the same images: " +
    '||Xc^T Yc||_F^2 / (||Xc^T Xc||_F ||Yc^T Yc||_F) with column-centred Xc, Yc. 1: the same representation up to a ' +
    'rotation and a uniform scale; invariant to both, defined for any dimensions.',
  cosine:
    'Cosine: for each image, cos(teacher feature, student feature); mean, median and 10th percentile over the set. ' +
    "Only when both features have the same dimension (a distilled student fits the teacher's embedding directly).",
  asymmetry: ASYMMETRY_DEFINITION,
  accuracyInterval:
    'Accuracy interval: the exact two-sided 95% Clopper-Pearson interval for k right of n images, from Beta ' +
    'quantiles. It covers the accuracy on the population the images were drawn from at least 95% of the time, and is ' +
    'wide on small sets.',
  gapInterval:
    'Gap interval: the 95% paired bootstrap percentile interval, resampling the images of the set with replacement ' +
    'and scoring both models on the same resample. McNemar p is the exact two-sided binomial test on the images only ' +
    'one model gets right: a small p means the gap is unlikely under equal accuracy.',
  contaminationInterval:
    'Contamination = (teacher - student on the OOD average) - (teacher - student on the ID test mean), the ' +
    'feature-contamination signature when positive. Its 95% interval resamples images within each set independently; ' +
    'when it contains 0, this n cannot tell the effect from none.',
  ckaDebiased:
    'Debiased CKA uses the unbiased HSIC estimator (Song et al. 2012; Kornblith et al. 2019, debiased=True): it ' +
    'stays near 0 for independent features at any n, where plain linear CKA reads about 0.2 at n = 32. It can come ' +
    'out slightly negative.',
  scatter:
    'ID vs OOD on logit axes: one point per model and OOD set (and the OOD average), with Clopper-Pearson 95% bars ' +
    'in both directions; the dotted diagonal is OOD = ID, the grey lines mark chance level, and with baselines the ' +
    'dashed line is their fit with its bootstrap band.',
} as const;
