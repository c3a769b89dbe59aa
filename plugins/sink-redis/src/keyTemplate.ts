/**
 * Key templates: `user:{id}`, `user:email:{email}`, `{{user:{id}}}:profile`.
 *
 * Syntax (like Python's `str.format`): `{column}` is replaced by the column's value as canal sent
 * it (text); `{{` and `}}` are a literal `{` and `}` — how a Redis Cluster hash tag is written
 * (`{{user:{id}}}:profile` renders `{user:42}:profile`, so every key of user 42 lands in one
 * slot). A lone `}` or an unclosed `{` is an error.
 */

/** One piece of a parsed template: literal text or a column reference. */
export type TemplatePart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'column'; readonly column: string };

/** A parsed key template. */
export interface KeyTemplate {
  /** The template as written in the mapping file. */
  readonly source: string;
  readonly parts: readonly TemplatePart[];
  /** The columns the template reads, in order of first use. */
  readonly columns: readonly string[];
}

/** A template that cannot be parsed; `message` is a full sentence. */
export class KeyTemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyTemplateError';
  }
}

/**
 * Parses a key template.
 *
 * @throws KeyTemplateError for a lone `}`, an unclosed or empty `{}` placeholder.
 */
export function parseKeyTemplate(source: string): KeyTemplate {
  const parts: TemplatePart[] = [];
  const columns: string[] = [];
  let text = '';
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (c === '{' && source[i + 1] === '{') {
      text += '{';
      i += 2;
    } else if (c === '}' && source[i + 1] === '}') {
      text += '}';
      i += 2;
    } else if (c === '{') {
      const end = source.indexOf('}', i + 1);
      if (end < 0)
        throw new KeyTemplateError(
          `"${source}": the "{" at position ${i} is not closed; write "{{" for a literal brace.`,
        );
      const column = source.slice(i + 1, end).trim();
      if (column === '' || column.includes('{'))
        throw new KeyTemplateError(
          `"${source}": "${source.slice(i, end + 1)}" at position ${i} is not a {column} placeholder; write "{{" and "}}" for literal braces.`,
        );
      if (text !== '') parts.push({ kind: 'text', text });
      text = '';
      parts.push({ kind: 'column', column });
      if (!columns.includes(column)) columns.push(column);
      i = end + 1;
    } else if (c === '}') {
      throw new KeyTemplateError(
        `"${source}": the "}" at position ${i} closes nothing; write "}}" for a literal brace.`,
      );
    } else {
      text += c;
      i += 1;
    }
  }
  if (text !== '') parts.push({ kind: 'text', text });
  return { source, parts, columns };
}

/** Why a key could not be rendered from a row image. */
export type RenderMiss = { readonly missing: string } | { readonly nullColumn: string };

/**
 * Renders a template with the values of `row`, prefixed by `prefix`.
 *
 * @returns the key; `{ nullColumn }` when a column is SQL NULL (no cache entry can be keyed by
 *   it, so there is nothing to touch); `{ missing }` when a column is not in the image (the key
 *   cannot be known: the caller reports the event as failed).
 */
export function renderKey(
  template: KeyTemplate,
  row: Readonly<Record<string, string | null>>,
  prefix: string,
): string | RenderMiss {
  let out = prefix;
  for (const part of template.parts) {
    if (part.kind === 'text') {
      out += part.text;
      continue;
    }
    if (!Object.prototype.hasOwnProperty.call(row, part.column)) return { missing: part.column };
    const value = row[part.column];
    if (value === null || value === undefined) return { nullColumn: part.column };
    out += value;
  }
  return out;
}

/** The literal text before the first placeholder (with `prefix`): what SCAN can MATCH on. */
export function staticPrefix(template: KeyTemplate, prefix: string): string {
  const first = template.parts[0];
  return prefix + (first?.kind === 'text' ? first.text : '');
}

/** Escapes a literal for a Redis glob pattern (SCAN MATCH). */
export function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** A regular expression matching exactly the keys `template` can render (values: 1+ chars). */
export function keyPattern(template: KeyTemplate, prefix: string): RegExp {
  const esc = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const body = template.parts.map((p) => (p.kind === 'text' ? esc(p.text) : '[\\s\\S]+?')).join('');
  return new RegExp(`^${esc(prefix)}${body}$`);
}

/**
 * The Redis Cluster hash tag of a key: the text between the first `{` and the next `}` when it
 * is not empty (Redis Cluster specification, "Hash tags"), else `undefined`.
 */
export function hashTag(key: string): string | undefined {
  const open = key.indexOf('{');
  if (open < 0) return undefined;
  const close = key.indexOf('}', open + 1);
  if (close < 0 || close === open + 1) return undefined;
  return key.slice(open + 1, close);
}
