import { canonicalKey } from './relaxed.js';
import type { YNode } from './yamlTree.js';

/** Finds the value of a property name, or undefined. */
export type PropertyLookup = (name: string) => string | undefined;

/** The outcome of resolving Spring placeholders in one value. */
export interface PlaceholderResolution {
  readonly text: string;
  /** Placeholders that had neither a value nor a default. */
  readonly missing: readonly string[];
}

const MAX_DEPTH = 16;

/** Finds the `}` closing the `${` at `start` (nesting aware); -1 if none. */
function closingBrace(text: string, start: number): number {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    if (text.startsWith('${', i)) {
      depth++;
      i++;
    } else if (text[i] === '}') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/**
 * Resolves Spring placeholders in an `application.yml` value: `${NAME}` and `${NAME:default}`,
 * nested (`${A:${B:x}}`), and values that themselves contain placeholders. A placeholder with no
 * value and no default is reported in `missing` and left as written.
 */
export function resolveSpringPlaceholders(
  text: string,
  lookup: PropertyLookup,
  depth = 0,
): PlaceholderResolution {
  if (!text.includes('${') || depth > MAX_DEPTH) return { text, missing: [] };
  let out = '';
  const missing: string[] = [];
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf('${', i);
    if (open < 0) break;
    const close = closingBrace(text, open);
    if (close < 0) break;
    out += text.slice(i, open);
    const body = text.slice(open + 2, close);
    const sep = separatorIndex(body);
    const rawName = sep < 0 ? body : body.slice(0, sep);
    const name = resolveSpringPlaceholders(rawName, lookup, depth + 1);
    missing.push(...name.missing);
    const value = lookup(name.text.trim());
    if (value !== undefined) {
      const nested = resolveSpringPlaceholders(value, lookup, depth + 1);
      missing.push(...nested.missing);
      out += nested.text;
    } else if (sep >= 0) {
      const fallback = resolveSpringPlaceholders(body.slice(sep + 1), lookup, depth + 1);
      missing.push(...fallback.missing);
      out += fallback.text;
    } else {
      missing.push(name.text.trim());
      out += text.slice(open, close + 1);
    }
    i = close + 1;
  }
  out += text.slice(i);
  return { text: out, missing };
}

/** Index of the first `:` of a placeholder body that is not inside a nested `${…}`. */
function separatorIndex(body: string): number {
  let depth = 0;
  for (let i = 0; i < body.length; i++) {
    if (body.startsWith('${', i)) {
      depth++;
      i++;
    } else if (body[i] === '}') depth--;
    else if (body[i] === ':' && depth === 0) return i;
  }
  return -1;
}

/**
 * Resolves canal's mapping-file placeholders: `${name}` looked up in the environment (no
 * `:default` syntax); an unresolvable placeholder is left exactly as written.
 */
export function resolveMappingPlaceholders(text: string, lookup: PropertyLookup): string {
  return text.replace(/\$\{([^{}]+)\}/g, (whole, name: string) => lookup(name) ?? whole);
}

/** The environment-variable form of a property name: `canal.conf.syncBatchSize` → `CANAL_CONF_SYNCBATCHSIZE`. */
export function environmentName(property: string): string {
  return property
    .split('.')
    .map((part) => canonicalKey(part).toUpperCase())
    .join('_')
    .replace(/[[\]]/g, '_');
}

/**
 * Spring's property lookup for placeholders: the environment variable named exactly, then its
 * relaxed form (`canal.conf.mode` → `CANAL_CONF_MODE`), then the keys of `application.yml`
 * itself (relaxed).
 */
export function springLookup(
  env: Readonly<Record<string, string | undefined>>,
  root: YNode | undefined,
): PropertyLookup {
  const own = flattenProperties(root);
  return (name) => {
    const exact = env[name];
    if (exact !== undefined) return exact;
    const relaxed = env[environmentName(name)];
    if (relaxed !== undefined) return relaxed;
    return own.get(canonicalProperty(name));
  };
}

/** A property name with each dotted segment in canonical form. */
export function canonicalProperty(name: string): string {
  return name
    .split('.')
    .map((p) => canonicalKey(p))
    .join('.');
}

/** Every scalar of a YAML tree by its canonical property path (`canal.conf.mode`, `a.b[0].c`). */
export function flattenProperties(root: YNode | undefined): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (node: YNode, prefix: string) => {
    if (node.kind === 'scalar') {
      if (prefix) out.set(prefix, node.text ?? '');
    } else if (node.kind === 'seq') {
      node.items.forEach((item, i) => walk(item, `${prefix}[${i}]`));
    } else {
      for (const e of node.entries)
        walk(e.value, prefix ? `${prefix}.${canonicalProperty(e.key)}` : canonicalProperty(e.key));
    }
  };
  if (root) walk(root, '');
  return out;
}
