import { readColumn } from '@sluice/canal-protocol';
import type { RowChangeEvent } from '@sluice/plugin-api';
import { applyObjField, textOf, toEsValue, type EsJson } from './esValue.js';
import type { EsPlan } from './plan.js';
import type { SelectField } from './singleTableSql.js';

/** A record that can never be written; its message is the dead-letter reason. */
export class DocumentError extends Error {
  override readonly name = 'DocumentError';
}

/**
 * The value of one select field in `image` of `event`, converted for Elasticsearch
 * ({@link toEsValue}, or the field's `objFields` spec).
 *
 * @throws DocumentError when the column is not in the image, its text does not fit the column's
 *   type, or an `objFields` JSON value does not parse.
 */
export function fieldValue(
  plan: EsPlan,
  event: RowChangeEvent,
  field: SelectField,
  image: 'before' | 'after',
): EsJson {
  let typed;
  try {
    typed = readColumn(event, field.column, image);
  } catch (e) {
    throw new DocumentError(`column "${field.column}": ${(e as Error).message}`);
  }
  if (typed === undefined)
    throw new DocumentError(
      `column "${field.column}" (field "${field.name}") is not in the ${image} image of ${event.database}.${event.table}; the document cannot be built from the event (binlog_row_image must be FULL)`,
    );
  const spec = plan.objFields.get(field.name);
  if (!spec) return toEsValue(typed);
  try {
    return applyObjField(spec, textOf(typed));
  } catch (e) {
    throw new DocumentError(
      `objFields "${field.name}": the value is not JSON (${(e as Error).message})`,
    );
  }
}

/** The `_source` built from the event's after image: every planned field, and the join fields. */
export function buildDocument(plan: EsPlan, event: RowChangeEvent): Record<string, EsJson> {
  const doc: Record<string, EsJson> = {};
  for (const field of plan.fields) doc[field.name] = fieldValue(plan, event, field, 'after');
  addRelations(plan, doc, (f) => fieldValue(plan, event, f, 'after'));
  return doc;
}

/** A parent id as routing text; undefined when NULL or empty. */
function parentText(v: EsJson): string | undefined {
  if (v === null || v === '') return undefined;
  if (typeof v === 'object') throw new DocumentError('a parent id must be a scalar');
  return String(v);
}

/**
 * Adds each relation's join field to `doc`: `{name}` or `{name, parent}` (canal's
 * `putRelationData`), the parent id as text.
 *
 * @throws DocumentError when a relation's parent field is NULL or empty (Elasticsearch would
 *   refuse the child with "[parent] is missing for join field"; canal then fails the bulk).
 */
export function addRelations(
  plan: EsPlan,
  doc: Record<string, EsJson>,
  valueOf: (field: SelectField) => EsJson,
): void {
  for (const r of plan.relations) {
    if (!r.parent) {
      doc[r.field] = { name: r.name };
      continue;
    }
    const parent = parentText(valueOf(r.parent));
    if (parent === undefined)
      throw new DocumentError(
        `relation "${r.field}" (${r.name}): the parent field "${r.parent.name}" is NULL or empty; a child document needs its parent id`,
      );
    doc[r.field] = { name: r.name, parent };
  }
}

/**
 * The routing of a document in `image` of `event`: the parent id of the relation that has a
 * parent (its field is a plain main-table column), else undefined (default routing by `_id`).
 *
 * @throws DocumentError when the parent column is missing from the image or NULL/empty.
 */
export function routingOf(
  plan: EsPlan,
  event: RowChangeEvent,
  image: 'before' | 'after',
): string | undefined {
  const r = plan.relations.find((x) => x.parent);
  if (!r?.parent) return undefined;
  const parent = parentText(fieldValue(plan, event, r.parent, image));
  if (parent === undefined)
    throw new DocumentError(
      `relation "${r.field}" (${r.name}): the parent field "${r.parent.name}" is NULL or empty in the ${image} image; the document's routing is unknown`,
    );
  return parent;
}

/**
 * The text of a key field (`_id` or `pk`) in `image`.
 *
 * @throws DocumentError when it is NULL, empty, an object or missing.
 */
export function keyText(
  plan: EsPlan,
  event: RowChangeEvent,
  field: SelectField,
  image: 'before' | 'after',
): string {
  const v = fieldValue(plan, event, field, image);
  if (v === null || v === '' || typeof v === 'object')
    throw new DocumentError(
      `the ${plan.idField ? '_id' : 'pk'} field "${field.name}" is ${v === null ? 'NULL' : 'empty or not a scalar'} in the ${image} image; the document cannot be addressed`,
    );
  return String(v);
}
