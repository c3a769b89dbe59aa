/**
 * canal-adapter's `rdb` adapter as a Sluice sink: rows of mapped source tables are upserted into
 * MySQL/MariaDB or PostgreSQL tables, many rows per statement, one transaction per batch.
 */
import {
  APPLIED,
  EtlStreamGate,
  FatalError,
  NotConnectedError,
  RetryableError,
  SinkClosedError,
  failed,
  type DdlChangeEvent,
  type Logger,
  type MappingFile,
  type RowChangeEvent,
  type SinkInstance,
  type SinkRecord,
  type TargetCount,
  type WriteOutcome,
  parseJdbcUrl,
} from '@sluice/plugin-api';
import type { ConvertOptions } from './convert.js';
import { mysqlDialect, pgDialect, type Dialect, type Session } from './dialect.js';
import type { ErrorClass } from './errorClass.js';
import { gateStreamWrite } from './etlGate.js';
import { groupOperations, statementsOf, type Operation } from './plan.js';
import { MappingError, routeOf, type Route } from './route.js';
import { rowPlanner } from './rowPlan.js';
import type { RdbMapping, RdbProperties } from './schemas.js';
import { qualified } from './statementSql.js';
import type { TargetTable } from './targetTypes.js';
import { isValidTimeZone } from './timeZone.js';

export { planRow } from './rowPlan.js';

/** What the instance needs besides its properties. */
export interface RdbSinkOptions {
  readonly key: string;
  readonly properties: RdbProperties;
  readonly logger: Logger;
}

/** DDL errors that mean "already done" when a mirrored DDL is replayed (MySQL error numbers). */
const DDL_ALREADY_APPLIED = new Set([1007, 1008, 1050, 1051, 1054, 1060, 1061, 1091]);

/** The planned operations of one record, or why it cannot be written. */
type RecordPlan =
  | { readonly ok: true; readonly ops: readonly Operation[] }
  | { readonly ok: false; readonly error: Error };

/** The plan of a record that cannot be written; rethrows transient and fatal errors. */
function refused(error: unknown): RecordPlan {
  if (
    error instanceof RetryableError ||
    error instanceof NotConnectedError ||
    error instanceof FatalError
  )
    throw error;
  return { ok: false, error: error instanceof Error ? error : new Error(String(error)) };
}

/** Maps a classified database error onto the plugin API's errors. */
export function sinkError(cls: ErrorClass, error: unknown, what: string): Error {
  const message = `${what}: ${error instanceof Error ? error.message : String(error)}`;
  switch (cls) {
    case 'notConnected':
      return new NotConnectedError(message, { cause: error });
    case 'fatal':
      return new FatalError(message, { cause: error });
    case 'contention':
      return new RetryableError(message, { cause: error, countsAsAttempt: false });
    default:
      return new RetryableError(message, { cause: error });
  }
}

function dbMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const e = error as Error & { code?: unknown; errno?: unknown; sqlState?: unknown };
  const code = typeof e.errno === 'number' ? `${e.errno} ` : '';
  const state =
    typeof e.sqlState === 'string'
      ? `(${e.sqlState}) `
      : typeof e.code === 'string'
        ? `(${e.code}) `
        : '';
  return `${code}${state}${e.message}`;
}

/** One running rdb sink instance. */
export class RdbSink implements SinkInstance<RdbMapping> {
  readonly dialect: Dialect;
  readonly #o: RdbSinkOptions;
  readonly #log: Logger;
  readonly #convert: ConvertOptions;
  readonly #tables = new Map<string, Promise<TargetTable | undefined>>();
  readonly #routes = new Map<string, Route>();
  /** routeFor's cache by mapping object (the string-keyed one keeps routes stable). */
  readonly #routesOf = new WeakMap<MappingFile<RdbMapping>, Map<string, Route>>();
  /** The row planner per route, once its target table is known (cleared with the catalog). */
  readonly #resolved = new Map<Route, (event: RowChangeEvent) => Operation[]>();
  /** Bumped when the catalog is forgotten: a lookup begun before does not fill #resolved. */
  #catalogGeneration = 0;
  readonly #batchRows: number;
  /** Coordinates ETL writes with stream writes (EtlStreamGate; keys from etlGate.ts). */
  readonly gate = new EtlStreamGate();
  #defaultSchema: string | undefined;
  #closed = false;
  #connected = false;

  constructor(options: RdbSinkOptions) {
    this.#o = options;
    this.#log = options.logger.child({ sink: options.key });
    const p = options.properties;
    const parsed = parseJdbcUrl(p['jdbc.url']);
    if (!parsed.ok) throw new FatalError(`rdb ${options.key}: jdbc.url: ${parsed.message}.`);
    const url = parsed.url;
    const zone =
      p.sourceTimeZone !== undefined && p.sourceTimeZone !== '' ? p.sourceTimeZone : undefined;
    if (zone !== undefined && !isValidTimeZone(zone))
      throw new FatalError(
        `rdb ${options.key}: sourceTimeZone "${zone}" is not a time zone (use an IANA name such as Asia/Shanghai, UTC, or an offset such as +08:00).`,
      );
    const targetOptions = {
      host: url.host,
      port: url.port,
      database: url.database,
      user: p['jdbc.username'] ?? url.user ?? '',
      password: p['jdbc.password'] ?? url.password ?? '',
      params: url.params,
      poolSize: p.threads,
      foreignKeyChecks: p.foreignKeyChecks,
      sourceTimeZone: zone,
      applicationName: `sluice-rdb:${options.key}`.slice(0, 63),
      warn: (m: string, f?: Record<string, unknown>) => this.#log.warn(m, f),
    };
    this.dialect =
      url.kind === 'postgresql' ? pgDialect(targetOptions) : mysqlDialect(targetOptions);
    this.#convert = {
      kind: this.dialect.kind,
      instantsFromZone: this.dialect.kind === 'mysql' ? zone : undefined,
    };
    this.#batchRows = p.batchRows;
  }

  /** Conversion options of stream writes. */
  get convertOptions(): ConvertOptions {
    return this.#convert;
  }

  async connect(signal: AbortSignal): Promise<void> {
    if (this.#closed) throw new SinkClosedError();
    signal.throwIfAborted();
    this.dialect.open();
    const session = await this.#acquire('Connecting to the target');
    try {
      this.#defaultSchema = await this.dialect.defaultSchema(session);
      session.release();
    } catch (error) {
      session.release(true);
      throw sinkError(this.dialect.classify(error), error, 'Reading the target catalog');
    }
    // Column types are read again (lazily) after every connect: the target may have changed.
    this.invalidateCatalog();
    if (!this.#connected)
      this.#log.info('Connected to the target.', {
        kind: this.dialect.kind,
        schema: this.#defaultSchema,
      });
    this.#connected = true;
  }

  async #acquire(what: string): Promise<Session> {
    try {
      return await this.dialect.acquire();
    } catch (error) {
      const cls = this.dialect.classify(error);
      throw sinkError(cls === 'permanent' ? 'retryable' : cls, error, what);
    }
  }

  /** The catalog entry of a target table (cached until the next connect or DDL). */
  async table(schema: string | undefined, name: string): Promise<TargetTable | undefined> {
    const s = schema ?? this.#defaultSchema ?? '';
    const id = `${s}\u0001${name}`;
    let entry = this.#tables.get(id);
    if (!entry) {
      entry = (async () => {
        const session = await this.#acquire('Reading the target catalog');
        try {
          const t = await this.dialect.loadTable(session, s, name);
          session.release();
          return t;
        } catch (error) {
          session.release(true);
          throw sinkError(this.dialect.classify(error), error, 'Reading the target catalog');
        }
      })();
      this.#tables.set(id, entry);
      entry.catch(() => this.#tables.delete(id));
    }
    return entry;
  }

  /** Forgets cached column types (after a DDL or a schema error). */
  invalidateCatalog(): void {
    this.#tables.clear();
    this.#resolved.clear();
    this.#catalogGeneration++;
  }

  routeFor(mapping: MappingFile<RdbMapping>, table: string): Route {
    let byTable = this.#routesOf.get(mapping);
    if (byTable === undefined) this.#routesOf.set(mapping, (byTable = new Map()));
    let r = byTable.get(table);
    if (r !== undefined) return r;
    const id = `${mapping.file}\u0001${table}`;
    r = this.#routes.get(id);
    if (!r) {
      r = routeOf(mapping.config, table);
      this.#routes.set(id, r);
    }
    byTable.set(table, r);
    return r;
  }

  /** Quoted target name of a route. */
  targetName(route: Route): string {
    return qualified(this.dialect, route.schema ?? this.#defaultSchema, route.table);
  }

  /** The plan of a record: synchronous once its target table is known. */
  #plan(record: SinkRecord<RdbMapping>): RecordPlan | Promise<RecordPlan> {
    const event = record.event as RowChangeEvent;
    if (!record.mapping)
      return { ok: false, error: new MappingError('The record has no rdb mapping.') };
    let route: Route;
    try {
      route = this.routeFor(record.mapping, event.table);
      const plan = this.#resolved.get(route);
      if (plan !== undefined) return { ok: true, ops: plan(event) };
    } catch (error) {
      return refused(error);
    }
    return this.#planResolving(event, route);
  }

  async #planResolving(event: RowChangeEvent, route: Route): Promise<RecordPlan> {
    try {
      const generation = this.#catalogGeneration;
      const table = await this.table(route.schema, route.table);
      if (!table)
        throw new MappingError(
          `Target table ${route.schema ?? this.#defaultSchema}.${route.table} does not exist.`,
        );
      const plan = rowPlanner(route, table, this.targetName(route), this.#convert);
      if (generation === this.#catalogGeneration) this.#resolved.set(route, plan);
      return { ok: true, ops: plan(event) };
    } catch (error) {
      return refused(error);
    }
  }

  async write(
    batch: readonly SinkRecord<RdbMapping>[],
    signal: AbortSignal,
  ): Promise<WriteOutcome[]> {
    if (this.#closed) throw new SinkClosedError();
    const out: WriteOutcome[] = new Array<WriteOutcome>(batch.length);
    let i = 0;
    while (i < batch.length) {
      signal.throwIfAborted();
      const record = batch[i]!;
      if (record.event.kind === 'ddl') {
        out[i] = await this.#ddl(record.event, record.mapping);
        i++;
        continue;
      }
      let j = i;
      while (j < batch.length && batch[j]!.event.kind === 'row') j++;
      const plans: RecordPlan[] = [];
      for (let k = i; k < j; k++) {
        const p = this.#plan(batch[k]!);
        plans.push(p instanceof Promise ? await p : p);
      }
      await gateStreamWrite(this.gate, plans);
      const outcomes = await this.applyPlans(plans);
      for (let k = i; k < j; k++) out[k] = outcomes[k - i]!;
      i = j;
    }
    return out;
  }

  /**
   * Applies planned records in one transaction with multi-row statements; when the database
   * refuses a row, applies them again one by one (each in a savepoint) to find the refused ones,
   * which alone get a `failed` outcome. Throws for transient trouble (whole batch retried).
   */
  async applyPlans(plans: readonly RecordPlan[], session?: Session): Promise<WriteOutcome[]> {
    const out: WriteOutcome[] = plans.map((p) => (p.ok ? APPLIED : failed(p.error)));
    const ops: Operation[] = [];
    for (const p of plans) if (p.ok) ops.push(...p.ops);
    if (ops.length === 0) return out;
    const own = session === undefined;
    const s = session ?? (await this.#acquire('Connecting to the target'));
    let broken = false;
    try {
      try {
        await s.run('START TRANSACTION', []);
        for (const group of groupOperations(ops)) {
          const build = (g: typeof group, n: number): string =>
            g.kind === 'upsert'
              ? this.dialect.upsert(g.table, g.columns, g.keyColumns, n)
              : this.dialect.delete(g.table, g.keyColumns, n);
          for (const st of statementsOf(group, this.#batchRows, this.dialect.maxParams, build))
            await s.run(st.sql, st.params);
        }
        await s.run('COMMIT', []);
        return out;
      } catch (error) {
        const cls = this.dialect.classify(error);
        await s.run('ROLLBACK', []).catch(() => {
          broken = true;
        });
        if (cls !== 'permanent') {
          if (cls === 'notConnected') broken = true;
          throw sinkError(cls, error, 'Writing to the target');
        }
        if (isSchemaError(error)) {
          // The catalog is stale (the target changed): read it again and retry the batch.
          this.invalidateCatalog();
          throw new RetryableError(`The target's tables changed: ${dbMessage(error)}`, {
            cause: error,
          });
        }
        this.#log.debug('A batch was refused; applying its rows one by one.', {
          error: dbMessage(error),
        });
      }
      await s.run('START TRANSACTION', []);
      for (let i = 0; i < plans.length; i++) {
        const p = plans[i]!;
        if (!p.ok) continue;
        await s.run('SAVEPOINT sluice_row', []);
        try {
          for (const op of p.ops) {
            const sql =
              op.kind === 'upsert'
                ? this.dialect.upsert(op.table, op.row.columns, op.key.columns, 1)
                : this.dialect.delete(op.table, op.key.columns, 1);
            await s.run(sql, op.kind === 'upsert' ? op.row.values : op.key.values);
          }
          await s.run('RELEASE SAVEPOINT sluice_row', []);
        } catch (error) {
          const cls = this.dialect.classify(error);
          if (cls !== 'permanent') {
            await s.run('ROLLBACK', []).catch(() => {
              broken = true;
            });
            if (cls === 'notConnected') broken = true;
            throw sinkError(cls, error, 'Writing to the target');
          }
          await s.run('ROLLBACK TO SAVEPOINT sluice_row', []);
          out[i] = failed(new MappingError(`The target refused the row: ${dbMessage(error)}`));
        }
      }
      await s.run('COMMIT', []);
      return out;
    } catch (error) {
      if (
        error instanceof RetryableError ||
        error instanceof NotConnectedError ||
        error instanceof FatalError
      )
        throw error;
      const cls = this.dialect.classify(error);
      if (cls === 'notConnected') broken = true;
      throw sinkError(cls === 'permanent' ? 'retryable' : cls, error, 'Writing to the target');
    } finally {
      if (own) s.release(broken);
    }
  }

  async #ddl(
    event: DdlChangeEvent,
    mapping: MappingFile<RdbMapping> | undefined,
  ): Promise<WriteOutcome> {
    this.invalidateCatalog();
    if (!mapping) return APPLIED;
    const route = this.routeFor(mapping, event.table);
    const p = this.#o.properties;
    let sql: string | undefined;
    if (route.mirror) {
      if (this.dialect.kind !== 'mysql' || p.ddl !== 'mirror' || event.table === '') {
        this.#log.info('DDL not replicated.', {
          database: event.database,
          table: event.table,
          type: event.type,
          reason:
            event.table === ''
              ? 'database-level statement'
              : this.dialect.kind !== 'mysql'
                ? 'mirrorDb replays DDL on MySQL/MariaDB targets only'
                : 'ddl: ignore',
        });
        return APPLIED;
      }
      sql = rewriteSchema(
        event.sql,
        mapping.config.dbMapping?.database ?? event.database,
        route.schema,
      );
    } else if (event.type === 'TRUNCATE' && p.truncate) {
      sql = `TRUNCATE TABLE ${this.targetName(route)}`;
    } else {
      this.#log.info('DDL not replicated (only mirrorDb mappings replay DDL).', {
        database: event.database,
        table: event.table,
        type: event.type,
      });
      return APPLIED;
    }
    const session = await this.#acquire('Connecting to the target');
    let broken = route.mirror; // `USE` changed the session's default database: do not reuse it
    try {
      if (route.mirror && route.schema)
        await session.run(`USE ${this.dialect.quote(route.schema)}`, []);
      await session.run(sql, []);
      this.#log.info('DDL applied to the target.', { sql });
      return APPLIED;
    } catch (error) {
      const cls = this.dialect.classify(error);
      const n = (error as { errno?: unknown }).errno;
      if (typeof n === 'number' && DDL_ALREADY_APPLIED.has(n)) {
        this.#log.warn('DDL already applied on the target (a replay); skipped.', {
          sql,
          error: dbMessage(error),
          partition: event.position.partition,
          offset: event.position.offset,
        });
        return APPLIED;
      }
      if (cls === 'permanent') {
        return failed(new MappingError(`The target refused the DDL: ${dbMessage(error)}`));
      }
      if (cls === 'notConnected') broken = true;
      throw sinkError(cls, error, 'Applying DDL');
    } finally {
      this.invalidateCatalog();
      session.release(broken);
    }
  }

  async flush(): Promise<void> {
    // Every write commits before it resolves: nothing is buffered.
    if (this.#closed) throw new SinkClosedError();
  }

  async close(signal: AbortSignal): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.dialect.close(signal);
  }

  async healthcheck(): Promise<void> {
    const s = await this.#acquire('Health check');
    try {
      await s.read('SELECT 1', []);
      s.release();
    } catch (error) {
      s.release(true);
      throw error;
    }
  }

  /**
   * `SELECT COUNT(1)` of the mapping's target table, answered as canal's rdb adapter does:
   * `{count, targetTable}` with the quoted target name (`RdbAdapter#count`).
   */
  async count(mapping: MappingFile<RdbMapping>): Promise<TargetCount> {
    if (this.#closed) throw new SinkClosedError();
    const route = this.routeFor(mapping, mapping.config.dbMapping?.table ?? '');
    if (route.mirror)
      throw new FatalError('A mirrorDb mapping has no single target table to count.');
    const s = await this.#acquire('Connecting to the target');
    try {
      const targetTable = this.targetName(route);
      const rows = await s.read(`SELECT COUNT(1) AS n FROM ${targetTable}`, []);
      s.release();
      return { count: Number(rows[0]?.['n'] ?? 0), fields: { targetTable } };
    } catch (error) {
      s.release(true);
      throw sinkError(this.dialect.classify(error), error, 'Counting target rows');
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  get properties(): RdbProperties {
    return this.#o.properties;
  }

  get logger(): Logger {
    return this.#log;
  }

  get key(): string {
    return this.#o.key;
  }

  acquireSession(what: string): Promise<Session> {
    return this.#acquire(what);
  }
}

function isSchemaError(error: unknown): boolean {
  const n = (error as { errno?: unknown }).errno;
  const code = (error as { code?: unknown }).code;
  return n === 1054 || n === 1146 || code === '42703' || code === '42P01';
}

/** Replaces references to the source schema by the target schema in a mirrored DDL. */
export function rewriteSchema(sql: string, source: string, target: string | undefined): string {
  if (!target || target === source) return sql;
  const escaped = source.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return sql
    .replace(new RegExp('`' + escaped + '`\\s*\\.', 'g'), '`' + target.replace(/`/g, '``') + '`.')
    .replace(
      new RegExp('(^|[^`\\w.])' + escaped + '\\s*\\.(?=[`\\w])', 'g'),
      `$1\`${target.replace(/`/g, '``')}\`.`,
    );
}
