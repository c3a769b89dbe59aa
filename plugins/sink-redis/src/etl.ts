/**
 * Write-mode ETL: warms the cache from the source table (`srcDataSources.<dataSourceKey>`, MySQL
 * or MariaDB through mysql2), in primary-key order with keyset pagination (`WHERE (pk) > (last)
 * ORDER BY pk LIMIT readBatch`), so a large table is read in constant memory and never with
 * OFFSET. A row is written only where its key has no version (see APPLY_SCRIPT op `etl`): what an
 * event wrote or deleted is never overwritten by the snapshot. `etlCondition` follows canal's rule
 * for the rdb and es ETL (plugin-api `etlCondition`): with params, its `{}` are bound to them in
 * order (a count mismatch is refused); without params it is ignored.
 */
import {
  FatalError,
  etlCondition,
  keysetPageSql,
  quoteMysqlName,
  type ColumnMeta,
  type DataSources,
  type EtlRequest,
  type EtlResult,
  type RowImage,
} from '@sluice/plugin-api';
import mysql, { type RowDataPacket } from 'mysql2/promise';
import { renderKey } from './keyTemplate.js';
import type { CompiledMapping } from './mapping.js';
import type { RedisMappingFile } from './mappingSchema.js';
import type { Command } from './plan.js';
import { hashValue, jsonValue } from './rowValue.js';
import { versionKeyOf } from './version.js';

/** What {@link runEtl} needs. */
export interface EtlJob {
  readonly request: EtlRequest<RedisMappingFile>;
  readonly mapping: CompiledMapping;
  readonly dataSources: DataSources;
  readonly prefix: string;
  readonly signal: AbortSignal;
  /** Sends commands; resolves with one error (or undefined) per command. */
  apply(commands: readonly Command[]): Promise<readonly (Error | undefined)[]>;
}

/** A mysql2 value as canal would render it (text, or null). */
function asText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('latin1');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value as number | bigint | boolean);
}

/** Runs one ETL. @throws FatalError for a mapping that cannot be synced. */
export async function runEtl(job: EtlJob): Promise<EtlResult> {
  const file = job.request.mapping.config;
  const key = file.dataSourceKey;
  const ds = key ? job.dataSources.get(key) : undefined;
  if (!ds)
    throw new FatalError(
      `${job.request.mapping.file}: ETL needs a dataSourceKey naming a srcDataSources entry.`,
    );
  if (ds.kind === 'postgresql')
    throw new FatalError(`${job.request.mapping.file}: ETL reads MySQL/MariaDB sources only.`);
  const database = file.redisMapping.database || ds.database;
  const table = file.redisMapping.table;
  const conn = await mysql.createConnection({
    host: ds.host,
    port: ds.port,
    user: ds.user,
    password: ds.password,
    database: ds.database || undefined,
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
  const errors: string[] = [];
  let rows = 0;
  try {
    const [pkRows] = await conn.query<RowDataPacket[]>(
      `SELECT COLUMN_NAME AS name FROM information_schema.KEY_COLUMN_USAGE
        WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION`,
      [database, table],
    );
    const pk = pkRows.map((r) => String(r['name']));
    if (pk.length === 0)
      throw new FatalError(`${database}.${table} has no primary key: ETL cannot paginate it.`);
    const [typeRows] = await conn.query<RowDataPacket[]>(
      `SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type FROM information_schema.COLUMNS
        WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?`,
      [database, table],
    );
    const columns: Record<string, ColumnMeta> = {};
    for (const r of typeRows)
      columns[String(r['name'])] = { mysqlType: String(r['type']), sqlType: 0 };
    const cond = etlCondition(
      job.mapping.etlCondition,
      job.request.params,
      job.request.mapping.file,
    );
    const keys = pk.map(quoteMysqlName);
    const versionTtl =
      job.mapping.ttlMs > 0 ? Math.max(job.mapping.ttlMs, job.mapping.tombstoneTtlMs) : 0;
    let last: unknown[] | undefined;
    for (;;) {
      job.signal.throwIfAborted();
      const sql = keysetPageSql({
        select: `SELECT * FROM ${quoteMysqlName(database)}.${quoteMysqlName(table)}`,
        keys,
        where: cond ? [cond.sql] : [],
        after: last !== undefined,
        limit: job.mapping.readBatch,
      });
      const [page] = await conn.query<RowDataPacket[]>(sql, [
        ...(cond?.params ?? []),
        ...(last ?? []),
      ]);
      if (page.length === 0) break;
      const commands: Command[] = [];
      const rowOf: number[] = [];
      page.forEach((raw, i) => {
        const row: RowImage = Object.fromEntries(
          Object.entries(raw).map(([c, v]) => [c, asText(v)]),
        );
        try {
          const payload =
            job.mapping.format === 'json'
              ? [jsonValue(row, columns, job.mapping.fields)]
              : hashValue(row, job.mapping.fields);
          for (const t of job.mapping.keys) {
            const k = renderKey(t, row, job.prefix);
            if (typeof k !== 'string') continue;
            commands.push({
              kind: 'apply',
              key: k,
              versionKey: versionKeyOf(k),
              args: ['etl', 'etl', job.mapping.ttlMs, versionTtl, job.mapping.format, ...payload],
            });
            rowOf.push(i);
          }
        } catch (error) {
          errors.push(
            `row ${pk.map((c) => String(raw[c])).join(',')}: ${(error as Error).message}`,
          );
        }
      });
      const results = await job.apply(commands);
      results.forEach((e, i) => {
        if (e)
          errors.push(`row ${pk.map((c) => String(page[rowOf[i]!]![c])).join(',')}: ${e.message}`);
      });
      rows += page.length;
      job.request.onProgress?.(rows);
      const lastRow = page[page.length - 1]!;
      last = pk.map((c) => lastRow[c] as unknown);
      if (page.length < job.mapping.readBatch) break;
    }
  } finally {
    await conn.end().catch(() => undefined);
  }
  return { rows, errors };
}
