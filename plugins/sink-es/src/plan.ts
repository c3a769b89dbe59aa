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
  /**
   * Set for mappings with joins or expressions: documents come from the source (re-queried),
   * not from the event. Then `idField`/`pkField` name a plain column of the main table.
   */
  readonly join: JoinPlan | undefined;
}

const text = (v: string | undefined): string | undefined =>
  v !== undefined && v !== '' ? v : undefined;

/**
 * Derives the {@link EsPlan} of a mapping, or the problems that keep this version from applying
 * it (each at its key path). Single-table mappings with plain columns (canal's Case A,
 * canal-adapter-behaviour.md §5.3) build documents from the event; LEFT JOINs and expressions
 * (Case B, {@link parseJoinSelect}) re-query the source. Joined sub-queries, parent/child
 * `relations` and `syncByTimestamp` are reported, never mis-applied.
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
    join = {
      select: joined,
      dataSourceKey: mapping.dataSourceKey,
      positions: new Map(joined.fields.map((f, i) => [f.name, i])),
    };
    select = {
      fields: joined.fields.map((f) => ({
        name: f.name,
        column: f.simple && f.simple.alias === joined.main.alias ? f.simple.column : '',
      })),
    };
    const keyName = text(es._id) ?? text(es.pk);
    const key = joined.fields.find((f) => f.name === keyName);
    if (key && (!key.simple || key.simple.alias !== joined.main.alias))
      problems.push({
        severity: 'error',
        path: ['esMapping', text(es._id) ? '_id' : 'pk'],
        message: `in a join mapping the ${text(es._id) ? '_id' : 'pk'} field "${key.name}" must be a plain column of the main table (${joined.main.alias}.<column>); computed ids are not applied yet`,
      });
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
  if (es.relations && Object.keys(es.relations).length > 0)
    problems.push({
      severity: 'error',
      path: ['esMapping', 'relations'],
      message: 'parent/child relations are not applied yet by this version of Sluice.',
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
    join,
  };
}
