import type { FeatureManifest } from './manifest.js';
import type { PreprocessSpec } from '../image/preprocessSpec.js';
import { hashValue } from '../io/hash.js';

/** sha256 of one external-data file of the model, by its location relative to the model's folder. */
export interface ExternalDataFile {
  location: string;
  sha256: string;
}

/**
 * What determines the bytes of features.npy: the model file and every external-data file it references, the
 * output and pooling, the preprocessing, the file list with labels, and the images themselves (imagesHash: by
 * default each file's size and modification time, with --verify-content a hash of their bytes). The execution
 * provider is deliberately not part of it: cuda and cpu features agree to float tolerance, and a run resumed on
 * another machine should not start over.
 */
export function featureKey(p: {
  sha256: string;
  external: ExternalDataFile[];
  imagesHash: string;
  outputName: string;
  pool: string;
  inputType: string;
  spec: PreprocessSpec;
  listHash: string;
  shard: FeatureManifest['shard'];
}): string {
  return hashValue({
    v: 2,
    sha256: p.sha256,
    external: p.external,
    images: p.imagesHash,
    output: p.outputName,
    pool: p.pool,
    inputType: p.inputType,
    spec: p.spec,
    lHash: p.listHash,
    shard: p.shard,
  });
}
