/** One select item of a single-table mapping: the document field and the column it reads. */
export interface SelectField {
  /** The field name: the alias, else the column name (canal's SchemaItem rule, §5.2). */
  readonly name: string;
  /** The source column. */
  readonly column: string;
}

/** A mapping SQL that reads one table with plain columns only (canal's "Case A", §5.3). */
export interface SingleTableSelect {
  readonly database: string | undefined;
  readonly table: string;
  /** The table alias (`a` in `from user a`), or undefined when the table has none. */
  readonly alias: string | undefined;
  readonly fields: readonly SelectField[];
}

/**
 * Why a mapping SQL is not the single-table case (joins, expressions, `*`, WHERE …); the planner
 * then reads it as a join mapping (`joinSql.ts`), which reports what it cannot apply.
 */
export type SqlShapeProblem = { readonly reason: string };

const ID = '(?:`[^`]+`|[A-Za-z0-9_$]+)';
const unquote = (id: string) => id.replace(/^`(.*)`$/, '$1');
const KEYWORDS = new Set(['join', 'left', 'right', 'inner', 'outer', 'cross', 'where', 'group']);
const TABLE_RE = new RegExp(
  `^(${ID})(?:\\s*\\.\\s*(${ID}))?(?:\\s+(?:as\\s+)?(${ID}))?\\s*;?\\s*$`,
  'i',
);
const ITEM_RE = new RegExp(`^(?:(${ID})\\s*\\.\\s*)?(${ID})(?:\\s+(?:as\\s+)?(${ID}))?$`, 'i');

/** Splits on commas outside parentheses. */
function splitTopLevel(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out.map((s) => s.trim());
}

/**
 * Reads a mapping SQL of the form `SELECT a.col [AS f], … FROM [db.]table [a]` (canal-adapter's
 * single-table, all-simple-fields case; canal-adapter-behaviour.md §5.2/§5.3 Case A). Anything else
 * — joins, sub-queries, functions or arithmetic in select items, `*`, WHERE/GROUP BY, a column
 * owned by another alias — is returned as a problem, and the planner (`plan.ts`) hands the SQL to
 * the join parser instead, so a join is never mis-read as a single table. Lexical, for canal's SQL subset; comments are removed.
 */
export function parseSingleTableSelect(sql: string): SingleTableSelect | SqlShapeProblem {
  const text = sql
    .replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (/'|"/.test(text))
    return { reason: 'string literals in the SQL (expressions): not a single-table select' };
  const m = /^select\s+([\s\S]+?)\s+from\s+([\s\S]+)$/i.exec(text);
  if (!m) return { reason: 'expected SELECT <columns> FROM <table> <alias>' };
  const items = m[1] ?? '';
  const from = m[2] ?? '';
  if (/\bjoin\b/i.test(from) || from.includes(',') || from.includes('('))
    return { reason: 'a join or sub-query: not a single-table select' };
  const t = TABLE_RE.exec(from);
  if (!t || (t[3] !== undefined && KEYWORDS.has(t[3].toLowerCase())))
    return {
      reason: `not a single-table select: expected "FROM table alias" (no WHERE, GROUP BY or joins), got "FROM ${from}"`,
    };
  const database = t[2] === undefined ? undefined : unquote(t[1] ?? '');
  const table = unquote(t[2] ?? t[1] ?? '');
  const alias = t[3] === undefined ? undefined : unquote(t[3]);
  const fields: SelectField[] = [];
  for (const item of splitTopLevel(items)) {
    const f = ITEM_RE.exec(item);
    // (`*` and unquoted functions fail ITEM_RE; a quoted name with a parenthesis is refused too.)
    if (!f || item.includes('('))
      return {
        reason: `select item "${item}" is an expression (a function, arithmetic or *): not a single-table select`,
      };
    const owner = f[1] === undefined ? undefined : unquote(f[1]);
    if (owner !== undefined && owner !== alias && owner !== table)
      return { reason: `select item "${item}" names an alias that is not the table's` };
    const column = unquote(f[2] ?? '');
    fields.push({ name: f[3] === undefined ? column : unquote(f[3]), column });
  }
  return { database, table, alias, fields };
}

/** Type guard for {@link parseSingleTableSelect}'s problem result. */
export function isSqlShapeProblem(r: SingleTableSelect | SqlShapeProblem): r is SqlShapeProblem {
  return 'reason' in r;
}
