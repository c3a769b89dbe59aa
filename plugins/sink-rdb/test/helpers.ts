/**
 * Test helpers: a sink instance on the testbed's MariaDB or PostgreSQL, mapping files built in
 * code, canal FlatMessage lines decoded into events, and admin connections to look at targets.
 */
import { readFileSync } from 'node:fs';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { decodeFlatMessage, flatMessageToChangeEvents } from '@sluice/canal-protocol';
import type {
  ChangeEvent,
  DataSources,
  Logger,
  MappingFile,
  SinkInstance,
  SinkRecord,
} from '@sluice/plugin-api';
import { mysqlEndpoint, pgEndpoint, uniqueName } from '../../../test/support/testbed.js';
import { rdbSink, type RdbMapping } from '../src/index.js';

export const quiet: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => quiet,
};

/** A logger that remembers warnings. */
export function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const log: Logger & { warnings: string[] } = {
    warnings,
    debug() {},
    info() {},
    warn(m) {
      warnings.push(m);
    },
    error(m) {
      warnings.push(m);
    },
    child: () => log,
  };
  return log;
}

export { uniqueName };

/** `jdbc:mysql://…/<database>` on the testbed MariaDB. */
export function mysqlJdbcUrl(database: string): string {
  const e = mysqlEndpoint();
  return `jdbc:mysql://${e.host}:${e.port}/${database}?useUnicode=true&characterEncoding=UTF-8`;
}

/** `jdbc:postgresql://…/<database>` on the testbed PostgreSQL. */
export function pgJdbcUrl(database?: string): string {
  const e = pgEndpoint();
  return `jdbc:postgresql://${e.host}:${e.port}/${database ?? e.database}`;
}

/** A root connection to the testbed MariaDB (multiple statements allowed). */
export async function mysqlAdmin(): Promise<mysql.Connection> {
  const e = mysqlEndpoint();
  return mysql.createConnection({
    host: e.host,
    port: e.port,
    user: e.user,
    password: e.password,
    multipleStatements: true,
    charset: 'utf8mb4_general_ci',
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
}

/** A superuser connection to the testbed PostgreSQL. */
export async function pgAdmin(): Promise<pg.Client> {
  const e = pgEndpoint();
  const c = new pg.Client({
    host: e.host,
    port: e.port,
    user: e.user,
    password: e.password,
    database: e.database,
  });
  await c.connect();
  return c;
}

/** Target credentials for properties. */
export function credentials(kind: 'mysql' | 'pg'): {
  'jdbc.username': string;
  'jdbc.password': string;
} {
  const e = kind === 'mysql' ? mysqlEndpoint() : pgEndpoint();
  return { 'jdbc.username': e.user, 'jdbc.password': e.password };
}

type Props = Parameters<typeof rdbSink.create>[0]['properties'];

/** Properties with the defaults the core's binder would fill in. */
export function properties(overrides: Partial<Props> & { 'jdbc.url': string }): Props {
  return {
    threads: 3,
    skipDupException: true,
    'druid.stat.enable': true,
    'druid.stat.slowSqlMillis': 1000,
    batchRows: 1000,
    foreignKeyChecks: false,
    truncate: false,
    ddl: 'mirror',
    ...overrides,
  };
}

/** A sink instance (not connected). */
export function createSink(
  props: Props,
  options: { logger?: Logger; dataSources?: DataSources; configDir?: string; key?: string } = {},
): SinkInstance<RdbMapping> {
  const noSources: DataSources = { get: () => undefined, keys: () => [] };
  return rdbSink.create({
    key: options.key ?? 'rdb-test',
    name: 'rdb',
    hosts: undefined,
    properties: props,
    configDir: options.configDir ?? '/tmp',
    deps: { logger: options.logger ?? quiet, dataSources: options.dataSources ?? noSources },
  });
}

/** A mapping file as the core hands it over (defaults filled in). */
export function mapping(
  name: string,
  dbMapping: Partial<NonNullable<RdbMapping['dbMapping']>> & { readonly database: string },
  header: Partial<RdbMapping> = {},
): MappingFile<RdbMapping> {
  return {
    file: `rdb/${name}.yml`,
    name: `${name}.yml`,
    config: {
      concurrent: false,
      ...header,
      dbMapping: {
        mapAll: false,
        caseInsensitive: false,
        commitBatch: 5000,
        readBatch: 5000,
        mirrorDb: false,
        ...dbMapping,
      },
    },
  };
}

/** Decodes canal FlatMessage lines (one JSON per line) into events with increasing offsets. */
export function eventsOfLines(text: string, destination = 'example'): ChangeEvent[] {
  const out: ChangeEvent[] = [];
  let offset = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    out.push(
      ...flatMessageToChangeEvents(decodeFlatMessage(line), {
        destination,
        partition: '0',
        offset: String(offset++),
      }),
    );
  }
  return out;
}

/** Events of a fixture file. */
export function eventsOfFile(path: string, destination = 'example'): ChangeEvent[] {
  return eventsOfLines(readFileSync(path, 'utf8'), destination);
}

/** Records for a batch, every event with the same mapping. */
export function records(
  events: readonly ChangeEvent[],
  m: MappingFile<RdbMapping>,
): SinkRecord<RdbMapping>[] {
  return events.map((event) => ({ event, mapping: m }));
}

export const never: AbortSignal = new AbortController().signal;

/** Connects, writes each batch, flushes, closes; returns every outcome. */
export async function applyAll(
  sink: SinkInstance<RdbMapping>,
  batches: readonly (readonly SinkRecord<RdbMapping>[])[],
): Promise<Awaited<ReturnType<SinkInstance['write']>>[]> {
  await sink.connect(never);
  const results = [];
  try {
    for (const b of batches) results.push(await sink.write(b, never));
    await sink.flush(never);
  } finally {
    await sink.close(never);
  }
  return results;
}
