import type { MappingCheckProblem } from '@sluice/plugin-api';
import { parseObjFieldSpec, type ObjFieldSpec } from './esValue.js';
import type { EsMapping } from './mapping.js';
import { isJoinSqlProblem, parseJoinSelect, type JoinSelect } from './joinSql.js';
import { isSqlShapeProblem, parseSingleTableSelect, type SelectField } from './singleTableSql.js';

/** How a join mapping (canal's Case B) is applied: by re-querying the source. */
export interface JoinPlan {
  readonly select: JoinSelect;
  /** `dataSourceKey`: the source pool the back-queries use. */
  readonly dataSourceKey: string;
  /** Position of each select field in a result row, by field name. */
  readonly positions: ReadonlyMap<string, number>;
  /**
   * Set when `_id` is an expression over main-table columns (canal's biz_order.yml:
   * `concat('oid_', t.id) AS _id`): its SQL and the main-table columns it reads. Main-table
   * events find their documents by those columns, and the source computes the id of an event's
   * images (a deleted row's id too, which canal's back-query cannot find).
   */
  readonly idExpression: { readonly sql: string; readonly columns: readonly string[] } | undefined;
}

/**
 * One `relations` entry (canal's parent/child `join` field, canal-adapter-behaviour.md §5.6;
 * `ES8xTemplate#putRelationData`): every document gets `<field>: {name, parent}` and, when
 * `parent` is set, is routed by the parent id.
 */
export interface EsRelation {
  /** The join field of the index (its mapping type must be `join`). */
  readonly field: string;
  /** The relation name written into the join field (`order`, `customer`). */
  readonly name: string;
  /**
   * The select field holding the parent id (a plain column of the main table, so a DELETE's
   * routing is known from the deleted row); may be listed in `skips`.
   */
  readonly parent: SelectField | undefined;
}

/** How one es mapping file is applied: what {@link planMapping} derives from it. */
export interface EsPlan {
  readonly index: string;
  /** `_id` mode: the select field whose value is the document id (not written to `_source`). */
  readonly idField: SelectField | undefined;
  /** `pk` mode (no `_id`): the select field documents are located by (kept in `_source`). */
  readonly pkField: SelectField | undefined;
  /** Update with `doc_as_upsert` instead of index (then writes carry no external version). */
  readonly upsert: boolean;
  /** The fields written to `_source`: select fields minus the `_id` field and `skips`. */
  readonly fields: readonly SelectField[];
  readonly objFields: ReadonlyMap<string, ObjFieldSpec>;
  /** Parent/child join fields (empty without `relations`); at most one has a `parent`. */
  readonly relations: readonly EsRelation[];
  /**
   * Set for mappings with joins or expressions: documents come from the source (re-queried),
   * not from the event. Then `pkField` names a plain column of the main table, and `idField`
   * one too, or an expression over main-table columns (`join.idExpression`).
   */
  readonly join: JoinPlan | undefined;
}

const text = (v: string | undefined): string | undefined =>
  v !== undefined && v !== '' ? v : undefined;

/**
 * Derives the {@link EsPlan} of a mapping, or the problems that keep this version from applying
 * it (each at its key path). Single-table mappings with plain columns (canal's Case A,
 * canal-adapter-behaviour.md §5.3) build documents from the event; LEFT JOINs, expressions,
 * joined `group_concat` sub-queries and computed `_id`s (Case B, {@link parseJoinSelect})
 * re-query the source; `relations` add the parent/child join field. What cannot be applied
 * (e.g. a computed `_id` over joined tables, `syncByTimestamp`) is reported, never mis-applied.
 */
export function planMapping(mapping: EsMapping): EsPlan | MappingCheckProblem[] {
  const es = mapping.esMapping;
  const problems: MappingCheckProblem[] = [];
  const sql = text(es.sql);
  if (!sql) return problems;
  const single = parseSingleTableSelect(sql);
  let select: { fields: readonly SelectField[] };
  let join: JoinPlan | undefined;
  if (isSqlShapeProblem(single)) {
    const joined = parseJoinSelect(sql);
    if (isJoinSqlProblem(joined)) {
      problems.push({
        severity: 'error',
        path: ['esMapping', 'sql'],
        message: `not applied by this version of Sluice: ${joined.reason}.`,
        suggestion:
          "keep canal-adapter's es adapter for this mapping meanwhile (on its own consumer group)",
      });
      return problems;
    }
    const keyName = text(es._id) ?? text(es.pk);
    const key = joined.fields.find((f) => f.name === keyName);
    let idExpression: JoinPlan['idExpression'];
    const main = joined.main.alias;
    if (key && text(es._id) && !key.simple && key.expression !== undefined) {
      const foreign = key.columns.filter((c) => c.alias !== main);
      if (key.columns.length === 0)
        problems.push({
          severity: 'error',
          path: ['esMapping', '_id'],
          message: `the computed _id "${key.name}" reads no column of the main table (${main}): every row would get the same id`,
        });
      else if (foreign.length > 0)
        problems.push({
          severity: 'error',
          path: ['esMapping', '_id'],
          message: `the computed _id "${key.name}" reads ${foreign.map((c) => `${c.alias}.${c.column}`).join(', ')} of a joined table: an id must come from main-table columns only (a joined row's change would move documents, and a deleted row's id could not be computed; canal then deletes nothing)`,
        });
      else
        idExpression = {
          sql: key.expression,
          columns: [...new Set(key.columns.map((c) => c.column))],
        };
    } else if (key && (!key.simple || key.simple.alias !== main))
      problems.push({
        severity: 'error',
        path: ['esMapping', text(es._id) ? '_id' : 'pk'],
        message: `in a join mapping the ${text(es._id) ? '_id' : 'pk'} field "${key.name}" must be ${text(es._id) ? 'a plain column or an expression' : 'a plain column'} of the main table (${main}.<column>)${text(es._id) ? '' : '; documents are located by the pk value'}`,
      });
    join = {
      select: joined,
      dataSourceKey: mapping.dataSourceKey,
      positions: new Map(joined.fields.map((f, i) => [f.name, i])),
      idExpression,
    };
    select = {
      fields: joined.fields.map((f) => ({
        name: f.name,
        column: f.simple && f.simple.alias === joined.main.alias ? f.simple.column : '',
      })),
    };
  } else select = single;
  const byName = new Map(select.fields.map((f) => [f.name, f]));
  const idName = text(es._id);
  const pkName = text(es.pk);
  const idField = idName === undefined ? undefined : byName.get(idName);
  const pkField = idName === undefined && pkName !== undefined ? byName.get(pkName) : undefined;
  if (idName !== undefined && !idField)
    problems.push({
      severity: 'error',
      path: ['esMapping', '_id'],
      message: `_id "${idName}" is not a field of the SQL (fields: ${[...byName.keys()].join(', ')})`,
    });
  if (idName === undefined && pkName !== undefined && !pkField)
    problems.push({
      severity: 'error',
      path: ['esMapping', 'pk'],
      message: `pk "${pkName}" is not a field of the SQL (fields: ${[...byName.keys()].join(', ')})`,
    });
  const objFields = new Map<string, ObjFieldSpec>();
  for (const [field, spec] of Object.entries(es.objFields ?? {})) {
    const parsed = parseObjFieldSpec(spec);
    if (typeof parsed === 'string')
      problems.push({
        severity: 'error',
        path: ['esMapping', 'objFields', field],
        message: parsed,
      });
    else objFields.set(field, parsed);
  }
  const relations: EsRelation[] = [];
  for (const [field, rel] of Object.entries(es.relations ?? {})) {
    const name = text(rel.name);
    if (name === undefined) {
      problems.push({
        severity: 'error',
        path: ['esMapping', 'relations', field, 'name'],
        message: `relation "${field}" needs a name (the relation of the documents, e.g. order)`,
      });
      continue;
    }
    const parentName = text(rel.parent);
    const parent = parentName === undefined ? undefined : byName.get(parentName);
    if (parentName !== undefined && !parent) {
      problems.push({
        severity: 'error',
        path: ['esMapping', 'relations', field, 'parent'],
        message: `parent "${parentName}" is not a field of the SQL (fields: ${[...byName.keys()].join(', ')})`,
      });
      continue;
    }
    if (parent && parent.column === '') {
      problems.push({
        severity: 'error',
        path: ['esMapping', 'relations', field, 'parent'],
        message: `parent "${parent.name}" must be a plain column of the main table: a deleted row's routing is read from the row itself`,
      });
      continue;
    }
    relations.push({ field, name, parent });
  }
  const parents = relations.filter((r) => r.parent);
  if (parents.length > 1)
    problems.push({
      severity: 'error',
      path: ['esMapping', 'relations'],
      message: `only one relation can name a parent (a document has one routing); got ${parents.map((r) => r.field).join(', ')}`,
    });
  if (parents.length > 0 && idName === undefined)
    problems.push({
      severity: 'error',
      path: ['esMapping', 'relations'],
      message:
        'a relation with a parent needs _id: pk mode locates documents by search, without their routing',
    });
  if (es.syncByTimestamp)
    problems.push({
      severity: 'error',
      path: ['esMapping', 'syncByTimestamp'],
      message:
        'syncByTimestamp: true makes canal-adapter skip incremental sync for this mapping; Sluice has no timestamp scheduler and does not skip silently.',
      suggestion: 'remove syncByTimestamp (or the mapping)',
    });
  if (problems.length > 0) return problems;
  const skips = new Set(es.skips);
  return {
    index: es._index,
    idField,
    pkField,
    upsert: es.upsert,
    fields: select.fields.filter((f) => f !== idField && !skips.has(f.name)),
    objFields,
    relations,
    join,
  };
}
