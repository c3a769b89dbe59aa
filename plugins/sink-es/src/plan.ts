import type { MappingCheckProblem } from '@sluice/plugin-api';
import { parseObjFieldSpec, type ObjFieldSpec } from './esValue.js';
import type { EsMapping } from './mapping.js';
import { isSqlShapeProblem, parseSingleTableSelect, type SelectField } from './singleTableSql.js';

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
}

const text = (v: string | undefined): string | undefined =>
  v !== undefined && v !== '' ? v : undefined;

/**
 * Derives the {@link EsPlan} of a mapping, or the problems that keep this version from applying
 * it (each at its key path). Only single-table mappings with plain columns (canal's Case A,
 * canal-adapter-behaviour.md §5.3) are applied; joins, computed fields, parent/child `relations`
 * and `syncByTimestamp` are reported, never mis-applied.
 */
export function planMapping(mapping: EsMapping): EsPlan | MappingCheckProblem[] {
  const es = mapping.esMapping;
  const problems: MappingCheckProblem[] = [];
  const sql = text(es.sql);
  if (!sql) return problems;
  const select = parseSingleTableSelect(sql);
  if (isSqlShapeProblem(select)) {
    problems.push({
      severity: 'error',
      path: ['esMapping', 'sql'],
      message: `this version of Sluice applies only single-table esMapping SQL with plain columns: ${select.reason}.`,
      suggestion:
        "keep canal-adapter's es adapter for this mapping meanwhile (on its own consumer group)",
    });
    return problems;
  }
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
  };
}
