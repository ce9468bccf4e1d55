/**
 * The subset of JSON Schema (2020-12) that schema/*.schema.json use (annotations: title, description, default):
 * type, const, enum, required, properties, additionalProperties: false, items, minItems/maxItems, uniqueItems,
 * minimum/maximum (exclusive too), minLength, pattern, oneOf, local $ref.
 * Returns the problems as "path: what"; an unknown keyword is itself a problem, so the subset cannot silently
 * stop checking something.
 */
type Schema = Record<string, unknown>;
const KNOWN = new Set([
  '$schema',
  '$id',
  '$defs',
  'title',
  'description',
  'default',
  'type',
  'const',
  'enum',
  'required',
  'properties',
  'additionalProperties',
  'items',
  'minItems',
  'maxItems',
  'minimum',
  'exclusiveMinimum',
  'maximum',
  'exclusiveMaximum',
  'uniqueItems',
  'minLength',
  'pattern',
  'oneOf',
  '$ref',
]);

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

export function validateJson(value: unknown, schema: Schema, root: Schema = schema, path = '$'): string[] {
  const out: string[] = [];
  for (const k of Object.keys(schema)) if (!KNOWN.has(k)) out.push(`${path}: schema keyword ${k} not supported`);
  if (typeof schema.$ref === 'string') {
    const target = schema.$ref
      .replace(/^#\//, '')
      .split('/')
      .reduce<unknown>((o, k) => (o as Schema)[k], root) as Schema;
    return [...out, ...validateJson(value, target, root, path)];
  }
  const t = typeOf(value);
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    const ok = types.some((ty) => ty === t || (ty === 'number' && t === 'integer'));
    if (!ok) return [...out, `${path}: expected ${types.join('|')}, got ${t}`];
  }
  if ('const' in schema && JSON.stringify(schema.const) !== JSON.stringify(value))
    out.push(`${path}: expected ${JSON.stringify(schema.const)}`);
  if (Array.isArray(schema.enum) && !schema.enum.includes(value))
    out.push(`${path}: not one of ${schema.enum.join(', ')}`);
  if (Array.isArray(schema.oneOf)) {
    const matches = schema.oneOf.filter((s) => validateJson(value, s as Schema, root, path).length === 0).length;
    if (matches !== 1) out.push(`${path}: matches ${matches} of the oneOf alternatives, expected exactly 1`);
  }
  if (t === 'object') {
    const o = value as Record<string, unknown>;
    for (const r of (schema.required as string[] | undefined) ?? []) if (!(r in o)) out.push(`${path}: missing ${r}`);
    const props = (schema.properties as Record<string, Schema> | undefined) ?? {};
    for (const [k, v] of Object.entries(o)) {
      if (props[k]) out.push(...validateJson(v, props[k], root, `${path}.${k}`));
      else if (schema.additionalProperties === false) out.push(`${path}: unknown field ${k}`);
    }
  }
  if (t === 'array') {
    const a = value as unknown[];
    if (typeof schema.minItems === 'number' && a.length < schema.minItems)
      out.push(`${path}: fewer than ${schema.minItems} items`);
    if (typeof schema.maxItems === 'number' && a.length > schema.maxItems)
      out.push(`${path}: more than ${schema.maxItems} items`);
    if (schema.uniqueItems === true && new Set(a.map((v) => JSON.stringify(v))).size !== a.length)
      out.push(`${path}: repeated items`);
    if (schema.items)
      for (const [i, v] of a.entries()) out.push(...validateJson(v, schema.items as Schema, root, `${path}[${i}]`));
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) out.push(`${path}: below ${schema.minimum}`);
    if (typeof schema.exclusiveMinimum === 'number' && value <= schema.exclusiveMinimum)
      out.push(`${path}: not above ${schema.exclusiveMinimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) out.push(`${path}: above ${schema.maximum}`);
    if (typeof schema.exclusiveMaximum === 'number' && value >= schema.exclusiveMaximum)
      out.push(`${path}: not below ${schema.exclusiveMaximum}`);
  }
  if (typeof value === 'string') {
    if (typeof schema.minLength === 'number' && value.length < schema.minLength)
      out.push(`${path}: shorter than ${schema.minLength}`);
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value))
      out.push(`${path}: does not match ${schema.pattern}`);
  }
  return out;
}
