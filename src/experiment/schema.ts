/**
 * schema/experiment.schema.json, generated: the leaf fields (types, ranges, enums, defaults, descriptions) come
 * from the run-config tables of src/options.ts, which parseRunConfig checks against too; this file adds the
 * structure (models and sets as a path or an object, the baselines). Write it with `npm run schema` after a
 * build; test/experiment/schema.test.ts fails when the committed file differs.
 */
import {
  CONFIG_MODEL_FIELDS,
  CONFIG_PROBE_FIELDS,
  CONFIG_SET_FIELDS,
  CONFIG_TOP_FIELDS,
  DISTILL_OPTIONS,
  DISTILL_SETTING_KEYS,
} from '../options.js';
import { type FieldSpec, type FieldTable, is, jsonSchemaOf, type OptionSpec } from '../validate.js';

type Json = Record<string, unknown>;

function property(f: FieldSpec): Json {
  return {
    ...jsonSchemaOf(f.check),
    ...(f.description ? { description: f.description } : {}),
    ...(f.default !== undefined ? { default: f.default } : {}),
  };
}

function properties(table: FieldTable): Json {
  return Object.fromEntries(Object.entries(table).map(([k, f]) => [k, property(f)]));
}

/** A closed object of the table's fields. */
function object(table: FieldTable): Json {
  const required = Object.entries(table)
    .filter(([, f]) => f.required)
    .map(([k]) => k);
  return {
    type: 'object',
    ...(required.length ? { required } : {}),
    additionalProperties: false,
    properties: properties(table),
  };
}

const point = {
  type: 'object',
  required: ['id', 'ood'],
  additionalProperties: false,
  properties: {
    name: { type: 'string' },
    id: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
    ood: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
  },
};

/** A model object: a path, or (students only) a name and a distill object; preprocessing either way. */
function modelObject(): Json {
  const { name, path, ...preprocessing } = properties(CONFIG_MODEL_FIELDS);
  return {
    type: 'object',
    oneOf: [{ required: ['path'] }, { required: ['name', 'distill'] }],
    additionalProperties: false,
    properties: {
      name,
      path,
      distill: {
        $ref: '#/$defs/distill',
        description:
          'Students only, instead of "path": distil a head on this backbone to fit the teacher on the ID training ' +
          'set (docs/distill.md); the other fields then apply to the backbone, and "pool" is not allowed.',
      },
      ...preprocessing,
    },
  };
}

/** A student's distill object: the backbone and the settings of `fcprobe distill`, with its checks and defaults. */
function distillObject(): Json {
  const settings = Object.fromEntries(
    DISTILL_SETTING_KEYS.map((k) => {
      const o: OptionSpec = DISTILL_OPTIONS[k];
      return [k, property({ check: o.check ?? is.boolean, description: o.description, default: o.default })];
    }),
  );
  return {
    type: 'object',
    required: ['backbone'],
    additionalProperties: false,
    description: 'The settings of `fcprobe distill`, by the same rules and defaults (docs/distill.md).',
    properties: { backbone: { type: 'string', description: "The student backbone's ONNX file." }, ...settings },
  };
}

/** The JSON schema of `fcprobe run --config <file>`. */
export function experimentSchema(): Json {
  const { title, workDir, split, seeds, providers, threads, batchSize, presentClassesOnly, bootstrap } =
    properties(CONFIG_TOP_FIELDS);
  const required = Object.entries(CONFIG_TOP_FIELDS)
    .filter(([, f]) => 'required' in f && f.required)
    .map(([k]) => k);
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'fcprobe/experiment.schema.json',
    title: 'fcprobe run experiment',
    description:
      "Config of `fcprobe run --config <file>`. Relative paths are resolved against the config file's folder. " +
      'Generated from src/options.ts by `npm run schema`; do not edit.',
    type: 'object',
    required: [...required, 'teacher', 'train'],
    oneOf: [{ required: ['student'] }, { required: ['students'] }],
    additionalProperties: false,
    properties: {
      $schema: { type: 'string' },
      title,
      workDir,
      teacher: { $ref: '#/$defs/model' },
      student: {
        $ref: '#/$defs/model',
        description: 'The student (named "student" unless it says otherwise); or give "students".',
      },
      students: {
        type: 'array',
        items: { $ref: '#/$defs/model' },
        minItems: 1,
        description:
          'One or more students, each probed and compared with the teacher (named by file unless they say otherwise).',
      },
      references: {
        type: 'array',
        items: { $ref: '#/$defs/model' },
        description:
          'Further models probed the same way; their (ID, OOD) accuracies join the effective-robustness baselines.',
      },
      train: { $ref: '#/$defs/set', description: 'ID training set: the probes are fitted on its features.' },
      test: { type: 'array', items: { $ref: '#/$defs/set' }, description: 'ID test sets.' },
      ood: {
        type: 'array',
        items: { $ref: '#/$defs/set' },
        description: 'OOD sets; their classes must be training classes (or mapped to them by the layout).',
      },
      probe: object(CONFIG_PROBE_FIELDS),
      split,
      seeds,
      providers,
      threads,
      batchSize,
      presentClassesOnly,
      bootstrap,
      baselines: {
        description:
          'Effective robustness baseline: (ID, OOD) accuracy pairs of reference models, fitted in logit space. ' +
          'A bare array of points is compared with the OOD average.',
        oneOf: [
          { type: 'array', items: { $ref: '#/$defs/point' }, minItems: 2 },
          {
            type: 'array',
            items: {
              type: 'object',
              required: ['points'],
              additionalProperties: false,
              properties: {
                against: { type: 'string', description: '"ood-average" (default) or the name of one OOD set.' },
                label: { type: 'string' },
                points: { type: 'array', items: { $ref: '#/$defs/point' }, minItems: 2 },
              },
            },
          },
        ],
      },
    },
    $defs: {
      model: {
        oneOf: [
          {
            type: 'string',
            description:
              'Path of the ONNX encoder, or a pulled catalog name / hf:<owner>/<repo>/<path>.onnx[@<revision>] ' +
              'reference (docs/models.md).',
          },
          modelObject(),
        ],
      },
      distill: distillObject(),
      set: {
        oneOf: [
          { type: 'string', description: 'Folder path; the name is its last component.' },
          object(CONFIG_SET_FIELDS),
        ],
      },
      point,
    },
  };
}

/** The file's text: what schema/experiment.schema.json holds. */
export function experimentSchemaText(): string {
  return `${JSON.stringify(experimentSchema(), null, 2)}\n`;
}
