/**
 * The rdb adapter's configuration: `outerAdapters[].properties` and the `rdb/*.yml` mapping files
 * (canal's `MappingConfig`, canal-adapter-behaviour.md §1.5 and §4.1). Moved here from the core's
 * catalogue: the sink owns its mapping format.
 */
import type {
  Infer,
  MappedTable,
  MappingCheckProblem,
  MappingTablesContext,
} from '@sluice/plugin-api';

/** `outerAdapters[].properties` of an rdb adapter. canal's keys first, then Sluice's own. */
export const rdbPropertiesSchema = {
  type: 'object',
  required: ['jdbc.url'],
  properties: {
    'jdbc.driverClassName': {
      type: 'string',
      description: 'JDBC driver class; accepted, not needed (the URL scheme decides).',
    },
    'jdbc.url': {
      type: 'string',
      description:
        'Target: jdbc:mysql://host[:port]/db[?…], jdbc:mariadb://… or jdbc:postgresql://host[:port]/db[?…].',
    },
    'jdbc.username': { type: 'string', description: 'Target user.' },
    'jdbc.password': { type: 'string', secret: true, description: 'Target password.' },
    threads: {
      type: 'integer',
      minimum: 1,
      default: 3,
      description: 'Connections in the target pool (canal: partition threads).',
    },
    skipDupException: {
      type: 'boolean',
      default: true,
      description: 'Accepted for canal compatibility; Sluice upserts, so there is nothing to skip.',
    },
    'druid.stat.enable': { type: 'boolean', default: true, description: 'Accepted, unused.' },
    'druid.stat.slowSqlMillis': {
      type: 'integer',
      minimum: 0,
      default: 1000,
      description: 'Accepted, unused.',
    },
    commitSize: { type: 'any', description: 'In canal samples but never read (nor here).' },
    batchRows: {
      type: 'integer',
      minimum: 1,
      default: 1000,
      description: 'Most rows in one multi-row INSERT/DELETE statement.',
    },
    sourceTimeZone: {
      type: 'string',
      description:
        'Time zone of canal-server’s JVM, in which canal renders TIMESTAMP values (e.g. UTC, Asia/Shanghai, +08:00). When set, values for instant columns (MySQL TIMESTAMP, PostgreSQL timestamptz) are read in this zone. Unset: the text is handed to the target as is and read in the target session’s default zone.',
    },
    foreignKeyChecks: {
      type: 'boolean',
      default: false,
      description:
        'false (default): sessions disable foreign-key enforcement (foreign_key_checks=0, session_replication_role=replica), as rows of different tables arrive in parallel.',
    },
    truncate: {
      type: 'boolean',
      default: false,
      description:
        'Apply TRUNCATE of a mapped source table to its target table (canal-adapter never does outside mirrorDb).',
    },
    ddl: {
      type: 'string',
      enum: ['mirror', 'ignore'],
      caseInsensitive: true,
      default: 'mirror',
      description:
        'mirror (default): mirrorDb mappings replay source DDL on a MySQL/MariaDB target; ignore: log it only.',
    },
  },
} as const;

/** Properties after validation. */
export type RdbProperties = Infer<typeof rdbPropertiesSchema>;

const header = {
  dataSourceKey: { type: 'string', description: 'Key of srcDataSources (ETL reads).' },
  destination: { type: 'string', description: 'canalAdapters[].instance this mapping listens to.' },
  groupId: { type: 'string', description: 'groups[].groupId (ignored for selection in tcp mode).' },
  outerAdapterKey: {
    type: 'string',
    description:
      'Key of the owning outerAdapters entry; without it the file attaches to auto-keyed adapters.',
  },
} as const;

/** `rdb/*.yml` (canal's MappingConfig, reference §4.1). */
export const rdbMappingSchema = {
  type: 'object',
  properties: {
    ...header,
    concurrent: {
      type: 'boolean',
      default: false,
      description: 'Accepted; Sluice always applies rows of different keys in parallel lanes.',
    },
    dbMapping: {
      type: 'object',
      required: ['database'],
      properties: {
        database: { type: 'string', description: 'Source schema.' },
        table: { type: 'string', description: 'Source table (required unless mirrorDb).' },
        targetTable: {
          type: 'string',
          description: 'Target table (required unless mirrorDb); `db.table` names both.',
        },
        targetDb: { type: 'string', description: 'Target schema (database on MySQL).' },
        targetPk: {
          type: 'map',
          values: { type: 'string' },
          description: 'target column → source column.',
        },
        mapAll: { type: 'boolean', default: false },
        targetColumns: {
          type: 'map',
          values: { type: 'string' },
          description: 'target column → source column (empty = same name).',
        },
        caseInsensitive: { type: 'boolean', default: false },
        etlCondition: { type: 'string', description: 'ETL WHERE fragment with {} placeholders.' },
        commitBatch: { type: 'integer', minimum: 1, default: 5000 },
        readBatch: { type: 'integer', minimum: 1, default: 5000 },
        mirrorDb: { type: 'boolean', default: false },
        allMapColumns: { type: 'any', description: 'Internal cache in canal; ignored.' },
      },
    },
  },
} as const;

/** One `rdb/*.yml` file after validation. */
export type RdbMapping = Infer<typeof rdbMappingSchema>;

const text = (v: unknown): string | undefined =>
  typeof v === 'string' && v !== '' ? v : undefined;

/** The source tables a mapping applies to (`*` for a mirrorDb mapping). */
export function rdbTables(mapping: RdbMapping, _context: MappingTablesContext): MappedTable[] {
  const db = mapping.dbMapping;
  if (!db) return [];
  const database = text(db.database);
  if (db.mirrorDb === true) return [{ database, table: '*' }];
  const table = text(db.table);
  return table ? [{ database, table }] : [];
}

/** Checks beyond the schema (reference §4.1 validation, plus Sluice's own). */
export function checkRdb(mapping: RdbMapping): MappingCheckProblem[] {
  const db = mapping.dbMapping;
  if (!db) {
    return [{ severity: 'error', path: ['dbMapping'], message: 'The dbMapping block is missing.' }];
  }
  const out: MappingCheckProblem[] = [];
  if (db.mirrorDb !== true) {
    for (const key of ['table', 'targetTable'] as const) {
      if (!text(db[key]))
        out.push({
          severity: 'error',
          path: ['dbMapping', key],
          message: `dbMapping.${key} is missing (required unless mirrorDb: true).`,
        });
    }
    if (db.mapAll !== true && Object.keys(db.targetColumns ?? {}).length === 0) {
      out.push({
        severity: 'error',
        path: ['dbMapping', 'targetColumns'],
        message: 'No columns are mapped: set targetColumns or mapAll: true.',
      });
    }
    if (Object.keys(db.targetPk ?? {}).length === 0) {
      out.push({
        severity: 'warning',
        path: ['dbMapping', 'targetPk'],
        message:
          'targetPk is empty: Sluice uses the source primary key (canal pkNames) under the same names; canal-adapter would write broken UPDATE/DELETE statements.',
        suggestion: 'targetPk:\n    id: id',
      });
    }
    const target = text(db.targetTable);
    if (target?.includes('.') && !text(db.targetDb)) {
      const dot = target.indexOf('.');
      out.push({
        severity: 'warning',
        path: ['dbMapping', 'targetTable'],
        message: `Sluice writes "${target}" as table ${target.slice(dot + 1)} of schema ${target.slice(0, dot)}; canal-adapter quotes it as one identifier and fails (issue #3834).`,
        suggestion: `use targetDb: ${target.slice(0, dot)} and targetTable: ${target.slice(dot + 1)}`,
      });
    } else if (target?.includes('.')) {
      // canal's SyncUtil.getDbTableName quotes targetDb and targetTable separately, so does Sluice.
      out.push({
        severity: 'warning',
        path: ['dbMapping', 'targetTable'],
        message: `with targetDb set, "${target}" is one table name containing a dot (written \`${text(db.targetDb)}\`.\`${target}\`, as canal-adapter does)`,
        suggestion: `targetTable: ${target.slice(target.indexOf('.') + 1)}`,
      });
    }
  }
  const etl = text(db.etlCondition);
  if (etl && /;/.test(etl)) {
    out.push({
      severity: 'error',
      path: ['dbMapping', 'etlCondition'],
      message: 'etlCondition must be one WHERE fragment; ";" is not allowed.',
    });
  }
  return out;
}
