import { existsSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import type {
  ArraySchema,
  MapSchema,
  ObjectSchema,
  Schema,
  StringSchema,
} from '@sluice/plugin-api';
import { ProblemCollector } from './problems.js';
import { canonicalKey, closestMatches, didYouMean } from './relaxed.js';
import { SECRET_KEY_PATTERN } from './secretKeys.js';
import type { Origin, YEntry, YMap, YNode, YScalar } from './yamlTree.js';

/** One step of a key path: a key or a list index. */
export type PathSegment = string | number;

/** `canal.conf.canalAdapters[0].properties["jdbc.url"]`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z0-9_$-]+$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** Options of {@link bindNode}. */
export interface BindOptions {
  readonly problems: ProblemCollector;
  /** Resolves placeholders in a scalar's text (and reports unresolvable ones). */
  readonly resolveText: (text: string, node: YScalar, path: readonly PathSegment[]) => string;
  /**
   * A value for a scalar property reached from the root through objects only (Spring's
   * environment-variable overrides); undefined when there is none.
   */
  readonly override?: (path: readonly string[]) => YScalar | undefined;
  /** True when some override exists below `path` (so an absent object is still bound). */
  readonly hasOverridesUnder?: (path: readonly string[]) => boolean;
  /** Secret values met while binding are added here, so printouts can redact them anywhere. */
  readonly secrets: Set<string>;
  /** Match object keys exactly instead of relaxed (canal's map-typed `properties` keep their keys verbatim). */
  readonly exactKeys?: boolean;
  /**
   * The configuration directory: a string property whose schema has `path` is bound to its
   * absolute path resolved against it, and one with `path: 'existing'` that does not exist is an
   * error (also when the value is the schema's default). Without it paths stay as written.
   */
  readonly configDir?: string;
}

const isEmptyScalar = (node: YNode | undefined): boolean =>
  node !== undefined && node.kind === 'scalar' && (node.text === null || node.text === '');

const SCALAR_TYPES = new Set(['string', 'integer', 'number', 'boolean']);

function describe(schema: Schema): string {
  switch (schema.type) {
    case 'string':
      return schema.enum ? `one of ${schema.enum.join(', ')}` : 'a text value';
    case 'integer':
      return rangeText('an integer', schema.minimum, schema.maximum);
    case 'number':
      return rangeText('a number', schema.minimum, schema.maximum);
    case 'boolean':
      return 'true or false';
    case 'object':
      return 'a mapping of keys';
    case 'map':
      return 'a mapping of keys';
    case 'array':
      return 'a list';
    default:
      return 'a value';
  }
}

function rangeText(base: string, min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return `${base} from ${min} to ${max}`;
  if (min !== undefined) return `${base} ≥ ${min}`;
  if (max !== undefined) return `${base} ≤ ${max}`;
  return base;
}

function kindName(node: YNode): string {
  return node.kind === 'map'
    ? 'a mapping'
    : node.kind === 'seq'
      ? 'a list'
      : `"${node.text ?? ''}"`;
}

/**
 * Binds a YAML node to a {@link Schema} the way Spring binds canal-adapter's configuration:
 * relaxed keys, an empty value means the default, scalars converted from their text, unknown
 * keys reported as warnings (with the closest valid key), type errors as errors. Returns the
 * plain value (objects use the schema's key spelling; defaults filled in), or undefined.
 */
export function bindNode(
  schema: Schema,
  node: YNode | undefined,
  path: readonly PathSegment[],
  options: BindOptions,
  objectChain?: readonly string[],
): unknown {
  if (node === undefined) return schema.default;
  if (isEmptyScalar(node)) {
    if (schema.default !== undefined) return schema.default;
    if (schema.type === 'string') return '';
    if (schema.type === 'map' || schema.type === 'object') return undefined;
    return undefined;
  }
  switch (schema.type) {
    case 'string':
    case 'integer':
    case 'number':
    case 'boolean':
      return bindScalar(schema, node, path, options);
    case 'object':
      return bindObject(schema, node, path, options, objectChain);
    case 'map':
      return bindMap(schema, node, path, options);
    case 'array':
      return bindArray(schema, node, path, options);
    default:
      return plainResolved(node, path, options);
  }
}

function invalid(
  node: Origin,
  path: readonly PathSegment[],
  options: BindOptions,
  message: string,
  expected: string,
  suggestion?: string,
): undefined {
  options.problems.add({
    severity: 'error',
    code: 'invalid-value',
    file: node.file,
    line: node.line,
    path: formatPath(path),
    message,
    expected,
    ...(suggestion ? { suggestion } : {}),
  });
  return undefined;
}

function bindScalar(
  schema: Schema,
  node: YNode,
  path: readonly PathSegment[],
  options: BindOptions,
): unknown {
  if (node.kind !== 'scalar')
    return invalid(node, path, options, `found ${kindName(node)}`, describe(schema));
  const text = options.resolveText(node.text ?? '', node, path);
  if (schema.secret && text !== '') options.secrets.add(text);
  if (text === '' && schema.default !== undefined) return schema.default;
  switch (schema.type) {
    case 'string': {
      if (schema.enum && text !== '') {
        const hit = schema.enum.find((e) =>
          schema.caseInsensitive ? e.toLowerCase() === text.toLowerCase() : e === text,
        );
        if (hit === undefined) {
          return invalid(
            node,
            path,
            options,
            `"${text}" is not allowed`,
            describe(schema),
            didYouMean(closestMatches(text, schema.enum)),
          );
        }
        return hit;
      }
      return text;
    }
    case 'integer':
    case 'number': {
      const trimmed = text.trim();
      if (trimmed === '') return undefined;
      const ok =
        schema.type === 'integer'
          ? /^[-+]?\d+$/.test(trimmed)
          : /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(trimmed);
      const value = Number(trimmed);
      if (!ok || !Number.isFinite(value))
        return invalid(
          node,
          path,
          options,
          `"${text}" is not ${describe(schema)}`,
          describe(schema),
        );
      if (
        (schema.minimum !== undefined && value < schema.minimum) ||
        (schema.maximum !== undefined && value > schema.maximum)
      ) {
        return invalid(node, path, options, `${value} is out of range`, describe(schema));
      }
      return value;
    }
    case 'boolean': {
      const lower = text.trim().toLowerCase();
      if (['true', 'on', 'yes', '1'].includes(lower)) return true;
      if (['false', 'off', 'no', '0'].includes(lower)) return false;
      if (lower === '') return undefined;
      return invalid(node, path, options, `"${text}" is not a boolean`, 'true or false');
    }
    default:
      return text;
  }
}

interface PropertyEntries {
  readonly entries: Map<string, YEntry[]>;
}

/** Matches each entry of `node` to a property of `schema`, expanding dotted keys (`canal.conf:`). */
function matchEntries(
  schema: ObjectSchema,
  node: YMap,
  path: readonly PathSegment[],
  options: BindOptions,
): PropertyEntries {
  const names = Object.keys(schema.properties);
  const visible = names.filter((n) => !schema.properties[n]?.description?.startsWith('Deprecated'));
  const byCanonical = new Map(names.map((n) => [options.exactKeys ? n : canonicalKey(n), n]));
  const entries = new Map<string, YEntry[]>();
  const push = (prop: string, entry: YEntry) => {
    const list = entries.get(prop) ?? [];
    list.push(entry);
    entries.set(prop, list);
  };
  for (const entry of node.entries) {
    const direct = byCanonical.get(options.exactKeys ? entry.key : canonicalKey(entry.key));
    if (direct !== undefined) {
      push(direct, entry);
      continue;
    }
    let expanded = false;
    if (!options.exactKeys && entry.key.includes('.')) {
      const parts = entry.key.split('.');
      for (let n = parts.length - 1; n >= 1 && !expanded; n--) {
        const prop = byCanonical.get(canonicalKey(parts.slice(0, n).join('.')));
        const propSchema = prop === undefined ? undefined : schema.properties[prop];
        if (
          prop !== undefined &&
          propSchema !== undefined &&
          propSchema.type !== 'string' &&
          !SCALAR_TYPES.has(propSchema.type)
        ) {
          const rest = parts.slice(n).join('.');
          const inner: YMap = {
            kind: 'map',
            file: node.file,
            line: entry.line,
            entries: [{ key: rest, line: entry.line, value: entry.value }],
          };
          push(prop, { key: parts.slice(0, n).join('.'), line: entry.line, value: inner });
          expanded = true;
        }
      }
    }
    if (!expanded) {
      const suggestion = didYouMean(closestMatches(entry.key, visible));
      options.problems.add({
        severity: 'warning',
        code: 'unknown-key',
        file: node.file,
        line: entry.line,
        path: formatPath([...path, entry.key]),
        message: 'unknown key, ignored',
        expected: visible.length > 0 ? `one of ${visible.join(', ')}` : 'no keys here',
        ...(suggestion ? { suggestion } : {}),
      });
    }
  }
  return { entries };
}

function bindObject(
  schema: ObjectSchema,
  node: YNode,
  path: readonly PathSegment[],
  options: BindOptions,
  objectChain: readonly string[] | undefined,
): Record<string, unknown> | undefined {
  if (node.kind !== 'map')
    return invalid(node, path, options, `found ${kindName(node)}`, describe(schema));
  const { entries } = matchEntries(schema, node, path, options);
  const out: Record<string, unknown> = {};
  const required = new Set(schema.required ?? []);
  for (const [prop, propSchema] of Object.entries(schema.properties)) {
    const found = entries.get(prop) ?? [];
    let value: YNode | undefined;
    if (found.length > 1 && found.every((e) => e.value.kind === 'map')) {
      value = {
        kind: 'map',
        file: node.file,
        line: found[0]?.line ?? node.line,
        entries: found.flatMap((e) => (e.value as YMap).entries),
      };
    } else {
      if (found.length > 1) {
        const last = found[found.length - 1];
        options.problems.add({
          severity: 'warning',
          code: 'duplicate-key',
          file: node.file,
          line: last?.line ?? node.line,
          path: formatPath([...path, prop]),
          message: `set ${found.length} times (${found.map((e) => `"${e.key}" on line ${e.line}`).join(', ')}); the last one wins`,
        });
      }
      value = found[found.length - 1]?.value;
    }
    const chain = objectChain ? [...objectChain, prop] : undefined;
    if (chain && SCALAR_TYPES.has(propSchema.type)) value = options.override?.(chain) ?? value;
    if (
      chain &&
      value === undefined &&
      propSchema.type === 'object' &&
      options.hasOverridesUnder?.(chain)
    ) {
      value = { kind: 'map', file: node.file, line: node.line, entries: [] };
    }
    const bound = bindNode(
      propSchema,
      value,
      [...path, prop],
      options,
      propSchema.type === 'object' ? chain : undefined,
    );
    const final =
      propSchema.type === 'string' && propSchema.path && options.configDir !== undefined
        ? bindPath(propSchema, bound, value ?? node, value === undefined, [...path, prop], options)
        : bound;
    if (final !== undefined) out[prop] = final;
    if (required.has(prop) && (bound === undefined || bound === '')) {
      options.problems.add({
        severity: 'error',
        code: 'required',
        file: node.file,
        line: value?.line || node.line,
        path: formatPath([...path, prop]),
        message: value === undefined ? 'missing' : 'must not be empty',
        expected: describe(propSchema),
      });
    }
  }
  return out;
}

/** Resolves a `path` property against the configuration directory and checks it exists when it must. */
function bindPath(
  schema: StringSchema,
  bound: unknown,
  origin: Origin,
  isDefault: boolean,
  path: readonly PathSegment[],
  options: BindOptions,
): unknown {
  if (typeof bound !== 'string' || bound === '' || options.configDir === undefined) return bound;
  const absolute = resolvePath(options.configDir, bound);
  if (schema.path === 'existing' && !existsSync(absolute)) {
    options.problems.add({
      severity: 'error',
      code: 'path-missing',
      file: origin.file,
      line: origin.line,
      path: formatPath(path),
      message: `${absolute} does not exist${isDefault ? ` (the default "${bound}"; the key is not set)` : ''}`,
      expected: 'an existing path, absolute or relative to the configuration directory',
    });
  }
  return absolute;
}

/** Spring flattens nested YAML under a `Map<String, String>` into dotted keys (`jdbc: {url: x}` → `jdbc.url`). */
export function flattenEntries(node: YMap, prefix = ''): YEntry[] {
  const out: YEntry[] = [];
  for (const e of node.entries) {
    const key = prefix ? `${prefix}.${e.key}` : e.key;
    if (e.value.kind === 'map') out.push(...flattenEntries(e.value, key));
    else out.push({ key, line: e.line, value: e.value });
  }
  return out;
}

function bindMap(
  schema: MapSchema,
  node: YNode,
  path: readonly PathSegment[],
  options: BindOptions,
): Record<string, unknown> | undefined {
  if (node.kind !== 'map')
    return invalid(node, path, options, `found ${kindName(node)}`, describe(schema));
  const scalarValues = SCALAR_TYPES.has(schema.values.type);
  const entries = scalarValues ? flattenEntries(node) : node.entries;
  const out: Record<string, unknown> = {};
  for (const e of entries) {
    const secretSchema =
      SECRET_KEY_PATTERN.test(e.key) && scalarValues
        ? { ...schema.values, secret: true }
        : schema.values;
    const bound = bindNode(secretSchema, e.value, [...path, e.key], options);
    out[e.key] = bound === undefined ? (scalarValues ? '' : undefined) : bound;
  }
  return out;
}

function bindArray(
  schema: ArraySchema,
  node: YNode,
  path: readonly PathSegment[],
  options: BindOptions,
): unknown[] | undefined {
  if (node.kind === 'seq')
    return node.items.map((item, i) => bindNode(schema.items, item, [...path, i], options));
  if (node.kind === 'scalar' && SCALAR_TYPES.has(schema.items.type)) {
    // Spring binds `a,b,c` to a list.
    const text = options.resolveText(node.text ?? '', node, path);
    return text
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part !== '')
      .map((part, i) =>
        bindNode(schema.items, { ...node, text: part }, [...path, i], {
          ...options,
          resolveText: (t) => t,
        }),
      );
  }
  return invalid(node, path, options, `found ${kindName(node)}`, describe(schema));
}

function plainResolved(node: YNode, path: readonly PathSegment[], options: BindOptions): unknown {
  if (node.kind === 'scalar')
    return node.text === null ? null : options.resolveText(node.text, node, path);
  if (node.kind === 'seq')
    return node.items.map((item, i) => plainResolved(item, [...path, i], options));
  const out: Record<string, unknown> = {};
  for (const e of node.entries) out[e.key] = plainResolved(e.value, [...path, e.key], options);
  return out;
}

/**
 * The value a plugin's `create` gets for a flat text map (`outerAdapters[].properties`, whose
 * keys such as `jdbc.url` are kept verbatim) bound to the plugin's schema: scalars converted,
 * defaults filled in, keys in the schema's spelling, unknown keys kept as text. Validation has
 * already reported every problem with file and line (`sluice validate`), so problems are not
 * collected here; a value that does not convert is left out (its default applies). With
 * `configDir`, `path` properties are resolved against it (see {@link BindOptions.configDir}).
 */
export function bindFlatProperties(
  schema: ObjectSchema,
  properties: Readonly<Record<string, string>>,
  configDir?: string,
): Record<string, unknown> {
  const origin = { file: '', line: 0 };
  const map: YMap = {
    kind: 'map',
    ...origin,
    entries: Object.entries(properties).map(([key, text]) => ({
      key,
      line: 0,
      value: { kind: 'scalar', ...origin, text },
    })),
  };
  const problems = new ProblemCollector();
  const bound = bindNode(schema, map, [], {
    problems,
    secrets: new Set(),
    exactKeys: true,
    resolveText: (t) => t,
    ...(configDir !== undefined ? { configDir } : {}),
  });
  const known = new Set(Object.keys(schema.properties));
  const extra = Object.fromEntries(Object.entries(properties).filter(([k]) => !known.has(k)));
  return { ...extra, ...(typeof bound === 'object' && bound !== null ? bound : {}) };
}
