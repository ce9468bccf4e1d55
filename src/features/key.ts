import type { FeatureManifest } from './manifest.js';
import type { PreprocessSpec } from '../image/preprocessSpec.js';
import { hashValue } from '../io/hash.js';

/**
 * What determines the bytes of features.npy. The execution provider is deliberately not part of it: cuda and
 * cpu features agree to float tolerance, and a run resumed on another machine should not start over.
 */
export function featureKey(p: {
  sha256: string;
  outputName: string;
  pool: string;
  inputType: string;
  spec: PreprocessSpec;
  listHash: string;
  shard: FeatureManifest['shard'];
}): string {
  return hashValue({
    v: 1,
    sha256: p.sha256,
    output: p.outputName,
    pool: p.pool,
    inputType: p.inputType,
    spec: p.spec,
    lHash: p.listHash,
    shard: p.shard,
  });
}
