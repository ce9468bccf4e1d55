/**
 * What extract (and `run`'s preflight) checks about a model before any image is decoded: that it loads on a
 * provider, takes an NCHW float image, has a usable feature output, and agrees with the preprocessing.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { FcprobeError, badOption } from '../errors.js';
import { describePreprocess, resolvePreprocess, type PreprocessOverrides } from '../image/preprocessSpec.js';
import { PREPROCESS_METADATA_KEY, readPreprocessMetadata } from './onnxMetadata.js';
import { EncoderWorker } from './encoderWorker.js';
import {
  checkProvidersInstalled,
  fallbackNotice,
  INSTALL_HINT,
  noUsableProvider,
  parseProviders,
  type ProviderFailure,
  usableProviders,
} from './providers.js';
import { probeProviderInChild } from './providerProbe.js';
import type { InitReply, ProviderName, TensorMeta } from './protocol.js';
import type { PreprocessSpec } from '../image/preprocessSpec.js';
import type { ExtractOptions } from './options.js';
import type { PoolName } from '../options.js';

const FEATURE_OUTPUT_NAMES = ['features', 'embedding', 'embeddings', 'image_embeds', 'pooler_output', 'output'];

function chooseOutput(outputs: TensorMeta[], requested: string | undefined, modelPath: string): TensorMeta {
  if (requested !== undefined) {
    const o = outputs.find((x) => x.name === requested);
    if (!o)
      throw badOption('--output', `one of the model's outputs (${outputs.map((x) => x.name).join(', ')})`, requested);
    return o;
  }
  if (outputs.length === 1) return outputs[0]!;
  const named = FEATURE_OUTPUT_NAMES.map((n) => outputs.find((o) => o.name === n)).find((o) => o !== undefined);
  if (named) return named;
  throw new FcprobeError(
    'BAD_OPTION',
    `${modelPath} has several outputs (${outputs.map((o) => `${o.name} [${o.shape.join(', ')}]`).join(', ')}); ` +
      `choose one with --output.`,
  );
}

/** The model's static square input size, or null when H/W are symbolic. */
function checkInput(
  input: TensorMeta | undefined,
  modelPath: string,
): { size: number | null; type: 'float32' | 'float16' } {
  if (!input) throw new FcprobeError('BAD_MODEL', `${modelPath} has no inputs.`);
  const { shape, type } = input;
  if (type !== 'float32' && type !== 'float16') {
    throw new FcprobeError(
      'BAD_MODEL',
      `${modelPath}: input "${input.name}" is ${type}; expected a float32 or float16 image tensor [N, 3, H, W].`,
    );
  }
  const bad = shape.length !== 4 || (typeof shape[1] === 'number' && shape[1] !== 3);
  if (bad) {
    throw new FcprobeError(
      'BAD_MODEL',
      `${modelPath}: input "${input.name}" has shape [${shape.join(', ')}]; expected an image tensor [N, 3, H, W].`,
      'fcprobe feeds NCHW RGB images; export the encoder with an NCHW input.',
    );
  }
  const h = shape[2];
  const w = shape[3];
  if (typeof h === 'number' && typeof w === 'number') {
    if (h !== w)
      throw new FcprobeError(
        'BAD_MODEL',
        `${modelPath}: input is ${h}x${w}; only square inputs are supported (center crop).`,
      );
    return { size: h, type };
  }
  return { size: null, type };
}

/**
 * A fixed batch axis: 1 works with --batch 1 (every batch is one image); any other fixed size cannot take the
 * last, shorter batch. Found here, before decoding starts, instead of as onnxruntime's message mid-run.
 */
function checkBatchAxis(input: TensorMeta, modelPath: string, batchSize: number | undefined): void {
  const n = input.shape[0];
  if (typeof n !== 'number' || batchSize === undefined) return;
  if (n === 1 && batchSize === 1) return;
  throw new FcprobeError(
    'BAD_MODEL',
    `${modelPath}: input "${input.name}" has a fixed batch size of ` +
      `${n}${n === 1 ? `, and --batch is ${batchSize}` : ''}.`,
    n === 1
      ? 'Use --batch 1 (slower), or export the encoder with a dynamic batch axis.'
      : 'Export the encoder with a dynamic batch axis (or a batch of 1 and use --batch 1).',
  );
}

function checkOutputShape(o: TensorMeta, pool: PoolName | undefined, modelPath: string): void {
  const s = o.shape;
  const ok =
    s.length === 2 ||
    (s.length === 4 && (s[2] === 1 || typeof s[2] === 'string') && (s[3] === 1 || typeof s[3] === 'string')) ||
    s.length === 3;
  if (!ok)
    throw new FcprobeError(
      'BAD_MODEL',
      `${modelPath}: output "${o.name}" has shape [${s.join(', ')}]; expected [N, D], [N, D, 1, 1] or [N, T, D].`,
    );
  if (s.length === 3 && pool === undefined) {
    throw badOption('--pool', `cls or mean for the token output "${o.name}" [${s.join(', ')}]`, undefined);
  }
}

export interface PreparedModel {
  ready: InitReply;
  input: { size: number | null; type: 'float32' | 'float16' };
  output: TensorMeta;
  spec: PreprocessSpec;
}

/** Loads the model in the worker and checks input, output and preprocessing against it: no image is touched. */
export async function prepareModel(
  worker: EncoderWorker,
  o: {
    modelPath: string;
    providers: ProviderName[];
    explicit: boolean;
    threads: number | null;
    outputName?: string | undefined;
    pool?: PoolName | undefined;
    preprocess?: PreprocessOverrides | undefined;
    borderCrop: number;
    /** The batch size extraction will use (checked against a fixed batch axis); omitted by run's preflight. */
    batchSize?: number | undefined;
    onNotice?: ((m: string) => void) | undefined;
  },
): Promise<PreparedModel> {
  // Providers known not to work here are not tried at all (trying prints native noise); WebGPU is tried in a
  // child process first because its graphics library writes to stderr directly.
  const { usable, skipped } = usableProviders(o.providers);
  const tried: ProviderName[] = [];
  for (const p of usable) {
    const reason = p === 'webgpu' ? await probeProviderInChild(o.modelPath, p) : null;
    if (reason === null) tried.push(p);
    else skipped.push({ provider: p, reason });
  }
  if (tried.length === 0) throw noUsableProvider(skipped);
  let ready: InitReply;
  try {
    ready = await worker.init({ modelPath: o.modelPath, providers: tried, threads: o.threads });
  } catch (e) {
    if (e instanceof FcprobeError && e.code === 'PROVIDER_UNAVAILABLE' && o.explicit) {
      throw new FcprobeError(
        'PROVIDER_UNAVAILABLE',
        skipped.length > 0 ? `${e.message}; ${skipped.map((s) => `${s.provider}: ${s.reason}`).join('; ')}` : e.message,
        o.providers
          .map((p) => INSTALL_HINT[p])
          .filter(Boolean)
          .join(' '),
      );
    }
    throw e;
  }
  const failures: ProviderFailure[] = [...skipped, ...ready.providerFailures].sort(
    (a, b) => o.providers.indexOf(a.provider) - o.providers.indexOf(b.provider),
  );
  if (failures.length > 0) o.onNotice?.(fallbackNotice(failures, ready.provider));
  if (ready.inputs.length > 1)
    throw new FcprobeError(
      'BAD_MODEL',
      `${o.modelPath} has ${ready.inputs.length} inputs (${ready.inputs.map((i) => i.name).join(', ')}); fcprobe ` +
        `feeds one image tensor [N, 3, H, W].`,
      'Export the encoder with the image as its only input (fold other inputs into constants).',
    );
  const input = checkInput(ready.inputs[0], o.modelPath);
  checkBatchAxis(ready.inputs[0]!, o.modelPath, o.batchSize);
  const output = chooseOutput(ready.outputs, o.outputName, o.modelPath);
  checkOutputShape(output, o.pool, o.modelPath);
  const merged = withModelMetadata(o.modelPath, o.preprocess ?? {}, o.onNotice);
  const spec = resolvePreprocess(
    { ...merged.overrides, borderCrop: o.preprocess?.borderCrop ?? (o.borderCrop || undefined) },
    input.size,
  );
  o.onNotice?.(`preprocessing ${describePreprocess(spec)} (${merged.source})`);
  return { ready, input, output, spec };
}

const PREPROCESS_FIELDS = ['preset', 'resize', 'crop', 'interpolation', 'mean', 'std'] as const;

/**
 * The model's `fcprobe.preprocess` metadata as the defaults of the given overrides. A value given (flag or
 * config) wins over the metadata, with a warning when it differs; a different preset replaces the metadata
 * altogether (its values then come from that preset), since the metadata's numbers belong to its own preset.
 */
function withModelMetadata(
  modelPath: string,
  given: PreprocessOverrides,
  onNotice: ((m: string) => void) | undefined,
): { overrides: PreprocessOverrides; source: string } {
  const meta = readPreprocessMetadata(modelPath);
  const givenAny = PREPROCESS_FIELDS.some((k) => given[k] !== undefined);
  if (!meta) return { overrides: given, source: givenAny ? 'from the options given' : 'default' };
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
  const conflicts = PREPROCESS_FIELDS.filter(
    (k) => given[k] !== undefined && meta[k] !== undefined && !same(given[k], meta[k]),
  );
  if (conflicts.length > 0) {
    const changes = conflicts.map((k) => `${k} ${JSON.stringify(meta[k])} -> ${JSON.stringify(given[k])}`).join(', ');
    onNotice?.(
      `warning: ${modelPath} declares its preprocessing (metadata ${PREPROCESS_METADATA_KEY}); ` +
        `the options given override ${changes}`,
    );
  }
  if (given.preset !== undefined && meta.preset !== undefined && given.preset !== meta.preset)
    return { overrides: given, source: `preset ${given.preset} given; the model's metadata is not used` };
  const overrides: PreprocessOverrides = { ...given };
  for (const k of PREPROCESS_FIELDS)
    if (overrides[k] === undefined && meta[k] !== undefined) Object.assign(overrides, { [k]: meta[k] });
  return {
    overrides,
    source: givenAny
      ? `model metadata ${PREPROCESS_METADATA_KEY}, with the options given`
      : `model metadata ${PREPROCESS_METADATA_KEY}`,
  };
}

export interface ModelCheck {
  provider: string;
  inputShape: (number | string)[];
  outputName: string;
  outputShape: (number | string)[];
  preprocess: PreprocessSpec;
}

/**
 * Preflight for multi-step commands (`run`): loads the model and validates options exactly as extract would,
 * so that a broken second model fails before the first one's hours of extraction.
 */
export async function inspectModel(
  o: Pick<ExtractOptions, 'modelPath' | 'outputName' | 'pool' | 'providers' | 'threads' | 'preprocess' | 'onNotice'>,
): Promise<ModelCheck> {
  const modelPath = resolve(o.modelPath);
  if (!existsSync(modelPath) || !statSync(modelPath).isFile())
    throw new FcprobeError('BAD_MODEL', `Model file ${o.modelPath} does not exist.`);
  const { list: providers, explicit } = parseProviders(o.providers);
  if (explicit) checkProvidersInstalled(providers);
  const worker = new EncoderWorker();
  try {
    const p = await prepareModel(worker, {
      ...o,
      modelPath,
      providers,
      explicit,
      threads: o.threads ?? null,
      borderCrop: 0,
    });
    return {
      provider: p.ready.provider,
      inputShape: p.ready.inputs[0]!.shape,
      outputName: p.output.name,
      outputShape: p.output.shape,
      preprocess: p.spec,
    };
  } finally {
    await worker.close();
  }
}
