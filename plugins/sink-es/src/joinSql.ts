import sqlParser from 'node-sql-parser';

/** A column of a table of the mapping SQL, by the table's alias. */
export interface AliasColumn {
  readonly alias: string;
  readonly column: string;
}

/** A table of the mapping SQL. */
export interface SqlTableRef {
  readonly database: string | undefined;
  readonly table: string;
  readonly alias: string;
}

/**
 * A LEFT JOINed table and its `ON` equalities (`<alias>.own = other.alias.column`). For a joined
 * sub-query (`LEFT JOIN (SELECT user_id, group_concat(…) AS labels FROM label GROUP BY user_id)
 * l`), `database`/`table` name the one table it reads and `own` is that table's column behind
 * the sub-query's output column of the ON.
 */
export interface JoinedTable extends SqlTableRef {
  readonly on: readonly { readonly own: string; readonly other: AliasColumn }[];
  /** True for a joined sub-query (its own WHERE/GROUP BY run inside every back-query). */
  readonly subquery: boolean;
}

/** One select item: a plain column of one table, or an expression over columns. */
export interface JoinField {
  /** The alias, else the column name (canal's SchemaItem rule, §5.2). */
  readonly name: string;
  /** Set for a plain column (`b.role_name`): the table alias and column. */
  readonly simple: AliasColumn | undefined;
  /** Every column the item reads. */
  readonly columns: readonly AliasColumn[];
  /** For an expression: its SQL as node-sql-parser writes it back (identifiers quoted). */
  readonly expression: string | undefined;
}

/** A mapping SQL with joins or expressions (canal's Case B, canal-adapter-behaviour.md §5.3). */
export interface JoinSelect {
  readonly main: SqlTableRef;
  readonly joins: readonly JoinedTable[];
  readonly fields: readonly JoinField[];
  /** The SQL text as written, without a trailing `;`; back-queries append `WHERE …`. */
  readonly text: string;
}

/** Why the SQL cannot be applied. */
export interface JoinSqlProblem {
  readonly reason: string;
}

interface Node {
  readonly type?: string;
  readonly [key: string]: unknown;
}

const parser = new sqlParser.Parser();

function columnName(c: unknown): string {
  if (typeof c === 'string') return c;
  const v = (c as { expr?: { value?: unknown } } | null)?.expr?.value;
  return typeof v === 'string' ? v : String(c);
}

/** Every column reference inside an expression; a problem for sub-queries and aggregates. */
function columnsOf(expr: unknown, out: AliasColumn[]): string | undefined {
  if (expr === null || typeof expr !== 'object') return undefined;
  if (Array.isArray(expr)) {
    for (const e of expr) {
      const p = columnsOf(e, out);
      if (p) return p;
    }
    return undefined;
  }
  const node = expr as Node;
  if (node.type === 'select' || 'ast' in node) return 'sub-queries in the select list';
  if (node.type === 'aggr_func') return 'aggregate functions (GROUP BY is not applied)';
  if (node.type === 'column_ref') {
    const column = columnName(node['column']);
    if (typeof node['table'] !== 'string' || node['table'] === '')
      return `column "${column}" has no table alias (write <alias>.${column})`;
    out.push({ alias: node['table'], column });
    return undefined;
  }
  for (const [k, v] of Object.entries(node)) {
    if (k === 'loc') continue;
    const p = columnsOf(v, out);
    if (p) return p;
  }
  return undefined;
}

function onPairs(
  on: unknown,
  alias: string,
  known: ReadonlySet<string>,
): JoinedTable['on'] | string {
  const node = on as Node | null;
  if (!node) return `the join of "${alias}" has no ON condition`;
  if (node.type === 'binary_expr' && node['operator'] === 'AND') {
    const l = onPairs(node['left'], alias, known);
    if (typeof l === 'string') return l;
    const r = onPairs(node['right'], alias, known);
    if (typeof r === 'string') return r;
    return [...l, ...r];
  }
  const left = node['left'] as Node | undefined;
  const right = node['right'] as Node | undefined;
  if (
    node.type !== 'binary_expr' ||
    node['operator'] !== '=' ||
    left?.type !== 'column_ref' ||
    right?.type !== 'column_ref'
  )
    return `the ON condition of "${alias}" must be equalities between columns joined by AND (canal: "Unsupported for complex of on-condition")`;
  const l = { alias: String(left['table']), column: columnName(left['column']) };
  const r = { alias: String(right['table']), column: columnName(right['column']) };
  const [own, other] = l.alias === alias ? [l, r] : r.alias === alias ? [r, l] : [undefined, l];
  if (!own) return `the ON condition of "${alias}" must name a column of "${alias}" on one side`;
  if (!known.has(other.alias))
    return `the ON condition of "${alias}" names "${other.alias}", which is not a table joined before it`;
  return [{ own: own.column, other }];
}

/**
 * A joined sub-query as canal allows it (§5.2): one plain table (no joins, no nested
 * sub-queries); WHERE, GROUP BY, aggregates like `group_concat(… SEPARATOR ';')` are its own.
 * Returns the table and, per output column name, the table column it is when it is a plain one.
 */
function subqueryTable(
  expr: Node,
  alias: string,
): { ref: Omit<SqlTableRef, 'alias'>; plain: Map<string, string> } | string {
  const ast = expr['ast'] as Node | undefined;
  if (!ast || ast.type !== 'select') return `the sub-query "${alias}" must be a SELECT`;
  const from = (ast['from'] ?? []) as Node[];
  const t = from[0];
  if (from.length !== 1 || !t || t['expr'] || typeof t['table'] !== 'string')
    return `the sub-query "${alias}" must read exactly one table, without joins or nested sub-queries (canal's rule)`;
  const inner = typeof t['as'] === 'string' ? t['as'] : undefined;
  const plain = new Map<string, string>();
  const columns = ast['columns'];
  if (!Array.isArray(columns)) return `the sub-query "${alias}" must name its columns (no *)`;
  for (const item of columns as { expr: Node; as: unknown }[]) {
    const e = item.expr;
    if (e.type !== 'column_ref') continue;
    const owner = e['table'];
    if (
      owner !== null &&
      owner !== undefined &&
      owner !== '' &&
      owner !== inner &&
      owner !== t['table']
    )
      continue;
    const column = columnName(e['column']);
    plain.set(typeof item.as === 'string' && item.as !== '' ? item.as : column, column);
  }
  return {
    ref: {
      database: typeof t['db'] === 'string' && t['db'] !== '' ? t['db'] : undefined,
      table: t['table'],
    },
    plain,
  };
}

/**
 * Reads a mapping SQL with node-sql-parser (MariaDB dialect): `SELECT <items> FROM t a { LEFT
 * JOIN u b ON b.x = a.y [AND …] }`, items being `a.col [AS f]` or expressions with an alias
 * (`concat(a.x, '_', b.y) AS f`), and LEFT JOINed single-table sub-queries (`LEFT JOIN (SELECT
 * user_id, group_concat(label ORDER BY id DESC SEPARATOR ';') AS labels FROM label GROUP BY
 * user_id) l ON l.user_id = a.id`) whose ON columns are plain columns of the sub-query. Refused
 * with a reason, as canal refuses or mis-applies them (§5.2): a sub-query as the main table or
 * in the select list, aggregates and GROUP BY at the top level, WHERE/ORDER BY/LIMIT/HAVING/
 * DISTINCT at the top level, `*`, tables without alias, joins other than LEFT JOIN, ON
 * conditions other than AND-ed column equalities.
 */
export function parseJoinSelect(sql: string): JoinSelect | JoinSqlProblem {
  const text = sql.replace(/[\s;]+$/, '');
  let ast: unknown;
  try {
    ast = parser.astify(text, { database: 'MariaDB' });
  } catch (e) {
    return { reason: `the SQL does not parse: ${(e as Error).message.split('\n')[0]}` };
  }
  if (Array.isArray(ast)) {
    if (ast.length !== 1) return { reason: 'expected one SELECT statement' };
    ast = ast[0];
  }
  const sel = ast as Node;
  if (sel.type !== 'select') return { reason: 'expected a SELECT statement' };
  for (const k of ['where', 'groupby', 'having', 'orderby', 'limit', 'with', 'distinct'] as const) {
    const v = sel[k] as { value?: unknown[]; columns?: unknown } | null | undefined;
    const empty =
      v === null ||
      v === undefined ||
      (Array.isArray((v as { value?: unknown[] }).value) &&
        (v as { value: unknown[] }).value.length === 0) ||
      (k === 'groupby' && (v as { columns?: unknown }).columns === null);
    if (!empty)
      return {
        reason: `${k === 'groupby' ? 'GROUP BY' : k === 'orderby' ? 'ORDER BY' : k.toUpperCase()} in the mapping SQL is not applied (canal appends its own WHERE to the SQL; ${k === 'groupby' ? 'aggregate in a LEFT JOINed sub-query instead, e.g. LEFT JOIN (SELECT user_id, group_concat(label) AS labels FROM label GROUP BY user_id) l ON l.user_id = a.id' : 'filter in the source instead'})`,
      };
  }
  const from = (sel['from'] ?? []) as Node[];
  if (from.length === 0) return { reason: 'the SQL names no table' };
  const tables: SqlTableRef[] = [];
  const joins: JoinedTable[] = [];
  const known = new Set<string>();
  for (const [i, f] of from.entries()) {
    const alias = typeof f['as'] === 'string' ? f['as'] : undefined;
    let ref: SqlTableRef;
    let plain: Map<string, string> | undefined;
    if (f['expr']) {
      if (i === 0) return { reason: 'the main table must be a table, not a sub-query' };
      if (!alias) return { reason: 'a joined sub-query needs an alias' };
      const sub = subqueryTable(f['expr'] as Node, alias);
      if (typeof sub === 'string') return { reason: sub };
      ref = { ...sub.ref, alias };
      plain = sub.plain;
    } else {
      if (typeof f['table'] !== 'string') return { reason: 'expected a table' };
      const table = f['table'];
      if (!alias)
        return { reason: `table "${table}" has no alias (canal needs an alias on every table)` };
      ref = {
        database: typeof f['db'] === 'string' && f['db'] !== '' ? f['db'] : undefined,
        table,
        alias,
      };
    }
    if (known.has(alias)) return { reason: `alias "${alias}" is used twice` };
    if (i === 0) {
      if (f['join']) return { reason: 'the first table cannot be a join' };
    } else {
      const join = String(f['join'] ?? '').toUpperCase();
      if (join !== 'LEFT JOIN' && join !== 'LEFT OUTER JOIN')
        return {
          reason: `${join || 'a comma join'} of "${alias}" is not applied; canal's semantics are LEFT JOIN (write LEFT JOIN)`,
        };
      let on = onPairs(f['on'], alias, known);
      if (typeof on === 'string') return { reason: on };
      if (plain) {
        const columns = plain;
        const missing = on.find((p) => !columns.has(p.own));
        if (missing)
          return {
            reason: `the ON column "${alias}.${missing.own}" must be a plain column of the sub-query's table in its select list (its changes are matched to documents by it)`,
          };
        on = on.map((p) => ({ own: columns.get(p.own)!, other: p.other }));
      }
      joins.push({ ...ref, on, subquery: plain !== undefined });
    }
    known.add(alias);
    tables.push(ref);
  }
  const fields: JoinField[] = [];
  const columns = sel['columns'];
  if (!Array.isArray(columns)) return { reason: 'SELECT * is not applied (name the columns)' };
  for (const item of columns as { expr: Node; as: unknown }[]) {
    const as = typeof item.as === 'string' && item.as !== '' ? item.as : undefined;
    const expr = item.expr;
    const cols: AliasColumn[] = [];
    const problem = columnsOf(expr, cols);
    if (problem) return { reason: problem };
    for (const c of cols)
      if (!known.has(c.alias))
        return { reason: `column "${c.alias}.${c.column}" names an unknown table alias` };
    if (expr.type === 'column_ref') {
      const c = cols[0]!;
      if (c.column === '*') return { reason: 'SELECT * is not applied (name the columns)' };
      fields.push({ name: as ?? c.column, simple: c, columns: cols, expression: undefined });
    } else {
      if (!as) return { reason: 'an expression in the select list needs an alias (… AS name)' };
      let expression: string;
      try {
        expression = parser.exprToSQL(expr, { database: 'MariaDB' });
      } catch (e) {
        return { reason: `the expression of "${as}" cannot be read: ${(e as Error).message}` };
      }
      fields.push({ name: as, simple: undefined, columns: cols, expression });
    }
  }
  return { main: tables[0]!, joins, fields, text };
}

/** Type guard for {@link parseJoinSelect}'s problem result. */
export function isJoinSqlProblem(r: JoinSelect | JoinSqlProblem): r is JoinSqlProblem {
  return 'reason' in r;
}
