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
  /**
   * The SQL text as written but its leading comments and trailing `;` ({@link statementText});
   * back-queries append `WHERE …`.
   */
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

/**
 * The table alias of a column reference (`a` of `a.id`), undefined without one. node-sql-parser
 * gives a backquoted alias (`` `a`.`id` ``) as `{ type: 'backticks_quote_string', value: 'a' }`.
 */
function ownerOf(ref: Node): string | undefined {
  const t = ref['table'] as string | { readonly value: string } | null;
  return typeof t === 'string' ? t : t?.value;
}

/**
 * Every column reference inside an expression (node-sql-parser's AST: a select item's or an ON
 * side's); a problem for sub-queries, aggregates, `*` and columns without a table alias.
 */
function columnsOf(expr: unknown, out: AliasColumn[]): string | undefined {
  if (expr === null || typeof expr !== 'object') return undefined;
  const node = expr as Node;
  if ('ast' in node) return 'sub-queries in the select list';
  if (node.type === 'aggr_func') return 'aggregate functions (GROUP BY is not applied)';
  if (node.type === 'column_ref') {
    const column = String(node['column']);
    if (column === '*') return 'SELECT * is not applied (name the columns)';
    const alias = ownerOf(node);
    if (alias === undefined)
      return `column "${column}" has no table alias (write <alias>.${column})`;
    out.push({ alias, column });
    return undefined;
  }
  for (const v of Object.values(node)) {
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
  if (node['operator'] === 'AND') {
    const l = onPairs(node['left'], alias, known);
    if (typeof l === 'string') return l;
    const r = onPairs(node['right'], alias, known);
    if (typeof r === 'string') return r;
    return [...l, ...r];
  }
  // Only a binary_expr has an operator, and always both sides.
  const left = node['left'] as Node;
  const right = node['right'] as Node;
  if (node['operator'] !== '=' || left.type !== 'column_ref' || right.type !== 'column_ref')
    return `the ON condition of "${alias}" must be equalities between columns joined by AND (canal: "Unsupported for complex of on-condition")`;
  const sides: AliasColumn[] = [];
  const problem = columnsOf([left, right], sides);
  if (problem) return problem;
  const [l, r] = sides as [AliasColumn, AliasColumn];
  const own = l.alias === alias ? l : r.alias === alias ? r : undefined;
  if (!own) return `the ON condition of "${alias}" must name a column of "${alias}" on one side`;
  const other = own === l ? r : l;
  if (!known.has(other.alias))
    return `the ON condition of "${alias}" names "${other.alias}", which is not a table joined before it`;
  return [{ own: own.column, other }];
}

/**
 * A joined sub-query as canal allows it (§5.2): one plain table (no joins, no nested
 * sub-queries, no UNION); WHERE, GROUP BY, aggregates like `group_concat(… SEPARATOR ';')` are
 * its own. Returns the table and, per output column name, the table column it is when it is a
 * plain one.
 */
function subqueryTable(
  expr: Node,
  alias: string,
): { ref: Omit<SqlTableRef, 'alias'>; plain: Map<string, string> } | string {
  const ast = expr['ast'] as Node | undefined;
  if (!ast) return `the sub-query "${alias}" must be a SELECT`;
  const from = (ast['from'] ?? []) as Node[];
  const t = from[0]!; // read below only when it is the one table
  if (from.length !== 1 || typeof t['table'] !== 'string' || ast['_next'])
    return `the sub-query "${alias}" must read exactly one table, without joins or nested sub-queries (canal's rule)`;
  const table = t['table'];
  const plain = new Map<string, string>();
  for (const item of ast['columns'] as { expr: Node; as: string | null }[]) {
    const e = item.expr;
    if (e.type !== 'column_ref') continue;
    const owner = ownerOf(e);
    if (owner !== undefined && owner !== t['as'] && owner !== table) continue;
    const column = String(e['column']);
    plain.set(item.as || column, column);
  }
  return { ref: { database: (t['db'] as string | null) || undefined, table }, plain };
}

/** Semicolons, blanks and MySQL comments only: `-- …` (a blank after the dashes), `# …`, block comments. */
const ONLY_TAIL = /^(?:[;\s]|--(?=\s|$)[^\n]*(?:\n|$)|#[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*$/;
/** Leading blanks and MySQL comments. */
const LEADING_COMMENTS = /^(?:\s|--(?=\s|$)[^\n]*(?:\n|$)|#[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*/;

/**
 * The statement of a mapping SQL as back-queries and the ETL extend it (`text + "\nWHERE …"`,
 * `SELECT keys, <text without SELECT>`): without leading comments, and without trailing `;`s
 * and the blanks and comments after them (`select …; -- note` would otherwise become two
 * statements once a WHERE is appended). A comment that ends the last line without a `;` stays:
 * what is appended starts on a new line.
 */
export function statementText(sql: string): string {
  const text = sql.replace(LEADING_COMMENTS, '');
  // The first semicolon after which nothing but semicolons, blanks and comments follows.
  for (let i = text.indexOf(';'); i >= 0; i = text.indexOf(';', i + 1))
    if (ONLY_TAIL.test(text.slice(i))) return text.slice(0, i).trimEnd();
  return text.trimEnd();
}

/**
 * Reads a mapping SQL with node-sql-parser (MariaDB dialect): `SELECT <items> FROM t a { LEFT
 * JOIN u b ON b.x = a.y [AND …] }`, items being `a.col [AS f]` or expressions with an alias
 * (`concat(a.x, '_', b.y) AS f`), and LEFT JOINed single-table sub-queries (`LEFT JOIN (SELECT
 * user_id, group_concat(label ORDER BY id DESC SEPARATOR ';') AS labels FROM label GROUP BY
 * user_id) l ON l.user_id = a.id`) whose ON columns are plain columns of the sub-query. Refused
 * with a reason, as canal refuses or mis-applies them (§5.2): a sub-query as the main table or
 * in the select list, aggregates and GROUP BY at the top level, WHERE/ORDER BY/LIMIT/HAVING/
 * DISTINCT/WITH at the top level, UNION (and EXCEPT, …), `*`, tables without alias, columns
 * without a table alias, joins other than LEFT JOIN, ON conditions other than AND-ed column
 * equalities. Identifiers may be backquoted (`` `a`.`id` ``); keywords are case-insensitive.
 */
export function parseJoinSelect(sql: string): JoinSelect | JoinSqlProblem {
  const text = statementText(sql);
  let ast: unknown;
  try {
    ast = parser.astify(text, { database: 'MariaDB' });
  } catch (e) {
    return { reason: `the SQL does not parse: ${(e as Error).message.split('\n')[0]}` };
  }
  // statementText cut the trailing semicolons: a list means several statements.
  if (Array.isArray(ast)) return { reason: 'expected one SELECT statement' };
  const sel = ast as Node;
  if (sel.type !== 'select') return { reason: 'expected a SELECT statement' };
  if (sel['_next'])
    return {
      reason: `${String(sel['set_op']).toUpperCase()} is not applied: the mapping SQL must be one SELECT (canal refuses it too; back-queries append their WHERE to the SQL)`,
    };
  for (const k of ['where', 'groupby', 'having', 'orderby', 'limit', 'with', 'distinct'] as const) {
    if (sel[k])
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
    const alias = f['as'] as string | null;
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
      const table = f['table'];
      if (typeof table !== 'string') return { reason: 'expected a table' };
      if (!alias)
        return { reason: `table "${table}" has no alias (canal needs an alias on every table)` };
      ref = { database: (f['db'] as string | null) || undefined, table, alias };
    }
    if (known.has(alias)) return { reason: `alias "${alias}" is used twice` };
    if (i > 0) {
      // node-sql-parser writes every join keyword in capitals, LEFT OUTER JOIN as LEFT JOIN.
      const join = f['join'] as string | undefined;
      if (join !== 'LEFT JOIN')
        return {
          reason: `${join ?? 'a comma join'} of "${alias}" is not applied; canal's semantics are LEFT JOIN (write LEFT JOIN)`,
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
  for (const item of sel['columns'] as { expr: Node; as: string | null }[]) {
    const as = item.as || undefined;
    const expr = item.expr;
    const cols: AliasColumn[] = [];
    const problem = columnsOf(expr, cols);
    if (problem) return { reason: problem };
    for (const c of cols)
      if (!known.has(c.alias))
        return { reason: `column "${c.alias}.${c.column}" names an unknown table alias` };
    if (expr.type === 'column_ref') {
      const c = cols[0]!;
      fields.push({ name: as ?? c.column, simple: c, columns: cols, expression: undefined });
    } else {
      if (!as) return { reason: 'an expression in the select list needs an alias (… AS name)' };
      let expression: string;
      try {
        // MySQL's and MariaDB's writers are the same: identifiers in backquotes.
        expression = parser.exprToSQL(expr);
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
