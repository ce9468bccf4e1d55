/**
 * fcprobe as a library: the functions behind the CLI's commands, for scripts that drive the pipeline
 * (image folders -> features on disk -> linear probes -> results -> report) themselves. Everything here is a
 * re-export; each function's documentation sits at its definition and states what it does, its units and the
 * errors it throws. Every failure a caller can cause is an {@link FcprobeError} whose `code` names the kind
 * (bad option, bad data, bad model, mismatch, I/O, ...); anything else is a bug.
 *
 * The package is ESM-only (`import`, or `await import('fcprobe')` from CommonJS) and needs Node 20 or later.
 * See docs/library.md for a worked example.
 *
 * @example Extract features of one image folder and read them back
 * ```js
 * import { extractFeatures, loadFeatureSet, readFeatureMatrix, scanImageFolder } from 'fcprobe';
 *
 * const result = await extractFeatures({
 *   modelPath: 'teacher.onnx',
 *   listing: scanImageFolder('photos/train'), // one sub-folder per class
 *   outDir: 'work/teacher-train',
 *   preprocess: { preset: 'clip' },
 * });
 * const set = loadFeatureSet(result.outDir);
 * const x = readFeatureMatrix(set); // Float32Array, row-major [set.rows, set.dim]
 * ```
 *
 * @packageDocumentation
 */

// Errors and version.
export { FcprobeError, isFcprobeError, type ErrorCode } from './errors.js';
export { FCPROBE_VERSION } from './version.js';

// Datasets: image folders -> listings (the file order and labels extraction follows).
export { scanImageFolder, type DatasetItem, type DatasetListing, type ScanOptions } from './dataset/listing.js';
export { listDataset, LAYOUT_NAMES, type LayoutName, type ListOptions } from './dataset/layouts.js';

// Features: extraction, shard merging, reading a feature directory.
export { extractFeatures, type ExtractOptions, type ExtractProgress, type ExtractResult } from './extract/extract.js';
export { mergeShards, type MergeResult } from './extract/merge.js';
export type { PreprocessOverrides, PreprocessSpec } from './image/preprocessSpec.js';
export {
  loadFeatureSet,
  type FeatureManifest,
  type FeatureSet,
  type ModelInfo,
  type SkippedFile,
} from './features/manifest.js';
export { readFeatureMatrix } from './probe/probeFiles.js';

// Linear probes: fit, save/load, evaluate.
export {
  evaluateProbe,
  fitProbe,
  loadProbe,
  runProbe,
  type EvalResult,
  type EvaluateOptions,
  type FitProbeOptions,
  type LoadedProbe,
  type PerClassResult,
  type ProbeFile,
  type ProbeOptions,
  type ProbeProgress,
  type ProbeResult,
  type SgdSettings,
  type SolverName,
} from './probe/probe.js';
export { saveProbe } from './probe/probeFiles.js';

// Experiments: config -> the whole pipeline -> results.json.
export {
  parseRunConfig,
  readRunConfig,
  type ModelConfig,
  type ProbeConfig,
  type RunConfig,
  type SetConfig,
} from './experiment/config.js';
export { runExperiment, type RunOptions, type RunOutcome } from './experiment/run.js';
export { readResults } from './experiment/results.js';
export { isFoundSet } from './experiment/types.js';
export type {
  AccuracyMeasurement,
  AsymmetryMeasurement,
  BaselinePoint,
  ErBaselineInput,
  JsonValue,
  MachineInfo,
  LeftOutEntry,
  MissingSetEntry,
  ModelEntry,
  ModelRole,
  ProbeSummary,
  RepresentationFit,
  RepresentationFitMeasurement,
  RunResults,
  SetEntry,
  SetRecord,
  SetRole,
  StageTiming,
  SuiteSummary,
} from './experiment/types.js';

// Reports: results -> terminal text, Markdown, JSON, HTML.
export {
  parseReportFormats,
  renderReportFromWorkDir,
  REPORT_FILES,
  REPORT_FORMATS,
  writeReport,
  type RenderedReport,
  type ReportFormat,
} from './report/write.js';
export { buildReport } from './report/build.js';
export type { Report } from './report/types.js';
export { renderHtml } from './report/html.js';
export { renderJson } from './report/json.js';
export { renderMarkdown } from './report/markdown.js';
export { renderTerminal } from './report/terminal.js';

// The paper's synthetic experiment.
export {
  resolveSimulateOptions,
  runSimulation,
  SIMULATE_DEFAULTS,
  writeSimulationOutputs,
  type ResolvedSimulateOptions,
  type SimulateOptions,
  type SimulateProgressEvent,
  type SimulationFiles,
  type SimulationResult,
  type SimulationRunResult,
} from './toy/simulate.js';

// The functions behind the remaining commands: distill, compare, models list / pull, datasets check,
// check-export (docs/library.md lists which command each one serves).
export {
  DISTILL_DEFAULTS,
  runDistill,
  finishedDistill,
  type DistillOptions,
  type DistillResult,
  type DistillSettings,
  type FitEntry,
} from './distill/distill.js';
export { compareWorkDirs, type CompareOptions, type Comparison } from './report/compare.js';
export { loadCatalog, findCatalogEntry, type Catalog, type CatalogEntry } from './models/catalog.js';
export { pullModel, type PullOptions, type PullResult } from './models/pull.js';
export { defaultCacheDir } from './models/cache.js';
export { checkDatasets, type DatasetsCheck, type SetCheck } from './dataset/check.js';
export { checkExport, type CheckExportOptions, type ExportCheck } from './extract/checkExport.js';
