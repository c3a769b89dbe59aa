/** A table named in an SQL statement, with its schema qualifier when written (`db.t`). */
export interface SqlTable {
  readonly database: string | undefined;
  readonly table: string;
}

const IDENT = '(`[^`]+`|"[^"]+"|[A-Za-z0-9_$]+)';
const TABLE_REF = new RegExp(`\\b(?:from|join)\\s+${IDENT}(?:\\s*\\.\\s*${IDENT})?`, 'gi');

const unquote = (id: string) => id.replace(/^[`"](.*)[`"]$/, '$1');

/**
 * The tables an Elasticsearch mapping's SQL reads: the main table after FROM, every joined table,
 * and the tables inside joined sub-queries, in order of appearance, without duplicates. Names are
 * kept as written (canal routes by the name as written, case-sensitively). This is a lexical
 * extractor for canal's SQL subset (`SELECT … FROM t a LEFT JOIN (SELECT … FROM u) b ON …`), not a
 * parser.
 */
export function sqlTables(sql: string): SqlTable[] {
  const text = sql
    .replace(/'(?:[^'\\]|\\.|'')*'/g, "''")
    .replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, ' ');
  const out: SqlTable[] = [];
  const seen = new Set<string>();
  for (const m of text.matchAll(TABLE_REF)) {
    const first = unquote(m[1] ?? '');
    const second = m[2] === undefined ? undefined : unquote(m[2]);
    if (first.toLowerCase() === 'select' || first === '') continue;
    const table: SqlTable =
      second === undefined
        ? { database: undefined, table: first }
        : { database: first, table: second };
    const id = `${table.database ?? ''}.${table.table}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(table);
  }
  return out;
}
