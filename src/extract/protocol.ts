/** Messages between the main thread and the inference worker (one onnxruntime session per worker). */
import type { PoolName } from '../options.js';

export type ProviderName = 'cuda' | 'tensorrt' | 'webgpu' | 'cpu';

export interface InitRequest {
  type: 'init';
  modelPath: string;
  /** Providers to try in order; the first whose session loads is used. */
  providers: ProviderName[];
  threads: number | null;
}

export interface TensorMeta {
  name: string;
  type: string;
  shape: (number | string)[];
}

export interface InitReply {
  type: 'ready';
  provider: ProviderName;
  /** Why earlier providers in the list did not load. */
  providerFailures: { provider: ProviderName; reason: string }[];
  inputs: TensorMeta[];
  outputs: TensorMeta[];
}

export interface RunRequest {
  type: 'run';
  id: number;
  /** [n, 3, size, size] float32, transferred. */
  data: Float32Array;
  n: number;
  size: number;
  outputName: string;
  pool: PoolName | null;
}

export interface RunReply {
  type: 'result';
  id: number;
  /** [n, dim] float32, transferred. */
  features: Float32Array;
  dim: number;
}

export interface ErrorReply {
  type: 'error';
  id: number | null;
  code: string;
  message: string;
  hint?: string;
}

export type WorkerRequest = InitRequest | RunRequest | { type: 'close' };
export type WorkerReply = InitReply | RunReply | ErrorReply;
