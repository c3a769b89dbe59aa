/**
 * Issue 16, part 2: the testbed canal-server in Kafka mode reproduces real canal's output. The
 * real-canal fixtures' workload (test/fixtures from ../shared/fixtures/real-canal: canal 1.1.8,
 * MariaDB 10.11, Kafka mode, flat and protobuf) runs, renamed into a database of its own, through
 * the testbed canal (1.1.7 server classes) into two topics; the flat records and the protobuf
 * entries must equal the fixtures except for what differs between runs by nature: batch ids,
 * binlog file/offsets, event and produce times, table ids, transaction ids, event lengths (the
 * database name has another length), and the database name itself.
 *
 * Other tests write to the same MariaDB meanwhile. canal's table filter does not apply to the
 * annotate-rows QUERY messages, empty-transaction heartbeats or CREATE DATABASE of other sessions
 * (fixture `flat-createdb.jsonl` shows that with real canal), so both sides keep only what belongs
 * to the workload's database.
 */
import { readFileSync } from 'node:fs';
import type { Connection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EntryType,
  decodeCanalMessages,
  decodeRowChange,
  decodeTransactionEnd,
  type CanalEntry,
} from '@sluice/canal-protocol';
import { mysqlRoot } from '../support/canal.js';
import { createCanalDestination, dropCanalDestination, uniqueName } from '../support/testbed.js';
import { deleteTopics, readTopic, runMariadbScript } from './support/canal.js';

const FIXTURES = new URL(
  '../../packages/canal-protocol/test/fixtures/real-canal/',
  import.meta.url,
);
const fixture = (name: string): Buffer => readFileSync(new URL(name, FIXTURES));
const FX_DB = 'canalfx';

type Json = Record<string, unknown>;

/** Replaces the workload database's name (as identifier text) by `to`. */
const rename = (s: string, from: string, to: string): string => s.split(from).join(to);

/** A flat message without run-dependent fields, in the fixture's database name. */
function comparableFlat(m: Json, db: string): Json {
  const { id: _id, es: _es, ts: _ts, ...rest } = m;
  return {
    ...rest,
    database: rename(String(m.database), db, FX_DB),
    sql: rename(String(m.sql), db, FX_DB),
  };
}

/** Whether a flat message belongs to the workload (its rows, its DDL, its annotate QUERY). */
const flatIsOurs = (m: Json, db: string): boolean =>
  m.database === db || (m.type === 'QUERY' && String(m.sql).includes(`${db}.`));

const big = (v: unknown): unknown =>
  typeof v === 'bigint'
    ? v.toString()
    : v instanceof Uint8Array
      ? Buffer.from(v).toString('hex')
      : v;

/** A protobuf entry as plain data, without run-dependent fields, in the fixture's database name. */
function comparableEntry(e: CanalEntry, db: string): Json {
  const h = e.header;
  const header = {
    version: h.version,
    serverId: big(h.serverId),
    serverenCode: h.serverenCode,
    sourceType: h.sourceType,
    schemaName: rename(h.schemaName, db, FX_DB),
    tableName: h.tableName,
    eventType: h.eventType,
    props: h.props,
    gtid: h.gtid,
  };
  if (e.entryType === EntryType.TRANSACTIONEND) {
    const { executeTime: _t, transactionId: _x, ...end } = decodeTransactionEnd(e.storeValue);
    return { entryType: e.entryType, header, end };
  }
  if (e.entryType !== EntryType.ROWDATA) {
    return { entryType: e.entryType, header, storeValue: big(e.storeValue) };
  }
  const { tableId: _id, ...rc } = decodeRowChange(e.storeValue);
  return {
    entryType: e.entryType,
    header,
    rowChange: {
      ...rc,
      sql: rename(rc.sql, db, FX_DB),
      ddlSchemaName: rename(rc.ddlSchemaName, db, FX_DB),
    },
  };
}

/**
 * The workload's entries: ROWDATA of its database, QUERY entries naming it, and the TRANSACTIONEND
 * right after one of those (the end of a workload transaction).
 */
function ourEntries(entries: CanalEntry[], db: string): CanalEntry[] {
  const kept: CanalEntry[] = [];
  let previousOurs = false;
  for (const e of entries) {
    let ours = false;
    if (e.entryType === EntryType.TRANSACTIONEND) ours = previousOurs;
    else if (e.entryType === EntryType.ROWDATA) {
      if (e.header.schemaName === db) ours = true;
      else {
        const rc = decodeRowChange(e.storeValue);
        ours = rc.sql.includes(`${db}.`) && e.header.schemaName === '';
      }
    }
    if (ours) kept.push(e);
    previousOurs = ours && e.entryType !== EntryType.TRANSACTIONEND;
  }
  return kept;
}

function protobufEntries(values: Buffer[]): CanalEntry[] {
  return values.flatMap((v) => [...decodeCanalMessages(v).entries]);
}

function lengthPrefixed(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let pos = 0; pos < bytes.length;) {
    const n = bytes.readUInt32BE(pos);
    out.push(bytes.subarray(pos + 4, pos + 4 + n));
    pos += 4 + n;
  }
  return out;
}

const expectedFlat = fixture('flat.jsonl')
  .toString('utf8')
  .split('\n')
  .filter((l) => l !== '')
  .map((l) => JSON.parse(l) as Json)
  .filter((m) => flatIsOurs(m, FX_DB))
  .map((m) => comparableFlat(m, FX_DB));

const expectedEntries = ourEntries(
  protobufEntries(lengthPrefixed(fixture('protobuf.lpb'))),
  FX_DB,
).map((e) => comparableEntry(e, FX_DB));

describe('testbed canal (Kafka mode) reproduces the real canal 1.1.8 fixtures', () => {
  const db = uniqueName('canalfx');
  const flatDestination = uniqueName('fxflat');
  const pbDestination = uniqueName('fxpb');
  const flatTopic = uniqueName('fx_flat');
  const pbTopic = uniqueName('fx_pb');
  let conn: Connection;

  beforeAll(async () => {
    conn = await mysqlRoot();
    // As for the fixtures: the database exists before canal connects.
    await conn.query(`CREATE DATABASE \`${db}\` DEFAULT CHARACTER SET utf8mb4`);
    const filter = `${db}\\..*`;
    await createCanalDestination(flatDestination, {
      mode: 'kafka',
      flatMessage: true,
      topic: flatTopic,
      filter,
    });
    await createCanalDestination(pbDestination, {
      mode: 'kafka',
      flatMessage: false,
      topic: pbTopic,
      filter,
    });
    await runMariadbScript(rename(fixture('workload.sql').toString('utf8'), `${FX_DB}.`, `${db}.`));
  }, 120_000);

  afterAll(async () => {
    await dropCanalDestination(flatDestination);
    await dropCanalDestination(pbDestination);
    await deleteTopics([flatTopic, pbTopic]);
    await conn.query(`DROP DATABASE IF EXISTS \`${db}\``);
    await conn.end();
  });

  it('the fixtures hold what this test compares (61 flat records, 85 protobuf entries)', () => {
    expect(expectedFlat).toHaveLength(61);
    expect(expectedEntries).toHaveLength(85);
  });

  it('flat: the same 61 records, in order', async () => {
    const values = await readTopic(
      flatTopic,
      (vs) => vs.filter((v) => flatIsOurs(JSON.parse(v.toString('utf8')) as Json, db)).length >= 61,
      45_000,
    );
    const actual = values
      .map((v) => JSON.parse(v.toString('utf8')) as Json)
      .filter((m) => flatIsOurs(m, db))
      .map((m) => comparableFlat(m, db));
    expect(actual).toEqual(expectedFlat);
  }, 60_000);

  it('protobuf: the same 85 entries, in order', async () => {
    const values = await readTopic(
      pbTopic,
      (vs) => ourEntries(protobufEntries(vs), db).length >= 85,
      45_000,
    );
    const actual = ourEntries(protobufEntries(values), db).map((e) => comparableEntry(e, db));
    expect(actual).toEqual(expectedEntries);
  }, 60_000);
});
