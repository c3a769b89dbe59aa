/**
 * Full sync (canal's ETL, reference §6.2) of one rdb mapping: reads the source table from its
 * `srcDataSources` entry page by page with keyset pagination on the primary key (never LIMIT
 * offset), upserts each page into the target in one transaction, reports progress and keeps a
 * checkpoint so an interrupted run resumes after the last committed page.
 *
 * `etlCondition` is canal's WHERE fragment with `{}` placeholders; like canal it applies only when
 * params are given, and every `{}` becomes a bound parameter (never spliced into the SQL).
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import mysql from 'mysql2/promise';
import {
  FatalError,
  etlCondition,
  keysetPageSql,
  quoteMysqlName,
  whereSql,
  type DataSourceOptions,
  type DataSources,
  type EtlRequest,
  type EtlResult,
  type RowChangeEvent,
} from '@sluice/plugin-api';
import { rowKeyOf } from './etlGate.js';
import type { Operation } from './plan.js';
import { planRow, type RdbSink } from './rdbSink.js';
import type { RdbMapping } from './schemas.js';
import type { Param } from './statementSql.js';

/** What a checkpoint file holds. */
interface Checkpoint {
  readonly condition: string;
  readonly params: readonly string[];
  /** Primary-key values (as text) of the last committed row. */
  readonly lastKey: readonly string[];
  readonly rows: number;
}

/** Where the checkpoint of one task lives. */
export function checkpointFile(stateDir: string, key: string, task: string): string {
  const safe = (s: string): string => s.replace(/[^A-Za-z0-9_.-]/g, '_');
  return join(stateDir, `${safe(key)}--${safe(task)}.json`);
}

/** Source column type as the typed accessor should read the ETL's text. */
function etlMysqlType(columnType: string, dataType: string): string {
  switch (dataType) {
    case 'enum':
    case 'set':
    case 'json':
      return 'longtext'; // the source gives labels / real UTF-8 text, not canal's index/latin-1
    default:
      return columnType;
  }
}

interface SourceColumn {
  readonly name: string;
  readonly mysqlType: string;
}

/** Runs one ETL (see the module comment). */
export async function runEtl(
  sink: RdbSink,
  dataSources: DataSources | undefined,
  request: EtlRequest<RdbMapping>,
  stateDir: string | undefined,
  signal: AbortSignal,
): Promise<EtlResult> {
  const mapping = request.mapping;
  const db = mapping.config.dbMapping;
  if (!db) throw new FatalError(`${mapping.file}: no dbMapping.`);
  if (db.mirrorDb)
    throw new FatalError(`${mapping.file}: a mirrorDb mapping cannot be synced by ETL.`);
  const dsKey = mapping.config.dataSourceKey;
  const ds: DataSourceOptions | undefined = dsKey ? dataSources?.get(dsKey) : undefined;
  if (!ds)
    throw new FatalError(
      `${mapping.file}: dataSourceKey ${JSON.stringify(dsKey ?? '')} names no srcDataSources entry.`,
    );
  if (ds.kind === 'postgresql')
    throw new FatalError(
      `${mapping.file}: ETL reads MySQL/MariaDB sources only (srcDataSources.${ds.key} is PostgreSQL).`,
    );
  const table = db.table ?? '';
  const database = db.database ?? ds.database;
  const route = sink.routeFor(mapping, table);
  const target = await sink.table(route.schema, route.table);
  if (!target)
    throw new FatalError(`${mapping.file}: the target table ${route.table} does not exist.`);
  const name = sink.targetName(route);

  const cond = etlCondition(db.etlCondition, request.params, mapping.file);

  const source = await mysql.createConnection({
    host: ds.host,
    port: ds.port,
    user: ds.user,
    password: ds.password,
    database: ds.database || undefined,
    charset: 'utf8mb4_general_ci',
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    typeCast(field, next) {
      if (field.type === 'BIT') {
        const b = field.buffer();
        if (b === null) return null;
        let v = 0n;
        for (const x of b) v = (v << 8n) | BigInt(x);
        return v.toString();
      }
      if (
        [
          'BLOB',
          'TINY_BLOB',
          'MEDIUM_BLOB',
          'LONG_BLOB',
          'STRING',
          'VAR_STRING',
          'GEOMETRY',
        ].includes(field.type) &&
        (field as unknown as { characterSet?: number }).characterSet === 63
      ) {
        const b = field.buffer();
        return b === null ? null : b.toString('latin1');
      }
      if (field.type === 'NULL') return next();
      return field.string();
    },
  });
  const endGate = sink.gate.beginEtl();
  const session = await sink.acquireSession('ETL: connecting to the target');
  let brokenSession = true; // its time zone was changed: never reuse it
  try {
    await source.query("SET time_zone = '+00:00'");
    await session.run(
      sink.dialect.kind === 'mysql' ? "SET time_zone = '+00:00'" : "SET TIME ZONE 'UTC'",
      [],
    );
    const [colRows] = await source.query(
      'SELECT COLUMN_NAME AS name, COLUMN_TYPE AS columnType, DATA_TYPE AS dataType FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
      [database, table],
    );
    const columns: SourceColumn[] = (colRows as Record<string, unknown>[]).map((r) => ({
      name: String(r['name']),
      mysqlType: etlMysqlType(String(r['columnType']), String(r['dataType']).toLowerCase()),
    }));
    if (columns.length === 0)
      throw new FatalError(
        `${mapping.file}: the source table ${database}.${table} does not exist.`,
      );
    const [pkRows] = await source.query(
      "SELECT COLUMN_NAME AS name FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX",
      [database, table],
    );
    const pk = (pkRows as Record<string, unknown>[]).map((r) => String(r['name']));
    if (pk.length === 0)
      throw new FatalError(
        `${mapping.file}: the source table ${database}.${table} has no primary key; ETL pages by primary key.`,
      );

    const file = stateDir ? checkpointFile(stateDir, sink.key, mapping.name) : undefined;
    let lastKey: readonly string[] | undefined;
    let rows = 0;
    if (file) {
      const saved = await readFile(file, 'utf8')
        .then((t) => JSON.parse(t) as Checkpoint)
        .catch(() => undefined);
      if (
        saved &&
        saved.condition === (cond?.text ?? '') &&
        JSON.stringify(saved.params) === JSON.stringify(cond?.params ?? [])
      ) {
        lastKey = saved.lastKey;
        rows = saved.rows;
        sink.logger.info('ETL resumes after its last committed page.', {
          task: mapping.name,
          rows,
        });
      }
    }
    const pageSize = Math.max(1, db.commitBatch ?? 5000);
    const columnTypes = Object.fromEntries(
      columns.map((c) => [c.name, { mysqlType: c.mysqlType, sqlType: 12 }]),
    );
    const from = `${quoteMysqlName(database)}.${quoteMysqlName(table)}`;
    const select = `SELECT ${columns.map((c) => quoteMysqlName(c.name)).join(', ')} FROM ${from}`;
    const keys = pk.map(quoteMysqlName);
    const where = cond ? [cond.sql] : [];
    const condParams: Param[] = cond ? [...cond.params] : [];
    const errors: string[] = [];
    if (request.onTotal) {
      const [counted] = await source.query(
        `SELECT COUNT(1) AS n FROM ${from}${whereSql(where)}`,
        condParams,
      );
      request.onTotal(Number((counted as { n: unknown }[])[0]?.n ?? 0));
    }
    request.onProgress?.(rows);
    for (;;) {
      signal.throwIfAborted();
      const sql = keysetPageSql({
        select,
        keys,
        where,
        after: lastKey !== undefined,
        limit: pageSize,
      });
      const [page] = await source.query(sql, [...condParams, ...(lastKey ?? [])]);
      const list = page as Record<string, string | null>[];
      if (list.length === 0) break;
      const ops: Operation[] = [];
      for (const row of list) {
        const event: RowChangeEvent = {
          kind: 'row',
          type: 'INSERT',
          destination: mapping.config.destination ?? '',
          database,
          table,
          pkNames: pk,
          columns: columnTypes,
          executedAt: 0,
          producedAt: 0,
          position: { source: 'etl', partition: '0', offset: '0', index: 0 },
          after: row,
          changed: [],
        };
        try {
          ops.push(
            ...planRow(event, route, target, name, {
              kind: sink.dialect.kind,
              instantsFromZone: undefined,
            }),
          );
        } catch (error) {
          errors.push(`${pk.map((k) => row[k]).join(',')}: ${(error as Error).message}`);
        }
      }
      const outcomes = await sink.gate.etlWrite(ops, rowKeyOf, (kept) =>
        sink.applyPlans(
          kept.map((op) => ({ ok: true as const, ops: [op] })),
          session,
        ),
      );
      for (const o of outcomes) if (o.status === 'failed') errors.push(o.error.message);
      rows += list.length;
      const last = list[list.length - 1]!;
      lastKey = pk.map((k) => String(last[k]));
      if (file)
        await saveCheckpoint(file, {
          condition: cond?.text ?? '',
          params: cond?.params ?? [],
          lastKey,
          rows,
        });
      request.onProgress?.(rows);
      if (list.length < pageSize) break;
    }
    if (file) await rm(file, { force: true });
    brokenSession = true;
    return { rows: rows - errors.length, errors };
  } finally {
    endGate();
    session.release(brokenSession);
    await source.end().catch(() => undefined);
  }
}

async function saveCheckpoint(file: string, checkpoint: Checkpoint): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  await writeFile(tmp, JSON.stringify(checkpoint));
  await rename(tmp, file);
}
