import { readColumn } from '@sluice/canal-protocol';
import type { RowChangeEvent } from '@sluice/plugin-api';
import { addRelations, DocumentError } from './document.js';
import { applyObjField, toEsValue, type EsJson } from './esValue.js';
import type { JoinedTable, SqlTableRef } from './joinSql.js';
import type { EsPlan, JoinPlan } from './plan.js';

/** A parameterised back-query. */
export interface SourceQuery {
  readonly sql: string;
  readonly params: readonly EsJson[];
}

/** Most keys in one `IN (…)` list. */
export const MAX_KEYS_PER_QUERY = 500;

const quote = (id: string) => `\`${id.replace(/`/g, '``')}\``;

/** Whether the event's table is `ref` (table names compared case-insensitively, as MySQL on Linux does not, but canal's main-table test does). */
export function isTable(event: RowChangeEvent, ref: SqlTableRef): boolean {
  if (event.table.toLowerCase() !== ref.table.toLowerCase()) return false;
  return ref.database === undefined || ref.database.toLowerCase() === event.database.toLowerCase();
}

/**
 * The mapping SQL restricted to documents whose main-table key columns hold one of `keys` (a
 * tuple of values per document, in `columns` order): `<sql> WHERE a.<key> IN (?, …)` for one
 * column, `(a.c1 = ? AND a.c2 = ?) OR …` for several (canal appends its WHERE the same way,
 * §5.3, but inlines the values).
 */
export function byMainKeys(
  join: JoinPlan,
  columns: readonly string[],
  keys: readonly (readonly EsJson[])[],
): SourceQuery {
  const alias = quote(join.select.main.alias);
  const cols = columns.map((c) => `${alias}.${quote(c)}`);
  const where =
    cols.length === 1
      ? `${cols[0]} IN (${keys.map(() => '?').join(', ')})`
      : keys.map(() => `(${cols.map((c) => `${c} = ?`).join(' AND ')})`).join(' OR ');
  return { sql: `${join.select.text}\nWHERE ${where}`, params: keys.flat() };
}

/**
 * The query that has the source compute a computed `_id` for row images: `SELECT n, <id
 * expression> FROM (SELECT ? AS n, ? AS c1 … UNION ALL SELECT ?, ? …) AS <main alias>`, one
 * row per image in `images` (the raw text of the id columns, in `idExpression.columns` order),
 * numbered from 0. The expression sees the values as text (MySQL converts them where it needs
 * numbers), as canal's JDBC row values would print.
 */
export function idEvaluation(
  join: JoinPlan,
  images: readonly (readonly (string | null)[])[],
): SourceQuery {
  const id = join.idExpression!;
  const n = quote('__sluice_n');
  const first = `SELECT ? AS ${n}, ${id.columns.map((c) => `? AS ${quote(c)}`).join(', ')}`;
  const more = `SELECT ?, ${id.columns.map(() => '?').join(', ')}`;
  const rows = images.map((_, i) => (i === 0 ? first : more)).join(' UNION ALL ');
  return {
    sql: `SELECT ${n}, ${id.sql} FROM (${rows}) AS ${quote(join.select.main.alias)}`,
    params: images.flatMap((values, i) => [i, ...values]),
  };
}

/**
 * The raw text of the computed id's columns in `image` of a main-table event.
 *
 * @throws DocumentError when a column is not in the image (binlog_row_image must be FULL).
 */
export function idColumnTexts(
  join: JoinPlan,
  event: RowChangeEvent,
  image: 'before' | 'after',
): (string | null)[] {
  const row = image === 'before' ? event.before : event.after;
  return join.idExpression!.columns.map((c) => {
    if (!row || !Object.prototype.hasOwnProperty.call(row, c))
      throw new DocumentError(
        `column "${c}" of the computed _id is not in the ${image} image of ${event.database}.${event.table} (binlog_row_image must be FULL)`,
      );
    return row[c] ?? null;
  });
}

/**
 * The typed values of the main-table key columns in `image` (the plain key column, or the
 * computed id's columns), for {@link byMainKeys}.
 *
 * @throws DocumentError when a column is missing from the image or does not read.
 */
export function mainKeyValues(
  columns: readonly string[],
  event: RowChangeEvent,
  image: 'before' | 'after',
): EsJson[] {
  return columns.map((c) => {
    let typed;
    try {
      typed = readColumn(event, c, image);
    } catch (e) {
      throw new DocumentError(`column "${c}": ${(e as Error).message}`);
    }
    if (typed === undefined)
      throw new DocumentError(
        `key column "${c}" is not in the ${image} image of ${event.database}.${event.table} (binlog_row_image must be FULL)`,
      );
    return toEsValue(typed);
  });
}

/**
 * The mapping SQL restricted to the documents that join a row of `joined` whose ON columns hold
 * `values` (one tuple per row image): the condition is put on the *other* side of each ON
 * equality (`b.id = a.role_id` → `a.role_id = ?`), so documents are found whether or not the
 * joined row still exists — a deleted or re-keyed role still finds the users that pointed at it,
 * and they get its fields as NULL.
 */
export function byJoinedRow(
  join: JoinPlan,
  joined: JoinedTable,
  values: readonly (readonly EsJson[])[],
): SourceQuery {
  const cols = joined.on.map((p) => `${quote(p.other.alias)}.${quote(p.other.column)}`);
  const one = `(${cols.map((c) => `${c} = ?`).join(' AND ')})`;
  return {
    sql: `${join.select.text}\nWHERE ${values.map(() => one).join(' OR ')}`,
    params: values.flat(),
  };
}

/** The ON-column values of `joined` in the event's images (both for an UPDATE that changed them). */
export function joinedValues(event: RowChangeEvent, joined: JoinedTable): EsJson[][] {
  const out: EsJson[][] = [];
  const seen = new Set<string>();
  const images: ('before' | 'after')[] =
    event.type === 'INSERT'
      ? ['after']
      : event.type === 'DELETE'
        ? ['before']
        : ['before', 'after'];
  for (const image of images) {
    if (image === 'before' && !event.before) continue;
    const tuple: EsJson[] = [];
    for (const p of joined.on) {
      let typed;
      try {
        typed = readColumn(event, p.own, image);
      } catch (e) {
        throw new DocumentError(`column "${p.own}": ${(e as Error).message}`);
      }
      if (typed === undefined)
        throw new DocumentError(
          `join column "${p.own}" of ${event.database}.${event.table} is not in the ${image} image (binlog_row_image must be FULL)`,
        );
      tuple.push(toEsValue(typed));
    }
    // NULL never equals anything: such a row joins no document.
    if (tuple.some((v) => v === null)) continue;
    const k = JSON.stringify(tuple);
    if (!seen.has(k)) {
      seen.add(k);
      out.push(tuple);
    }
  }
  return out;
}

/**
 * The `_source` of a re-queried row: every planned field (select fields minus the `_id` field
 * and `skips`), with `objFields` applied, and the relations' join fields.
 *
 * @throws DocumentError when an `objFields` value does not parse.
 */
export function documentFromRow(
  plan: EsPlan,
  join: Pick<JoinPlan, 'positions'>,
  row: readonly EsJson[],
): Record<string, EsJson> {
  const doc: Record<string, EsJson> = {};
  for (const field of plan.fields) {
    const v = row[join.positions.get(field.name)!] ?? null;
    const spec = plan.objFields.get(field.name);
    if (!spec) {
      doc[field.name] = v;
      continue;
    }
    try {
      doc[field.name] = applyObjField(spec, v === null ? null : String(v as string | number));
    } catch (e) {
      throw new DocumentError(
        `objFields "${field.name}": the value is not JSON (${(e as Error).message})`,
      );
    }
  }
  addRelations(plan, doc, (f) => row[join.positions.get(f.name)!] ?? null);
  return doc;
}

/** The routing of a re-queried row: its parent id when a relation has a parent. */
export function rowRouting(
  plan: EsPlan,
  join: Pick<JoinPlan, 'positions'>,
  row: readonly EsJson[],
): string | undefined {
  const r = plan.relations.find((x) => x.parent);
  if (!r?.parent) return undefined;
  const v = row[join.positions.get(r.parent.name)!] ?? null;
  if (v === null || v === '' || typeof v === 'object')
    throw new DocumentError(
      `relation "${r.field}" (${r.name}): the parent field "${r.parent.name}" is NULL or empty; a child document needs its parent id`,
    );
  return String(v);
}

/** The key (`_id` or `pk` field) of a re-queried row, as text; undefined when NULL or empty. */
export function rowKey(
  plan: EsPlan,
  join: Pick<JoinPlan, 'positions'>,
  row: readonly EsJson[],
): string | undefined {
  const field = plan.idField ?? plan.pkField!;
  const v = row[join.positions.get(field.name)!];
  return v === null || v === undefined || v === '' || typeof v === 'object' ? undefined : String(v);
}
