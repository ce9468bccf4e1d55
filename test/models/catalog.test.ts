import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CATALOG_FIELDS, loadCatalog, validateCatalog } from '../../src/models/catalog.js';
import { PRESETS } from '../../src/image/preprocessSpec.js';
import { isFcprobeError } from '../../src/errors.js';
import { validateJson } from '../helpers/jsonSchema.js';

const root = new URL('../../../', import.meta.url);
const schema = JSON.parse(readFileSync(new URL('schema/models-catalog.schema.json', root), 'utf8'));
const raw = JSON.parse(readFileSync(new URL('models/catalog.json', root), 'utf8'));

describe('models/catalog.json', () => {
  it('validates against schema/models-catalog.schema.json', () => {
    assert.deepEqual(validateJson(raw, schema), []);
  });

  it('the schema catches what it should (the validator is not vacuous)', () => {
    const broken = structuredClone(raw);
    broken.models[0].preset.interpolation = 'nearest';
    delete broken.models[1].license;
    broken.models[2].export.sha256 = 'abc';
    broken.models[3].surprise = 1;
    const problems = validateJson(broken, schema);
    assert.ok(
      problems.some((p) => /models\[0\]\.preset\.interpolation: not one of/.test(p)),
      problems.join('\n'),
    );
    assert.ok(problems.some((p) => /models\[1\]: missing license/.test(p)));
    assert.ok(problems.some((p) => /models\[2\]\.export: matches 0 of the oneOf/.test(p)));
    assert.ok(problems.some((p) => /models\[3\]: unknown field surprise/.test(p)));
  });

  it("the loader's field lists agree with the schema's", () => {
    const d = schema.$defs;
    const keys = (o: { properties: object }): string[] => Object.keys(o.properties).sort();
    assert.deepEqual(keys(d.entry), [...CATALOG_FIELDS.entry].sort());
    assert.deepEqual(keys(d.hub), [...CATALOG_FIELDS.hub].sort());
    assert.deepEqual(keys(d.script), [...CATALOG_FIELDS.script].sort());
    assert.deepEqual(keys(d.entry.properties.input), [...CATALOG_FIELDS.input].sort());
    assert.deepEqual(keys(d.entry.properties.preset), [...CATALOG_FIELDS.preset].sort());
    assert.deepEqual(keys(d.entry.properties.output), [...CATALOG_FIELDS.output].sort());
  });

  it('has the six models the issue names, with the paper protocol facts', () => {
    const cat = loadCatalog();
    const by = new Map(cat.models.map((m) => [m.name, m]));
    assert.deepEqual([...by.keys()].sort(), [
      'clip-rn50',
      'clip-vit-b16',
      'dinov2-vitb14',
      'dinov2-vits14',
      'resnet50-tv',
      'vit-b16-tv',
    ]);
    // reference.md: CLIP RN50 1024-d, ViT-B/16 512-d, CLIP preprocessing = the clip preset exactly.
    assert.equal(by.get('clip-rn50')!.output.featureDim, 1024);
    assert.equal(by.get('clip-vit-b16')!.output.featureDim, 512);
    assert.equal(by.get('clip-vit-b16')!.output.name, 'image_embeds');
    for (const name of ['clip-rn50', 'clip-vit-b16']) {
      const p = by.get(name)!.preset;
      assert.deepEqual(
        [p.interpolation, p.mean, p.std],
        [PRESETS.clip.interpolation, PRESETS.clip.mean, PRESETS.clip.std],
      );
    }
    for (const name of ['resnet50-tv', 'vit-b16-tv']) {
      const p = by.get(name)!.preset;
      assert.deepEqual(
        [p.resize, p.crop, p.mean, p.std],
        [256, 224, PRESETS.torchvision.mean, PRESETS.torchvision.std],
      );
    }
    // Every script export names a script that exists.
    for (const m of cat.models)
      if (m.export.kind === 'script')
        assert.ok(readFileSync(new URL(m.export.script, root)).length > 0, m.export.script);
  });

  it('the loader rejects a corrupt catalog naming the field', () => {
    const broken = structuredClone(raw);
    broken.models[4].preset.crop = 200;
    assert.throws(
      () => validateCatalog(broken),
      (e: unknown) => isFcprobeError(e) && /models\[4\]\.preset\.crop should be the input size 224/.test(e.message),
    );
    const dup = structuredClone(raw);
    dup.models[1].name = dup.models[0].name;
    assert.throws(() => validateCatalog(dup), /unique/);
  });
});
