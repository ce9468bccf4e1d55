/**
 * What extract (and `run`'s preflight) checks about a model before any image is decoded: that it loads on a
 * provider, takes an NCHW float image, has a usable feature output, and agrees with the preprocessing.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { FcprobeError, badOption } from '../errors.js';
import {
  assumedPreprocessWarning,
  describePreprocess,
  describeSource,
  PREPROCESS_FIELDS,
  PREPROCESS_SOURCES,
  type PreprocessLayer,
  type PreprocessOverrides,
  type PreprocessProvenance,
  type PreprocessResolution,
  resolvePreprocessLayers,
} from '../image/preprocessSpec.js';
import { preprocessMetadataAssumed, readOnnxMetadata, readPreprocessMetadata } from './onnxMetadata.js';
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
  provenance: PreprocessProvenance;
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
    preprocessLayers?: readonly PreprocessLayer[] | undefined;
    /** The model's name in notices (default: its path). */
    modelName?: string | undefined;
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
  const { spec, provenance } = resolveModelPreprocess(o.modelPath, o.preprocess, o.preprocessLayers, input.size, {
    borderCrop: o.preprocess?.borderCrop ?? (o.borderCrop || undefined),
    autoOrient: o.preprocess?.autoOrient,
  });
  for (const m of preprocessNotices(o.modelName ?? o.modelPath, spec, provenance)) o.onNotice?.(m);
  return { ready, input, output, spec, provenance };
}

/**
 * The layers a command states plus the model's own `fcprobe.preprocess` metadata, resolved in the one order
 * (src/image/preprocessSpec.ts): the single path every command that reads images takes.
 */
export function resolveModelPreprocess(
  modelPath: string,
  given: PreprocessOverrides | undefined,
  layers: readonly PreprocessLayer[] | undefined,
  modelSize: number | null,
  data: { borderCrop?: number | undefined; autoOrient?: boolean | undefined },
): PreprocessResolution {
  const all: PreprocessLayer[] = [...(layers ?? [])];
  if (given && PREPROCESS_FIELDS.some((k) => given[k] !== undefined)) all.push({ source: 'flag', values: given });
  // One read of the model's top-level fields serves both questions about its metadata.
  const metadata = readOnnxMetadata(modelPath);
  const meta = readPreprocessMetadata(modelPath, metadata);
  if (meta) all.push({ source: 'metadata', values: meta, assumed: preprocessMetadataAssumed(metadata) });
  return resolvePreprocessLayers(all, modelSize, data);
}

/** What the terminal is told about a model's preprocessing: the spec and its source, and any warning. */
export function preprocessNotices(model: string, spec: PreprocessSpec, p: PreprocessProvenance): string[] {
  const out = [`preprocessing of ${model}: ${describePreprocess(spec)} (from ${describeSource(p.source)})`];
  if (p.overridden.length > 0 || p.setAside.length > 0)
    out.push(
      `warning: ${model}: stated preprocessing replaced: ${[...p.overridden, ...p.setAside].join('; ')} ` +
        `(precedence: ${PREPROCESS_SOURCES.join(' > ')})`,
    );
  if (p.source === 'default') out.push(assumedPreprocessWarning(model, spec));
  return out;
}

export interface ModelCheck {
  provider: string;
  inputShape: (number | string)[];
  outputName: string;
  outputShape: (number | string)[];
  /** The feature output's element type as onnxruntime reports it ('float32', 'float16'). */
  outputType: string;
  preprocess: PreprocessSpec;
  preprocessProvenance: PreprocessProvenance;
}

/**
 * Preflight for multi-step commands (`run`): loads the model and validates options exactly as extract would,
 * so that a broken second model fails before the first one's hours of extraction.
 */
export async function inspectModel(
  o: Pick<
    ExtractOptions,
    | 'modelPath'
    | 'outputName'
    | 'pool'
    | 'providers'
    | 'threads'
    | 'preprocess'
    | 'preprocessLayers'
    | 'modelName'
    | 'onNotice'
  >,
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
      outputType: p.output.type,
      preprocess: p.spec,
      preprocessProvenance: p.provenance,
    };
  } finally {
    await worker.close();
  }
}
