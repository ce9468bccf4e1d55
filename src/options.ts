/**
 * The options of every command and the fields of the run config, each declared once with its check, help text
 * and default (see docs/options.md). Built from them: the commander options (src/cli/run-command.ts), the library
 * defaults (`*_DEFAULTS`, which the library modules fall back to) and schema/experiment.schema.json
 * (src/experiment/schema.ts, `node scripts/gen-schema.mjs`). The lists of choices live here too; the modules
 * that implement them import them from here.
 */
import { defaultsOf, type FieldTable, is, type OptionSpec, type OptionTable } from './validate.js';

export const PRESET_NAMES = ['torchvision', 'clip', 'inception'] as const;
export const INTERPOLATIONS = ['bilinear', 'bicubic'] as const;
export const POOLS = ['cls', 'mean'] as const;
export const LAYOUT_NAMES = ['folder', 'imagenet', 'imagenet-v2', 'objectnet'] as const;
export const SOLVERS = ['lbfgs', 'ml', 'sgd'] as const;
export const RECIPES = ['paper'] as const;
export const ACTIVATIONS = ['relu', 'gelu', 'leaky-relu', 'sigmoid', 'tanh', 'none'] as const;
export const LOSSES = ['logistic', 'hinge', 'mse'] as const;
export const OPTIMIZERS = ['sgd', 'adam', 'adamw'] as const;
export const CORE_MODES = ['nonlinear', 'linear'] as const;
export const HEAD_KINDS = ['linear', 'mlp'] as const;
export const HEAD_ACTIVATIONS = ['relu', 'gelu', 'none'] as const;
export const DISTILL_LOSSES = ['mse', 'cosine'] as const;
export const CLASS_SPACES = ['imagenet-1k', 'imagenet-r', 'imagenet-a'] as const;
export const REPORT_FORMATS = ['terminal', 'md', 'json', 'html', 'csv'] as const;
/**
 * Most shards per (model, set) that `run --plan --shards` plans. One job object per shard, model and set is
 * built and written to plan.json: 99999999999 shards ran out of memory. 10,000 is far past any cluster array
 * (SLURM's default MaxArraySize is 1001); more shards than images only give empty shards.
 */
export const MAX_PLAN_SHARDS = 10_000;
export type PoolName = (typeof POOLS)[number];
export type SolverName = (typeof SOLVERS)[number];
export type RecipeName = (typeof RECIPES)[number];

// ---------------------------------------------------------------------------------------------------------
// Command options.

/**
 * Caps on counts that multiply resources without bound: 100,000 threads passed 5 GB of memory before anything
 * ran (issue 26), and every seed is a whole split-and-probe. Far above any useful value (machines with more
 * than 1024 cores are rare; 100 seeds give the mean to a tenth of the spread), low enough to fail at once.
 */
export const MAX_THREADS = 1024;
export const MAX_SEEDS = 100;
/** A thread count: 1 to MAX_THREADS. */
const threadCount = is.intBetween(1, MAX_THREADS);

const threads = {
  flags: '--threads <n>',
  description: 'onnxruntime intra-op threads (default: one per core)',
  check: threadCount,
} as const;
const ep = {
  flags: '--ep <list>',
  description: 'execution providers in order of preference, e.g. cuda,cpu (default: best installed)',
} as const;
const format = {
  flags: '--format <list>',
  description: `report formats: all, or a comma-separated list of ${REPORT_FORMATS.join(', ')}`,
  default: 'all',
} as const;
/** `--no-images`: leave the disagreement gallery (thumbnails read from the sets' images) out of report.html. */
const noImages = {
  flags: '--no-images',
  description: "leave the disagreement gallery (thumbnails of the sets' images) out of report.html",
} as const;

const quiet = {
  flags: '-q, --quiet',
  description: 'no progress or informational lines (warnings still print)',
} as const;
const model = {
  flags: '-m, --model <file.onnx|name|hf:ref>',
  description: 'ONNX encoder with an NCHW image input, or a pulled catalog name / hf: reference (fcprobe models)',
  required: true,
} as const;
const data = {
  flags: '-d, --data <folder>',
  description: 'image folder: <folder>/<class>/<image>.{jpg,jpeg,png,webp}',
  required: true,
} as const;
/**
 * The preset assumed when nothing states one (no flag, config field, model metadata, catalog entry or hub
 * config). Deliberately not a commander default: a default given as if typed hid the model's own metadata, and
 * an assumed preset is said back with a warning (docs/preprocessing.md).
 */
export const DEFAULT_PRESET = 'torchvision';
const preset = {
  flags: '--preset <name>',
  description:
    'preprocessing preset: torchvision (resize 256 bilinear, crop 224, ImageNet mean/std), clip (resize=crop, ' +
    "bicubic, CLIP mean/std), inception (mean/std 0.5, resize crop/0.875). Default: the model's fcprobe.preprocess " +
    `metadata, its catalog entry or hub preprocessor_config.json, else ${DEFAULT_PRESET} with a warning`,
  check: is.oneOf(PRESET_NAMES),
} as const;

/** `fcprobe extract` (and `extractFeatures`). */
export const EXTRACT_OPTIONS = {
  model,
  data: {
    ...data,
    flags: '-d, --data <folder|shards>',
    description:
      'image folder <folder>/<class>/<image>.{jpg,jpeg,png,webp}, or WebDataset tar shards: ' +
      "'train-{000000..000146}.tar', a folder of .tar files or a list file (*.txt)",
  },
  out: { flags: '-o, --out <dir>', description: 'output feature directory', required: true },
  classes: {
    flags: '--classes <file>',
    description:
      'class names in index order, one per line (default: sorted sub-folder names); lets ID and OOD sets with ' +
      'different subsets share one index space',
  },
  layout: {
    flags: '--layout <name>',
    description:
      'dataset layout (default: detected): folder, imagenet (wnid folders, labels = ImageNet indices), imagenet-v2 ' +
      '(folders 0..999), objectnet (images/<folder>, 113 mapped classes, 2-px border crop)',
    check: is.oneOf(LAYOUT_NAMES),
  },
  preset,
  resize: {
    flags: '--resize <px>',
    description: 'shorter side after resizing (default: from the preset)',
    check: is.positiveInt,
  },
  crop: {
    flags: '--crop <px>',
    description: "center-crop size (default: the model's input size, else the preset's)",
    check: is.positiveInt,
  },
  interpolation: {
    flags: '--interpolation <kind>',
    description: 'resize kernel (default: from the preset)',
    check: is.oneOf(INTERPOLATIONS),
  },
  mean: {
    flags: '--mean <r,g,b>',
    description: 'per-channel mean on [0,1] pixels (default: from the preset)',
    check: is.triple('0.485,0.456,0.406'),
  },
  std: {
    flags: '--std <r,g,b>',
    description: 'per-channel std (default: from the preset)',
    check: is.triple('0.229,0.224,0.225'),
  },
  borderCrop: {
    flags: '--border-crop <px>',
    description: 'pixels removed from every border before resizing (ObjectNet: 2)',
    check: is.nonNegativeInt,
    default: 0,
    defaultIn: 'help',
  },
  autoOrient: {
    flags: '--auto-orient',
    description: 'apply EXIF orientation (PIL and torchvision do not, so off by default)',
  },
  output: { flags: '--output <name>', description: 'model output to read when the graph has several' },
  pool: { flags: '--pool <how>', description: 'pooling for token outputs [N, T, D]', check: is.oneOf(POOLS) },
  ep,
  threads,
  batch: { flags: '--batch <n>', description: 'images per inference batch', check: is.positiveInt, default: 32 },
  decodeConcurrency: {
    flags: '--decode-concurrency <n>',
    description: 'images decoded at once (default: 4 per core, at least 8)',
    check: is.positiveInt,
  },
  decodePixelBudget: {
    flags: '--decode-pixel-budget <megapixels>',
    description: 'most pixels (width x height, summed) decoded at once, bounding memory (default: 268, ~2 GiB peak)',
    check: is.positiveInt,
  },
  commitEvery: {
    flags: '--commit-every <seconds>',
    description:
      'make finished rows durable (fsync) at most this often; a crash redoes at most this much work (0: every batch)',
    check: is.nonNegativeNumber,
    default: 2,
  },
  shard: {
    flags: '--shard <k/n>',
    description: 'extract only the k-th (0-based) of n equal slices of the file list; join with `fcprobe merge`',
    check: is.shard,
  },
  strict: { flags: '--strict', description: 'fail on the first undecodable image instead of skipping it' },
  force: { flags: '--force', description: 'redo a finished extraction or replace features made from other inputs' },
  verifyContent: {
    flags: '--verify-content',
    description:
      'recognise changed images by a hash of their bytes (reads every image) instead of size and modification time',
  },
  quiet,
} as const satisfies OptionTable;
export const EXTRACT_DEFAULTS = defaultsOf(EXTRACT_OPTIONS);

/** The sgd settings' defaults are the paper's recipe (Zhang et al., Appendix). */
const SGD = { lr: 1e-3, epochs: 10, batch: 256, warmup: 500, clip: 1 } as const;
/** The paper's probe recipe in words (help text and schema). */
export const PAPER_RECIPE_TEXT =
  `sgd on raw features, AdamW lr ${SGD.lr}, ${SGD.epochs} epochs, batch ${SGD.batch}, ` +
  `${SGD.warmup} warmup steps + cosine, clip ${SGD.clip}`;

/** `fcprobe probe` (and `runProbe`). */
export const PROBE_OPTIONS = {
  train: { flags: '--train <features-dir>', description: 'training (ID) features written by `fcprobe extract`' },
  eval: { flags: '--eval <features-dir...>', description: 'evaluation feature directories (ID val, OOD sets)' },
  out: {
    flags: '-o, --out <probe-dir>',
    description: 'where probe.json, weights.npy and metrics.json go',
    required: true,
  },
  load: { flags: '--load <probe-dir>', description: 'evaluate a saved probe instead of fitting one' },
  solver: {
    flags: '--solver <name>',
    description:
      'lbfgs: full-batch L-BFGS to a gradient tolerance (default); ml: the npm package ml-logistic-regression ' +
      '(baseline); sgd: streamed mini-batch AdamW for sets larger than memory',
    check: is.oneOf(SOLVERS),
  },
  recipe: {
    flags: '--recipe <name>',
    description: `paper: the paper's probe (${PAPER_RECIPE_TEXT}); needs --weight-decay`,
    check: is.oneOf(RECIPES),
  },
  C: {
    flags: '--C <value>',
    description: "inverse L2 strength, as scikit-learn's C (lbfgs)",
    check: is.positiveNumber,
    default: 1,
    // Left undefined on the command line so that a --C given beside --C-sweep can be refused, not dropped.
    defaultIn: 'help',
  },
  CSweep: {
    flags: '--C-sweep',
    description: 'choose C on a held-out stratified split of the training set, then refit on all of it',
  },
  CGrid: {
    flags: '--C-grid <list>',
    description: 'C values for --C-sweep (default: 13 values, half-decades from 1e-4 to 1e2)',
    check: is.listOf(is.positiveNumber, '0.01,0.1,1,10'),
  },
  holdout: {
    flags: '--holdout <fraction>',
    description: 'fraction of each class held out by --C-sweep',
    check: is.fraction,
    default: 0.2,
  },
  seed: {
    flags: '--seed <n>',
    description: 'seed of the sweep split and of the sgd shuffle/initialization',
    check: is.nonNegativeInt,
    default: 0,
  },
  tol: {
    flags: '--tol <value>',
    description: 'lbfgs: stop when max |gradient| of mean CE + ||W||^2/(2Cn) is below this',
    check: is.positiveNumber,
    default: 1e-7,
  },
  ftol: {
    flags: '--ftol <value>',
    description:
      "lbfgs: also stop when an iteration lowers the objective by less than this, relative (scipy's L-BFGS-B " +
      'default, kept by scikit-learn; 0: run to --tol)',
    check: is.nonNegativeNumber,
    default: 1e7 * 2.220446049250313e-16,
    defaultIn: 'help',
  },
  maxIter: { flags: '--max-iter <n>', description: 'lbfgs: iteration limit', check: is.positiveInt, default: 2000 },
  standardize: {
    flags: '--no-standardize',
    description:
      'use the features as they are (default: standardize with the training mean/std; off with --recipe paper)',
  },
  mlSteps: {
    flags: '--ml-steps <n>',
    description: 'ml: gradient steps per one-vs-all classifier',
    check: is.positiveInt,
    default: 50000,
    defaultIn: 'help',
  },
  mlLearningRate: {
    flags: '--ml-learning-rate <value>',
    description: 'ml: step size',
    check: is.positiveNumber,
    default: 5e-4,
    defaultIn: 'help',
  },
  lr: {
    flags: '--lr <value>',
    description: 'sgd: peak AdamW learning rate',
    check: is.positiveNumber,
    default: SGD.lr,
    defaultIn: 'help',
  },
  epochs: {
    flags: '--epochs <n>',
    description: 'sgd: passes over the training set',
    check: is.positiveInt,
    default: SGD.epochs,
    defaultIn: 'help',
  },
  batch: {
    flags: '--batch <n>',
    description: 'sgd: batch size',
    check: is.positiveInt,
    default: SGD.batch,
    defaultIn: 'help',
  },
  weightDecay: {
    flags: '--weight-decay <value>',
    description: 'sgd: AdamW weight decay (paper: 0.1 for CLIP teachers, 1e-3 for distilled students)',
    check: is.nonNegativeNumber,
  },
  warmup: {
    flags: '--warmup <steps>',
    description: 'sgd: linear warmup steps before the cosine decay',
    check: is.nonNegativeInt,
    default: SGD.warmup,
    defaultIn: 'help',
  },
  clip: {
    flags: '--clip <norm>',
    description: 'sgd: global gradient-norm clip',
    check: is.positiveNumber,
    default: SGD.clip,
    defaultIn: 'help',
  },
  memoryBudget: {
    flags: '--memory-budget <size>',
    description:
      'feature bytes held in memory, e.g. 2G: lbfgs streams from disk above it; sgd sizes its shuffle blocks by it',
    check: is.bytes,
  },
  bufferRows: {
    flags: '--buffer-rows <n>',
    description: 'sgd: rows held in memory for the block shuffle (default: 256 MB worth)',
    check: is.positiveInt,
  },
  ignoreUnknown: {
    flags: '--ignore-unknown',
    description: 'leave out (and count) evaluation images of classes the probe never saw, instead of failing',
  },
  predictions: {
    flags: '--predictions',
    description: 'also write <out>/predictions/<set>.predictions.csv and <set>.probabilities.npy',
  },
  threads: { ...threads, description: 'onnxruntime threads for the matrix products (default: one per core)' },
  json: { flags: '--json', description: 'print the result as JSON instead of the table' },
  quiet,
} as const satisfies OptionTable;
export const PROBE_DEFAULTS = defaultsOf(PROBE_OPTIONS);

/**
 * Preprocessing flags of one model of `fcprobe run` (`--teacher-crop`, `--student-crop`): the config's model fields.
 */
function modelFlags<P extends string>(prefix: P, whose: string) {
  return {
    [`${prefix}Preset`]: { flags: `--${prefix}-preset <name>`, description: `preset of ${whose}`, check: preset.check },
    [`${prefix}Output`]: {
      flags: `--${prefix}-output <name>`,
      description: `output of ${whose} to read when the graph has several`,
    },
    [`${prefix}Pool`]: {
      flags: `--${prefix}-pool <how>`,
      description: `pooling of a token output [N, T, D] of ${whose}`,
      check: is.oneOf(POOLS),
    },
    [`${prefix}Resize`]: {
      flags: `--${prefix}-resize <px>`,
      description: `resize side of ${whose} (default: from the preset)`,
      check: is.positiveInt,
    },
    [`${prefix}Crop`]: {
      flags: `--${prefix}-crop <px>`,
      description: `center-crop side of ${whose} (default: the graph's input size or the preset)`,
      check: is.positiveInt,
    },
    [`${prefix}Interpolation`]: {
      flags: `--${prefix}-interpolation <name>`,
      description: `resize interpolation of ${whose}`,
      check: is.oneOf(INTERPOLATIONS),
    },
    [`${prefix}Mean`]: {
      flags: `--${prefix}-mean <r,g,b>`,
      description: `per-channel mean of ${whose} on [0,1] pixels`,
      check: is.triple('0.485,0.456,0.406'),
    },
    [`${prefix}Std`]: {
      flags: `--${prefix}-std <r,g,b>`,
      description: `per-channel std of ${whose}`,
      check: is.triple('0.229,0.224,0.225'),
    },
  } as Record<string, OptionSpec>;
}

/** `fcprobe run`: the flag form of the config (fields in CONFIG_* below); flags override a config's fields. */
export const RUN_OPTIONS = {
  config: {
    flags: '-c, --config <file>',
    description: 'experiment config (JSON; schema: schema/experiment.schema.json)',
  },
  teacher: { flags: '--teacher <file.onnx>', description: 'teacher encoder (instead of, or overriding, the config)' },
  student: { flags: '--student <files.onnx...>', description: 'one or more student encoders (each named by its file)' },
  reference: {
    flags: '--reference <files.onnx...>',
    description: 'reference models, probed the same way: points of the effective-robustness baseline',
  },
  train: { flags: '--train <folder>', description: 'ID training images (one sub-folder per class)' },
  test: { flags: '--test <folders...>', description: 'ID test image folders' },
  ood: { flags: '--ood <folders...>', description: 'OOD image folders (classes among the training classes)' },
  work: { flags: '-w, --work <dir>', description: 'work directory for features, probes and the report' },
  preset: { flags: '--preset <name>', description: 'preprocessing preset of every model', check: preset.check },
  ...modelFlags('teacher', 'the teacher'),
  ...modelFlags('student', 'every student'),
  C: {
    flags: '--C <value>',
    description: "inverse L2 strength of the probes (scikit-learn's C)",
    check: is.positiveNumber,
  },
  CSweep: { flags: '--C-sweep', description: 'choose C on a held-out split of the training features' },
  solver: { flags: '--solver <name>', description: 'probe solver', check: PROBE_OPTIONS.solver.check },
  recipe: {
    flags: '--recipe <name>',
    description: "the paper's AdamW probe recipe",
    check: PROBE_OPTIONS.recipe.check,
  },
  weightDecay: {
    flags: '--weight-decay <value>',
    description: 'AdamW weight decay for --solver sgd / --recipe paper',
    check: is.nonNegativeNumber,
  },
  suite: {
    flags: '--suite <name>',
    description: 'a benchmark suite by name: imagenet-ood (ImageNet + V2, R, Sketch, A, ObjectNet under --data-root)',
  },
  dataRoot: { flags: '--data-root <dir>', description: "folder holding the suite's datasets under their usual names" },
  presentClassesOnly: {
    flags: '--present-classes-only',
    description:
      'score each set over its class folders present, not over its benchmark label space (1000 classes, or the 200 ' +
      'of -R/-A): not the protocol',
  },
  trainPerClass: {
    flags: '--train-per-class <n>',
    description: 'with --suite: use n training images per class (stratified, seeded)',
    check: is.positiveInt,
  },
  split: {
    flags: '--split <fraction>',
    description: 'hold out this fraction of each ID training class as the ID test set',
    check: is.fraction,
  },
  seeds: {
    flags: '--seeds <list>',
    description: 'repeat split and probe for each seed, e.g. 0,1,2: mean and std across seeds',
    check: is.listOf(is.nonNegativeInt, '0,1,2', true, MAX_SEEDS),
  },
  ep: { flags: ep.flags, description: 'execution providers in order, e.g. cuda,cpu' },
  threads: { ...threads, description: 'onnxruntime threads' },
  batch: { flags: '--batch <n>', description: 'inference batch size', check: is.positiveInt },
  bootstrap: {
    flags: '--bootstrap <n>',
    description: 'paired bootstrap replicates of the gap intervals (0: none)',
    check: is.intBetween(0, 1_000_000),
    default: 2000,
    defaultIn: 'help',
  },
  seed: {
    flags: '--seed <n>',
    description: "seed of the ID --split, the probe's sweep split / SGD and the bootstrap",
    check: PROBE_OPTIONS.seed.check,
  },
  format,
  images: noImages,
  quiet,
  plan: {
    flags: '--plan',
    description:
      'print (and write to <work>/plan.json) the extraction jobs for a cluster instead of running; a later run ' +
      'merges their shards',
  },
  shards: {
    flags: '--shards <n>',
    description: `with --plan: shards per (model, set), one job each (at most ${MAX_PLAN_SHARDS})`,
    check: is.intBetween(1, MAX_PLAN_SHARDS),
    default: 1,
    defaultIn: 'help',
  },
} as const satisfies OptionTable;
export const RUN_DEFAULTS = defaultsOf(RUN_OPTIONS);

/** Data of the synthetic experiment; the defaults are the paper's toy.py. */
export const SIMULATE_OPTIONS = {
  n: { flags: '--n <count>', description: 'data points, half per class', check: is.intAtLeast(2), default: 1000 },
  coreDim: {
    flags: '--core-dim <d>',
    description: 'core feature dimensions (determine the label)',
    check: is.positiveInt,
    default: 32,
  },
  bgDim: {
    flags: '--bg-dim <d>',
    description: 'background feature dimensions (independent of the label)',
    check: is.positiveInt,
    default: 32,
  },
  inputDim: {
    flags: '--input-dim <d>',
    description: 'input dimensions (random orthonormal map of core + background)',
    check: is.positiveInt,
    default: 256,
  },
  coreMode: {
    flags: '--core-mode <mode>',
    description: 'nonlinear: classes on spheres of radius 1 and 2; linear: U[0,1]^d vs its negation',
    check: is.oneOf(CORE_MODES),
    default: 'nonlinear',
  },
  hidden: { flags: '--hidden <width>', description: 'hidden layer width', check: is.positiveInt, default: 256 },
  layers: {
    flags: '--layers <count>',
    description: 'linear layers (2: one hidden layer)',
    check: is.intAtLeast(2),
    default: 2,
  },
  activation: {
    flags: '--activation <name>',
    description: 'hidden activation (none: a linear network)',
    check: is.oneOf(ACTIVATIONS),
    default: 'relu',
  },
  bias: { flags: '--no-bias', description: 'linear layers without bias', default: true },
  freezeOutput: {
    flags: '--freeze-output',
    description: 'freeze the output layer at +1/m (first half of the units), -1/m (second half), as in the theory',
    default: false,
  },
  loss: { flags: '--loss <name>', description: 'training loss', check: is.oneOf(LOSSES), default: 'logistic' },
  optimizer: {
    flags: '--optimizer <name>',
    description: 'optimizer (sgd uses --momentum)',
    check: is.oneOf(OPTIMIZERS),
    default: 'adamw',
  },
  lr: { flags: '--lr <rate>', description: 'learning rate', check: is.positiveNumber, default: 1e-3 },
  weightDecay: {
    flags: '--weight-decay <wd>',
    description: 'weight decay (decoupled for adamw, L2 for sgd and adam)',
    check: is.nonNegativeNumber,
    default: 1e-3,
  },
  momentum: { flags: '--momentum <m>', description: 'SGD momentum', check: is.unitInterval, default: 0.9 },
  iterations: {
    flags: '--iterations <count>',
    description: 'full-batch training iterations',
    check: is.nonNegativeInt,
    default: 20000,
  },
  every: {
    flags: '--every <count>',
    description: 'record the curves every this many iterations',
    check: is.positiveInt,
    default: 1000,
  },
  seed: {
    flags: '--seed <int>',
    description: 'seed for data and initialization (same seed: same data and init for every activation)',
    check: is.nonNegativeInt,
    default: 2024,
  },
  compareLinear: {
    flags: '--compare-linear',
    description: 'also train the same network without activation (same seed) as the control',
    default: false,
  },
  dense: {
    flags: '--dense',
    description:
      'multiply the dense input instead of using its exact rank-(core+bg) factorization (slower; same maths, ' +
      'different float32 rounding)',
  },
  threads: {
    flags: '--threads <n>',
    description: 'onnxruntime intra-op threads (0: one per core; 1 is faster here, see bench/simulate-RESULTS.md)',
    check: is.intBetween(0, MAX_THREADS),
    default: 1,
  },
  out: {
    flags: '-o, --out <dir>',
    description: 'output directory for curves.csv, curves.json, curves.svg',
    default: 'fcprobe-simulate',
  },
  quiet: { ...quiet, description: 'no progress line on stderr' },
} as const satisfies OptionTable;
export const SIMULATE_OPTION_DEFAULTS = defaultsOf(SIMULATE_OPTIONS);

/** `fcprobe demo`: the demo world and its distilled students. */
export const DEMO_OPTIONS = {
  data: { flags: '--data <dir>', description: 'where the demo images are written', default: 'data/demo' },
  models: { flags: '--models <dir>', description: 'where the demo encoders are written', default: 'models/demo' },
  work: {
    flags: '--work <dir>',
    description: 'work directory of the runs (features, probes, reports)',
    default: 'work/demo',
  },
  studentActivation: {
    flags: '--student-activation <name>',
    description: 'activation of the distilled student',
    check: is.oneOf(ACTIVATIONS),
    default: 'relu',
  },
  compareLinear: { flags: '--no-compare-linear', description: 'do not also distil and evaluate a linear student' },
  iterations: {
    flags: '--iterations <n>',
    description: 'full-batch AdamW steps of the distillation',
    check: is.positiveInt,
    default: 2000,
  },
  hidden: { flags: '--hidden <n>', description: 'hidden units of the student', check: is.positiveInt, default: 256 },
  lr: { flags: '--lr <value>', description: 'AdamW learning rate', check: is.positiveNumber, default: 1e-3 },
  seed: {
    flags: '--seed <n>',
    description: 'seed of the world (images, teacher)',
    check: is.positiveInt,
    default: 2024,
  },
  quiet,
  verbose: {
    flags: '--verbose',
    description: 'the full progress log, one line per step, also on a terminal (the default when stderr is not one)',
  },
} as const satisfies OptionTable;
export const DEMO_DEFAULTS = defaultsOf(DEMO_OPTIONS);

/** `fcprobe bench`: the generated-model suite, or with --model and --data the user's model on their images. */
export const BENCH_OPTIONS = {
  model: {
    flags: '-m, --model <file.onnx>',
    description: 'ONNX encoder with an NCHW image input (without it: the generated-model suite)',
  },
  data: { flags: '-d, --data <folder>', description: `${data.description} (with --model)` },
  quick: {
    flags: '--quick',
    description: 'suite: a few minutes (fewer batch sizes and images); with --model: 1 run per figure, 64 images',
  },
  only: {
    flags: '--only <parts>',
    description: 'suite only: comma-separated parts among gemm, ceiling, decode, e2e, memory, probe, simulate',
  },
  skip: { flags: '--skip <parts>', description: 'suite only: parts to leave out' },
  out: {
    flags: '--out <file.json|folder/>',
    description: 'suite only: where the results JSON goes (default: bench/results/fcprobe-bench-<date>-<host>.json)',
  },
  batch: {
    flags: '--batch <list>',
    description:
      `batch sizes for the model-only ceiling; end to end uses ${EXTRACT_OPTIONS.batch.default} if ` +
      `listed, else the largest`,
    check: is.listOf(is.positiveInt, '1,8,32'),
    default: [1, 8, EXTRACT_OPTIONS.batch.default],
  },
  ep: {
    flags: ep.flags,
    description: 'execution providers in order of preference, as for extract (default: best installed)',
  },
  threads,
  preset: { flags: '--preset <name>', description: 'preprocessing preset, as for extract', check: preset.check },
  images: {
    flags: '--images <n>',
    description: 'images used for the decode and end-to-end runs',
    check: is.positiveInt,
    default: 256,
  },
  repeats: {
    flags: '--repeats <n>',
    description: 'timed runs per figure (after one warm-up)',
    check: is.positiveInt,
    default: 3,
  },
  json: { flags: '--json <file>', description: 'also write the figures as JSON' },
  quiet,
} as const satisfies OptionTable;
export const BENCH_DEFAULTS = defaultsOf(BENCH_OPTIONS);

/** `fcprobe check-export`: preprocessing defaults come from the catalog entry, else as for extract. */
export const CHECK_EXPORT_OPTIONS = {
  model: { ...model, description: 'the exported encoder (or a pulled catalog name / hf: reference)' },
  data: { ...data, description: 'the images the reference was computed on' },
  reference: {
    flags: '-r, --reference <ref.npy>',
    description: 'reference features [images, D] computed in PyTorch',
    required: true,
  },
  preset: {
    flags: preset.flags,
    description: preset.description,
    check: preset.check,
  },
  resize: { ...EXTRACT_OPTIONS.resize, description: 'shorter side after resizing' },
  crop: { ...EXTRACT_OPTIONS.crop, description: 'center-crop size' },
  interpolation: { ...EXTRACT_OPTIONS.interpolation, description: 'resize kernel' },
  mean: { ...EXTRACT_OPTIONS.mean, description: 'per-channel mean' },
  std: { ...EXTRACT_OPTIONS.std, description: 'per-channel std' },
  output: {
    flags: '--output <name>',
    description: 'model output to compare (default: features, or the catalog entry)',
  },
  pool: { ...EXTRACT_OPTIONS.pool, description: 'pooling for token outputs' },
  ep: { flags: ep.flags, description: 'execution providers, e.g. cpu (default: best installed)' },
  threads: { ...threads, description: 'onnxruntime intra-op threads' },
  minCosine: {
    flags: '--min-cosine <c>',
    description: 'pass threshold: every image at least this cosine',
    check: { kind: 'number', min: 0, minExclusive: true, max: 1 },
    default: 0.9999,
  },
  maxRelDiff: {
    flags: '--max-rel-diff <r>',
    description: 'pass threshold: max abs difference at most r * max |reference| of the row',
    check: is.positiveNumber,
    default: 0.01,
  },
} as const satisfies OptionTable;
export const CHECK_EXPORT_DEFAULTS = defaultsOf(CHECK_EXPORT_OPTIONS);

/** `fcprobe distill`: a head on a frozen backbone trained to reproduce a teacher's features. */
export const DISTILL_OPTIONS = {
  teacherFeatures: {
    flags: '--teacher-features <dir>',
    description: 'teacher features of the ID training images (fcprobe extract)',
    required: true,
  },
  studentFeatures: {
    flags: '--student-features <dir>',
    description: 'student backbone features of the same images, same order',
    required: true,
  },
  backbone: {
    flags: '--backbone <model.onnx>',
    description: 'the student backbone that made --student-features; writes student.onnx',
  },
  head: { flags: '--head <kind>', description: 'linear or mlp', check: is.oneOf(HEAD_KINDS), default: 'linear' },
  hidden: { flags: '--hidden <n>', description: 'mlp: hidden width', check: is.positiveInt, default: 2048 },
  layers: {
    flags: '--layers <n>',
    description: 'mlp: linear maps (2 = one hidden layer)',
    check: is.positiveInt,
    default: 2,
  },
  activation: {
    flags: '--activation <name>',
    description: 'mlp: activation',
    check: is.oneOf(HEAD_ACTIVATIONS),
    default: 'relu',
  },
  loss: {
    flags: '--loss <name>',
    description: 'mse or cosine (1 - cosine)',
    check: is.oneOf(DISTILL_LOSSES),
    default: 'mse',
  },
  epochs: { flags: '--epochs <n>', description: 'passes over the training images', check: is.positiveInt, default: 30 },
  batch: { flags: '--batch <n>', description: 'batch size', check: is.positiveInt, default: 256 },
  lr: { flags: '--lr <value>', description: 'peak AdamW learning rate', check: is.positiveNumber, default: 1e-3 },
  weightDecay: {
    flags: '--weight-decay <value>',
    description: 'AdamW (decoupled) weight decay',
    check: is.nonNegativeNumber,
    default: 1e-4,
  },
  warmup: {
    flags: '--warmup <steps>',
    description: 'linear warmup steps before the cosine decay',
    check: is.nonNegativeInt,
    default: 0,
  },
  seed: {
    flags: '--seed <n>',
    description: 'seed of the initialization and the shuffles',
    check: is.nonNegativeInt,
    default: 0,
  },
  standardizeTarget: {
    flags: '--standardize-target',
    description: "train on the teacher's features standardized with their training mean/std (the export undoes it)",
    default: false,
  },
  eval: {
    flags: '--eval <teacher-dir:student-dir...>',
    description: 'other (teacher, student) feature sets to report the fit on',
  },
  out: { flags: '-o, --out <dir>', description: 'where head.onnx, student.onnx and distill.json go', required: true },
  bufferRows: {
    flags: '--buffer-rows <n>',
    description: 'rows held in memory for the block shuffle (default: 256 MiB worth)',
    check: is.positiveInt,
  },
  threads: { ...threads, description: 'onnxruntime threads for the matrix products (default: one per core)' },
  json: { flags: '--json', description: 'print distill.json instead of the table' },
  quiet,
} as const satisfies OptionTable;
export const DISTILL_OPTION_DEFAULTS = defaultsOf(DISTILL_OPTIONS);
/** The distillation settings: named alike as `fcprobe distill` options and fields of a run config's `distill`. */
export const DISTILL_SETTING_KEYS = [
  'head',
  'hidden',
  'layers',
  'activation',
  'loss',
  'epochs',
  'batch',
  'lr',
  'weightDecay',
  'warmup',
  'seed',
  'standardizeTarget',
] as const satisfies readonly (keyof typeof DISTILL_OPTIONS)[];

/** `fcprobe report`. */
export const REPORT_OPTIONS = {
  format,
  images: noImages,
  out: {
    flags: '--out <dir>',
    description: 'where to write report.md / report.json / report.html (default: <work-dir>)',
  },
} as const satisfies OptionTable;

/** `fcprobe compare`. */
export const COMPARE_OPTIONS = {
  out: { flags: '--out <dir>', description: 'where to write compare.md / compare.csv / compare.html', default: '.' },
  allowDifferentSets: {
    flags: '--allow-different-sets',
    description: 'compare runs whose sets differ (matched by name; the differences are listed)',
  },
  label: {
    flags: '--label <run=name>',
    description:
      "a run's short name in the tables (default: its work folder's name); run is its work directory or folder " +
      'name; repeatable',
    check: is.string,
    repeatable: true,
  },
} as const satisfies OptionTable;

// ---------------------------------------------------------------------------------------------------------
// Fields of the run config (schema/experiment.schema.json is generated from these by src/experiment/schema.ts).

const aString = { check: is.string } as const;

/** A model given as an object: its path and preprocessing. */
export const CONFIG_MODEL_FIELDS = {
  name: aString,
  path: {
    check: is.string,
    description: 'Path of the ONNX encoder, or a pulled catalog name / hf: reference (docs/models.md).',
  },
  preset: {
    check: preset.check,
    description:
      "Preprocessing preset. Default: the model's fcprobe.preprocess metadata, its catalog entry or hub " +
      `preprocessor_config.json, else ${DEFAULT_PRESET} (with a warning in the terminal and the report).`,
  },
  output: aString,
  pool: { check: EXTRACT_OPTIONS.pool.check },
  resize: { check: EXTRACT_OPTIONS.resize.check },
  crop: { check: EXTRACT_OPTIONS.crop.check },
  interpolation: { check: EXTRACT_OPTIONS.interpolation.check },
  mean: { check: EXTRACT_OPTIONS.mean.check },
  std: { check: EXTRACT_OPTIONS.std.check },
} as const satisfies FieldTable;

/** An image set given as an object. */
export const CONFIG_SET_FIELDS = {
  name: aString,
  path: { check: is.string, required: true },
  layout: { check: is.string, description: `Dataset layout: ${LAYOUT_NAMES.join(', ')}; default: detected.` },
  classes: { check: is.string, description: 'Class-name file, one per line in index order.' },
  borderCrop: { check: EXTRACT_OPTIONS.borderCrop.check, default: EXTRACT_OPTIONS.borderCrop.default },
  perClass: {
    check: is.positiveInt,
    description: 'At most this many images per class (stratified, seeded).',
  },
  scoreOver: {
    check: is.oneOf(CLASS_SPACES),
    description:
      "Protocol label space: score over all these classes (the probe's among them) even when some class folders are " +
      'missing.',
  },
} as const satisfies FieldTable;

/** The "probe" object. */
export const CONFIG_PROBE_FIELDS = {
  C: {
    check: PROBE_OPTIONS.C.check,
    description: "scikit-learn's C (inverse L2 strength).",
    default: PROBE_OPTIONS.C.default,
  },
  sweep: { check: is.boolean, description: 'Choose C on a held-out stratified split of the training features.' },
  solver: {
    check: PROBE_OPTIONS.solver.check,
    description: 'lbfgs (default, exact), ml (ml-logistic-regression baseline), sgd (streamed AdamW).',
  },
  recipe: { check: PROBE_OPTIONS.recipe.check, description: `The paper's probe recipe: ${PAPER_RECIPE_TEXT}.` },
  weightDecay: {
    check: PROBE_OPTIONS.weightDecay.check,
    description: 'AdamW weight decay for sgd / paper (paper: 0.1 CLIP teachers, 1e-3 students).',
  },
  maxIter: { check: PROBE_OPTIONS.maxIter.check, default: PROBE_OPTIONS.maxIter.default },
  seed: { check: PROBE_OPTIONS.seed.check, default: PROBE_OPTIONS.seed.default },
} as const satisfies FieldTable;

/** The scalar fields at the top level (the structured ones are in src/experiment/schema.ts). */
export const CONFIG_TOP_FIELDS = {
  title: { check: is.string, description: 'Report title.' },
  workDir: {
    check: is.string,
    required: true,
    description: 'Where features, probes, results.json and the report go (cached between runs).',
  },
  providers: {
    check: is.string,
    description: 'Execution providers in order, e.g. "cuda,cpu"; default: best installed.',
  },
  threads: { check: threadCount },
  split: {
    check: RUN_OPTIONS.split.check,
    description:
      'Hold out this fraction of each ID training class as the ID test set (stratified, seeded by probe.seed); ' +
      'instead of "test".',
  },
  seeds: {
    check: RUN_OPTIONS.seeds.check,
    description: 'Repeat split and probe for each seed; results report mean and standard deviation across seeds.',
  },
  batchSize: { check: EXTRACT_OPTIONS.batch.check, default: EXTRACT_OPTIONS.batch.default },
  presentClassesOnly: {
    check: is.boolean,
    description:
      'Score every set over the class folders present instead of its protocol label space (scoreOver); marked in the ' +
      'report.',
  },
  bootstrap: {
    check: RUN_OPTIONS.bootstrap.check,
    default: RUN_OPTIONS.bootstrap.default,
    description:
      'Paired bootstrap replicates for the gap and contamination intervals (0 turns them off). Seeded by probe.seed.',
  },
} as const satisfies FieldTable;
