import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { experimentSchema, experimentSchemaText } from '../../src/experiment/schema.js';
import { parseRunConfig } from '../../src/experiment/config.js';

const committed = readFileSync(new URL('../../../schema/experiment.schema.json', import.meta.url), 'utf8');

describe('schema/experiment.schema.json', () => {
  it('is the file generated from the option tables (regenerate: npm run build && npm run schema)', () => {
    assert.equal(committed, experimentSchemaText());
  });

  it('maps checks to JSON-schema keywords', () => {
    const s = experimentSchema() as {
      properties: Record<string, unknown> & { probe: { properties: Record<string, unknown> } };
      $defs: { model: { oneOf: [unknown, { properties: Record<string, unknown>; oneOf: unknown[] }] } };
    };
    const model = s.$defs.model.oneOf[1];
    assert.deepEqual(model.oneOf, [{ required: ['path'] }, { required: ['name', 'distill'] }]);
    // No schema default: an absent preset is resolved from the model (metadata, catalog, hub) before the default.
    assert.deepEqual(model.properties.preset, {
      enum: ['torchvision', 'clip', 'inception'],
      description:
        "Preprocessing preset. Default: the model's fcprobe.preprocess metadata, its catalog entry or hub " +
        'preprocessor_config.json, else torchvision (with a warning in the terminal and the report).',
    });
    assert.deepEqual(model.properties.crop, { type: 'integer', minimum: 1 });
    assert.deepEqual(model.properties.mean, { type: 'array', items: { type: 'number' }, minItems: 3, maxItems: 3 });
    assert.deepEqual(s.properties.batchSize, { type: 'integer', minimum: 1, default: 32 });
    assert.deepEqual(s.properties.probe.properties.weightDecay, {
      type: 'number',
      minimum: 0,
      description: 'AdamW weight decay for sgd / paper (paper: 0.1 CLIP teachers, 1e-3 students).',
    });
    assert.equal((s.properties.probe.properties.C as { exclusiveMinimum: number }).exclusiveMinimum, 0);
  });

  it('agrees with the parser on a value at each bound', () => {
    const base = { workDir: 'w', teacher: 't.onnx', student: 's.onnx', train: 'tr', test: ['te'] };
    // The schema says C > 0 (exclusive) and weightDecay >= 0 (inclusive): the parser takes and refuses the same.
    assert.throws(() => parseRunConfig({ ...base, probe: { C: 0 } }, '/'), /probe\.C/);
    assert.equal(parseRunConfig({ ...base, probe: { C: 1e-9, weightDecay: 0 } }, '/').probe.weightDecay, 0);
    assert.throws(() => parseRunConfig({ ...base, probe: { weightDecay: -1e-9 } }, '/'), /probe\.weightDecay/);
    assert.throws(
      () => parseRunConfig({ ...base, threads: 0 }, '/'),
      /Expected config field "threads" to be an integer from 1 to 1024/,
    );
  });
});
