import { resolve } from 'node:path';
import type { ObjectSchema, Schema } from '@sluice/plugin-api';

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * `value` with every missing key of an object schema filled from the schema's defaults, at every
 * depth: the binder returns an absent object's `default` as is (`{}`), so this is what makes a
 * schema the one place defaults are written. Keys the schema does not declare, and values that
 * are present, are kept. Pure; `value` is not modified.
 */
export function withDefaults(schema: Schema, value: unknown): unknown {
  if (schema.type !== 'object') return value === undefined ? schema.default : value;
  const source = isPlainObject(value) ? value : isPlainObject(schema.default) ? schema.default : {};
  const out: Record<string, unknown> = { ...source };
  for (const [key, propSchema] of Object.entries((schema as ObjectSchema).properties)) {
    const filled = withDefaults(propSchema, source[key]);
    if (filled !== undefined) out[key] = filled;
  }
  return out;
}

/**
 * `value` with every string property whose schema has `path` resolved against `dir` (absolute
 * paths stay as they are), at every depth of object schemas. For values that did not go through
 * the binder with a configuration directory, such as defaults filled in by {@link withDefaults}.
 */
export function resolvePaths(schema: Schema, value: unknown, dir: string): unknown {
  if (schema.type === 'string')
    return schema.path && typeof value === 'string' && value !== '' ? resolve(dir, value) : value;
  if (schema.type !== 'object' || !isPlainObject(value)) return value;
  const out: Record<string, unknown> = { ...value };
  for (const [key, propSchema] of Object.entries(schema.properties)) {
    if (key in value) out[key] = resolvePaths(propSchema, value[key], dir);
  }
  return out;
}
