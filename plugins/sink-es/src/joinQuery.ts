import { readColumn } from '@sluice/canal-protocol';
import type { RowChangeEvent } from '@sluice/plugin-api';
import { DocumentError } from './document.js';
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
 * The mapping SQL restricted to documents whose main-table key column is one of `keys`:
 * `<sql> WHERE a.<key> IN (?, …)` (canal appends its WHERE the same way, §5.3, but inlines the
 * values).
 */
export function byMainKeys(
  join: JoinPlan,
  keyColumn: string,
  keys: readonly EsJson[],
): SourceQuery {
  const main = join.select.main;
  return {
    sql: `${join.select.text}\nWHERE ${quote(main.alias)}.${quote(keyColumn)} IN (${keys.map(() => '?').join(', ')})`,
    params: keys,
  };
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
 * and `skips`), with `objFields` applied.
 *
 * @throws DocumentError when an `objFields` value does not parse.
 */
export function documentFromRow(
  plan: EsPlan,
  join: JoinPlan,
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
  return doc;
}

/** The key (`_id` or `pk` field) of a re-queried row, as text; undefined when NULL or empty. */
export function rowKey(plan: EsPlan, join: JoinPlan, row: readonly EsJson[]): string | undefined {
  const field = plan.idField ?? plan.pkField!;
  const v = row[join.positions.get(field.name)!];
  return v === null || v === undefined || v === '' || typeof v === 'object' ? undefined : String(v);
}
