/**
 * ETL (full sync) from a MariaDB source table into MariaDB and PostgreSQL targets: keyset pages,
 * etlCondition with bound params (never spliced: an injection attempt matches nothing), progress,
 * and `sluice etl` from the command line.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type mysql from 'mysql2/promise';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataSources } from '@sluice/plugin-api';
import { mysqlEndpoint } from '../../../test/support/testbed.js';
import {
  createSink,
  credentials,
  mapping,
  mysqlAdmin,
  mysqlJdbcUrl,
  never,
  pgAdmin,
  pgJdbcUrl,
  properties,
  uniqueName,
} from './helpers.js';

const ROWS = 2_345;
const source = uniqueName('rdb_etl_src');
const target = uniqueName('rdb_etl_tgt');
let my: mysql.Connection;
let pgc: pg.Client;

function dataSources(): DataSources {
  const e = mysqlEndpoint();
  const ds = {
    key: 'defaultDS',
    kind: 'mysql' as const,
    host: e.host,
    port: e.port,
    database: source,
    user: e.user,
    password: e.password,
    params: {},
    maxActive: 3,
  };
  return { get: (k) => (k === 'defaultDS' ? ds : undefined), keys: () => ['defaultDS'] };
}

beforeAll(async () => {
  my = await mysqlAdmin();
  pgc = await pgAdmin();
  await my.query(`CREATE DATABASE \`${source}\` DEFAULT CHARACTER SET utf8mb4`);
  await my.query(`CREATE DATABASE \`${target}\` DEFAULT CHARACTER SET utf8mb4`);
  const ddl = (db: string) =>
    `CREATE TABLE \`${db}\`.items (id int PRIMARY KEY, name varchar(40) NOT NULL, flag tinyint(1), kind enum('a','b'), payload json, bits bit(4), ts timestamp(3) NULL, d datetime)`;
  await my.query(ddl(source));
  await my.query(ddl(target));
  const values: string[] = [];
  for (let i = 1; i <= ROWS; i++)
    values.push(
      `(${i}, 'name ${i} 😀', ${i % 7}, '${i % 2 ? 'a' : 'b'}', '{"n": ${i}, "s": "中"}', b'1010', '2024-01-02 03:04:05.678', '0000-00-00 00:00:00')`,
    );
  await my.query(`SET SESSION sql_mode = ''`);
  await my.query(`SET time_zone = '+00:00'`);
  await my.query(`INSERT INTO \`${source}\`.items VALUES ${values.join(',')}`);
  await pgc.query(`CREATE SCHEMA "${target}"`);
  await pgc.query(
    `CREATE TABLE "${target}".items (id int PRIMARY KEY, name varchar(40) NOT NULL, flag smallint, kind text, payload jsonb, bits bit(4), ts timestamptz(3), d text)`,
  );
});
afterAll(async () => {
  await my.query(`DROP DATABASE IF EXISTS \`${source}\``);
  await my.query(`DROP DATABASE IF EXISTS \`${target}\``);
  await pgc.query(`DROP SCHEMA IF EXISTS "${target}" CASCADE`);
  await my.end();
  await pgc.end();
});

const itemsMapping = (extra: { etlCondition?: string; targetDb?: string } = {}) =>
  mapping(
    'items',
    {
      database: source,
      table: 'items',
      targetTable: 'items',
      targetPk: { id: 'id' },
      mapAll: true,
      commitBatch: 1000,
      ...extra,
    },
    { dataSourceKey: 'defaultDS' },
  );

async function runEtl(
  kind: 'mysql' | 'pg',
  m: ReturnType<typeof itemsMapping>,
  params: string[],
  progress: number[] = [],
) {
  const sink = createSink(
    properties({
      'jdbc.url': kind === 'mysql' ? mysqlJdbcUrl(target) : pgJdbcUrl(),
      ...credentials(kind),
    }),
    { dataSources: dataSources(), configDir: await mkdtemp(join(tmpdir(), 'rdb-etl-')) },
  );
  await sink.connect(never);
  try {
    return await sink.etl!({ mapping: m, params, onProgress: (n) => progress.push(n) }, never);
  } finally {
    await sink.close(never);
  }
}

describe('rdb ETL', () => {
  it('copies every row to MariaDB exactly, page by page, with progress', async () => {
    const progress: number[] = [];
    const result = await runEtl('mysql', itemsMapping(), [], progress);
    expect(result).toEqual({ rows: ROWS, errors: [] });
    expect(progress).toEqual([0, 1000, 2000, ROWS]);
    const sum = async (db: string) =>
      (
        (
          await my.query(
            `SELECT COUNT(*) AS n, SUM(CRC32(CONCAT_WS('|', id, name, flag, kind, payload, HEX(bits), ts, d))) AS c FROM \`${db}\`.items`,
          )
        )[0] as Record<string, unknown>[]
      )[0];
    expect(await sum(target)).toEqual(await sum(source));
  });

  it('binds etlCondition params and never splices them into the SQL', async () => {
    await my.query(`DELETE FROM \`${target}\`.items`);
    const m = itemsMapping({ etlCondition: 'where id > {} and name <> {}' });
    expect(await runEtl('mysql', m, ['2000', 'x'])).toEqual({ rows: ROWS - 2000, errors: [] });
    await my.query(`DELETE FROM \`${target}\`.items`);
    const injection = await runEtl('mysql', m, ['0 OR 1=1', "x' OR '1'='1"]);
    // '0 OR 1=1' is compared as a value (id > 0) and the quote does not end the string literal.
    expect(injection).toEqual({ rows: ROWS, errors: [] });
    await my.query(`DELETE FROM \`${target}\`.items`);
    const nameOnly = itemsMapping({ etlCondition: 'where name = {}' });
    expect(await runEtl('mysql', nameOnly, ["x' OR '1'='1"])).toEqual({ rows: 0, errors: [] });
    const [[count]] = (await my.query(
      `SELECT COUNT(*) AS n FROM \`${source}\`.items`,
    )) as unknown as [{ n: number }[]];
    expect(Number(count!.n)).toBe(ROWS);
  });

  it('copies into PostgreSQL; the zero DATETIME goes as text, the rest typed', async () => {
    const result = await runEtl('pg', itemsMapping({ targetDb: target }), []);
    expect(result).toEqual({ rows: ROWS, errors: [] });
    const { rows } = await pgc.query(
      `SELECT id, name, flag, kind, payload->>'s' AS s, bits::text AS bits, to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') AS ts, d FROM "${target}".items WHERE id IN (1, 2) ORDER BY id`,
    );
    expect(rows).toEqual([
      {
        id: 1,
        name: 'name 1 😀',
        flag: 1,
        kind: 'a',
        s: '中',
        bits: '1010',
        ts: '2024-01-02 03:04:05.678',
        d: '0000-00-00 00:00:00',
      },
      {
        id: 2,
        name: 'name 2 😀',
        flag: 2,
        kind: 'b',
        s: '中',
        bits: '1010',
        ts: '2024-01-02 03:04:05.678',
        d: '0000-00-00 00:00:00',
      },
    ]);
  });

  it('runs from the command line: sluice etl rdb KEY TASK --params', async () => {
    await my.query(`DELETE FROM \`${target}\`.items`);
    const e = mysqlEndpoint();
    const dir = await mkdtemp(join(tmpdir(), 'rdb-etl-cli-'));
    await mkdir(join(dir, 'rdb'));
    await writeFile(join(dir, 'none.jsonl'), '');
    await writeFile(
      join(dir, 'application.yml'),
      `canal.conf:
  mode: file
  consumerProperties:
    file.path: none.jsonl
  srcDataSources:
    defaultDS:
      url: jdbc:mysql://${e.host}:${e.port}/${source}?useUnicode=true
      username: ${e.user}
      password: ${e.password}
  canalAdapters:
  - instance: example
    groups:
    - groupId: g1
      outerAdapters:
      - name: rdb
        key: mysql1
        properties:
          jdbc.url: ${mysqlJdbcUrl(target)}
          jdbc.username: ${e.user}
          jdbc.password: ${e.password}
`,
    );
    await writeFile(
      join(dir, 'rdb', 'items.yml'),
      `dataSourceKey: defaultDS
destination: example
groupId: g1
outerAdapterKey: mysql1
dbMapping:
  database: ${source}
  table: items
  targetTable: items
  targetPk:
    id: id
  mapAll: true
  etlCondition: "where id <= {}"
  commitBatch: 500
`,
    );
    const bin = join(import.meta.dirname, '..', '..', '..', 'packages', 'cli', 'dist', 'bin.js');
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [bin, 'etl', 'rdb', 'mysql1', 'items.yml', '-c', dir, '--params', '1200'],
      { timeout: 60_000 },
    );
    expect(stdout).toMatch(/rdb mysql1 items.yml: 1200 rows written, 0 errors/);
    expect(stderr).toMatch(/100\.0% 1,200\/1,200 rows .* rows\/s {2}ETA/);
    const [[count]] = (await my.query(
      `SELECT COUNT(*) AS n FROM \`${target}\`.items`,
    )) as unknown as [{ n: number }[]];
    expect(Number(count!.n)).toBe(1200);
  });
});
