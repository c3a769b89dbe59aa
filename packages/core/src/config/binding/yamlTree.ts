import {
  LineCounter,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  parseDocument,
  type Document,
  type Node,
} from 'yaml';

/** Where a value came from: a file (relative to the configuration directory) and a 1-based line; 0 = no line. */
export interface Origin {
  readonly file: string;
  readonly line: number;
}

/** A YAML scalar. `text` is the source text (`0123` stays `0123`); null for an empty value or `~`/`null`. */
export interface YScalar extends Origin {
  readonly kind: 'scalar';
  readonly text: string | null;
}

/** One `key: value` pair of a mapping, with the line of its key. */
export interface YEntry {
  readonly key: string;
  readonly line: number;
  readonly value: YNode;
}

/** A YAML mapping; entries in file order (duplicates kept). */
export interface YMap extends Origin {
  readonly kind: 'map';
  readonly entries: readonly YEntry[];
}

/** A YAML sequence. */
export interface YSeq extends Origin {
  readonly kind: 'seq';
  readonly items: readonly YNode[];
}

/** A parsed YAML value that remembers its file and line. */
export type YNode = YScalar | YMap | YSeq;

/** A YAML syntax error. */
export interface YamlSyntaxError {
  readonly line: number;
  readonly message: string;
}

/** The result of {@link parseYamlTree}. */
export interface ParsedYaml {
  /** The document's root; undefined for an empty document. */
  readonly root: YNode | undefined;
  readonly errors: readonly YamlSyntaxError[];
}

/**
 * Parses YAML text into a {@link YNode} tree with line numbers. Scalars keep their source text,
 * like Spring, which binds every value from its string form (so `password: 0123` stays `0123`).
 */
export function parseYamlTree(text: string, file: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter,
    keepSourceTokens: false,
    uniqueKeys: false,
    prettyErrors: false,
  });
  const lineOf = (offset: number | undefined) =>
    offset === undefined ? 0 : lineCounter.linePos(offset).line;
  // Later syntax errors are mostly consequences of the first: report that one.
  const errors = doc.errors
    .slice(0, 1)
    .map((e) => ({ line: lineOf(e.pos[0]), message: firstLine(e.message) }));
  if (errors.length > 0) return { root: undefined, errors };
  const convert = (node: unknown, fallbackLine: number, depth: number): YNode => {
    if (depth > 64) return { kind: 'scalar', file, line: fallbackLine, text: null };
    if (isAlias(node)) return convert(node.resolve(doc as Document), fallbackLine, depth + 1);
    const line = lineOf((node as Node | null)?.range?.[0]) || fallbackLine;
    if (isMap(node)) {
      const entries: YEntry[] = [];
      for (const pair of node.items) {
        const keyNode = pair.key as Node | null;
        const keyLine = lineOf(keyNode?.range?.[0]) || line;
        const key = isScalar(keyNode)
          ? (scalarText(keyNode.value, keyNode.source) ?? '')
          : String(keyNode ?? '');
        if (key === '<<' && isMap(resolveAlias(pair.value, doc))) {
          // YAML merge key: splice the merged mapping's entries in.
          const merged = convert(pair.value, keyLine, depth + 1);
          if (merged.kind === 'map') entries.push(...merged.entries);
          continue;
        }
        entries.push({ key, line: keyLine, value: convert(pair.value, keyLine, depth + 1) });
      }
      return { kind: 'map', file, line, entries };
    }
    if (isSeq(node))
      return { kind: 'seq', file, line, items: node.items.map((i) => convert(i, line, depth + 1)) };
    if (isScalar(node))
      return {
        kind: 'scalar',
        file,
        line,
        text: scalarText(node.value, node.type === 'PLAIN' ? node.source : undefined),
      };
    return { kind: 'scalar', file, line, text: null };
  };
  const contents = doc.contents;
  if (contents === null || (isScalar(contents) && contents.value === null))
    return { root: undefined, errors: [] };
  return { root: convert(contents, 1, 0), errors: [] };
}

function resolveAlias(node: unknown, doc: Document): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}

function scalarText(value: unknown, source: string | undefined): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (source !== undefined && source !== '') return source;
  return String(value);
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '').trim();
}

/** A scalar node made up by the loader (environment overrides, defaults). */
export function syntheticScalar(text: string | null, origin: Origin): YScalar {
  return { kind: 'scalar', file: origin.file, line: origin.line, text };
}

/** The plain JavaScript value of a node (maps as objects, scalars as strings or null). */
export function toPlain(node: YNode | undefined): unknown {
  if (node === undefined) return undefined;
  if (node.kind === 'scalar') return node.text;
  if (node.kind === 'seq') return node.items.map(toPlain);
  const out: Record<string, unknown> = {};
  for (const e of node.entries) out[e.key] = toPlain(e.value);
  return out;
}
