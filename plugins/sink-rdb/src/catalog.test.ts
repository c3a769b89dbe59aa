import { describe, expect, it } from 'vitest';
import {
  loadMysqlTable,
  loadPgTable,
  mysqlColumn,
  mysqlDefaultSchema,
  mysqlFamily,
  pgColumn,
  pgDefaultSchema,
  pgFamily,
  type CatalogReader,
} from './catalog.js';
import type { Param } from './statementSql.js';

/** A session that answers every read with `rows` and records what it was asked. */
function reader(rows: Record<string, unknown>[]): CatalogReader & {
  calls: [string, readonly Param[]][];
} {
  const calls: [string, readonly Param[]][] = [];
  return {
    calls,
    read(sql, params) {
      calls.push([sql, params]);
      return Promise.resolve(rows);
    },
  };
}

describe('type families', () => {
  it('MySQL/MariaDB DATA_TYPE', () => {
    const families: Record<string, string[]> = {
      integer: ['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint'],
      decimal: ['decimal', 'numeric'],
      float: ['float', 'double', 'real'],
      bit: ['bit'],
      enum: ['enum'],
      set: ['set'],
      date: ['date'],
      datetime: ['datetime'],
      timestamp: ['timestamp'],
      time: ['time'],
      year: ['year'],
      json: ['json'],
      text: ['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext'],
      binary: ['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob'],
      other: ['geometry', 'point', 'uuid', 'inet6', 'boolean', 'double precision', '', 'INT'],
    };
    for (const [family, types] of Object.entries(families))
      for (const t of types) expect(mysqlFamily(t), t).toBe(family);
    // Names of Object.prototype are no type either.
    expect(mysqlFamily('constructor')).toBe('other');
  });

  it('PostgreSQL data_type', () => {
    const families: Record<string, string[]> = {
      integer: ['smallint', 'integer', 'bigint'],
      decimal: ['numeric'],
      float: ['real', 'double precision'],
      boolean: ['boolean'],
      bit: ['bit', 'bit varying'],
      date: ['date'],
      datetime: ['timestamp without time zone'],
      timestamp: ['timestamp with time zone'],
      time: ['time without time zone', 'time with time zone'],
      interval: ['interval'],
      json: ['json', 'jsonb'],
      // An enum type, citext, a PostGIS type… are USER-DEFINED: written as text.
      text: ['text', 'character varying', 'character', 'user-defined'],
      binary: ['bytea'],
      other: ['uuid', 'array', 'money', 'inet', 'xml', 'int', 'tinyint', 'timestamp', '', 'TEXT'],
    };
    for (const [family, types] of Object.entries(families))
      for (const t of types) expect(pgFamily(t), t).toBe(family);
    expect(pgFamily('toString')).toBe('other');
  });
});

describe('columns from catalog rows', () => {
  it('MySQL/MariaDB: the type lower-cased, the BIT width from COLUMN_TYPE', () => {
    expect(mysqlColumn({ name: 'Id', dataType: 'INT', columnType: 'int(11)', prec: 10 })).toEqual({
      name: 'Id',
      dataType: 'int',
      family: 'integer',
      bitWidth: 0,
      fixedBits: false,
    });
    expect(
      mysqlColumn({ name: 'flags', dataType: 'bit', columnType: 'bit(12)', prec: 12 }),
    ).toEqual({ name: 'flags', dataType: 'bit', family: 'bit', bitWidth: 12, fixedBits: false });
    expect(mysqlColumn({ name: 'b', dataType: 'BIT', columnType: 'BIT(1)' }).bitWidth).toBe(1);
    expect(mysqlColumn({ name: 'b', dataType: 'bit', columnType: 'bit(64)' }).bitWidth).toBe(64);
    // A BIT whose COLUMN_TYPE gives no width is one bit wide.
    expect(mysqlColumn({ name: 'b', dataType: 'bit', columnType: 'bit' }).bitWidth).toBe(1);
    // Only a COLUMN_TYPE that starts with bit(n) gives a width.
    expect(mysqlColumn({ name: 'e', dataType: 'enum', columnType: "enum('bit(3)','x')" })).toEqual({
      name: 'e',
      dataType: 'enum',
      family: 'enum',
      bitWidth: 0,
      fixedBits: false,
    });
    expect(
      mysqlColumn({ name: 'v', dataType: 'varchar', columnType: 'varchar(12)' }).bitWidth,
    ).toBe(0);
    // Missing fields become text, as String() gives them.
    expect(mysqlColumn({})).toEqual({
      name: 'undefined',
      dataType: 'undefined',
      family: 'other',
      bitWidth: 0,
      fixedBits: false,
    });
  });

  it('PostgreSQL: the type lower-cased, bit(n) fixed and bit varying(n) with their length', () => {
    expect(pgColumn({ name: 'Id', dataType: 'integer', len: null })).toEqual({
      name: 'Id',
      dataType: 'integer',
      family: 'integer',
      bitWidth: 0,
      fixedBits: false,
    });
    expect(pgColumn({ name: 'f', dataType: 'bit', len: 8 })).toEqual({
      name: 'f',
      dataType: 'bit',
      family: 'bit',
      bitWidth: 8,
      fixedBits: true,
    });
    expect(pgColumn({ name: 'v', dataType: 'bit varying', len: 16 })).toEqual({
      name: 'v',
      dataType: 'bit varying',
      family: 'bit',
      bitWidth: 16,
      fixedBits: false,
    });
    // bit varying without a length: no width.
    expect(pgColumn({ name: 'v', dataType: 'bit varying', len: null }).bitWidth).toBe(0);
    // A length of a type that is not bit (varchar(20)) is no bit width.
    expect(pgColumn({ name: 's', dataType: 'character varying', len: 20 })).toEqual({
      name: 's',
      dataType: 'character varying',
      family: 'text',
      bitWidth: 0,
      fixedBits: false,
    });
    expect(pgColumn({ name: 'e', dataType: 'USER-DEFINED', len: null })).toEqual({
      name: 'e',
      dataType: 'user-defined',
      family: 'text',
      bitWidth: 0,
      fixedBits: false,
    });
  });
});

describe('default schema', () => {
  it('MySQL/MariaDB: the database of the URL (DATABASE())', async () => {
    const r = reader([{ db: 'shop' }]);
    await expect(mysqlDefaultSchema(r)).resolves.toBe('shop');
    expect(r.calls).toEqual([['SELECT DATABASE() AS db', []]]);
  });

  it('MySQL/MariaDB: no database in the URL is an error', async () => {
    const message = 'jdbc.url names no database and the mapping has no targetDb.';
    await expect(mysqlDefaultSchema(reader([{ db: null }]))).rejects.toThrow(message);
    await expect(mysqlDefaultSchema(reader([{ db: '' }]))).rejects.toThrow(message);
    await expect(mysqlDefaultSchema(reader([]))).rejects.toThrow(message);
  });

  it('PostgreSQL: current_schema(), public when there is none', async () => {
    const r = reader([{ s: 'app' }]);
    await expect(pgDefaultSchema(r)).resolves.toBe('app');
    expect(r.calls).toEqual([['SELECT current_schema() AS s', []]]);
    await expect(pgDefaultSchema(reader([{ s: null }]))).resolves.toBe('public');
    await expect(pgDefaultSchema(reader([{ s: '' }]))).resolves.toBe('public');
    await expect(pgDefaultSchema(reader([]))).resolves.toBe('public');
  });
});

describe('loading a table', () => {
  it('MySQL/MariaDB: information_schema.COLUMNS by schema and table, in column order', async () => {
    const r = reader([
      { name: 'id', dataType: 'bigint', columnType: 'bigint(20) unsigned', prec: 20 },
      { name: 'Name', dataType: 'varchar', columnType: 'varchar(10)', prec: null },
      { name: 'f', dataType: 'bit', columnType: 'bit(3)', prec: 3 },
    ]);
    const t = await loadMysqlTable(r, 'shop', 'orders');
    expect(r.calls).toEqual([
      [
        'SELECT COLUMN_NAME AS name, DATA_TYPE AS dataType, COLUMN_TYPE AS columnType, NUMERIC_PRECISION AS prec ' +
          'FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
        ['shop', 'orders'],
      ],
    ]);
    expect(t?.schema).toBe('shop');
    expect(t?.table).toBe('orders');
    expect(t?.columns).toEqual([
      { name: 'id', dataType: 'bigint', family: 'integer', bitWidth: 0, fixedBits: false },
      { name: 'Name', dataType: 'varchar', family: 'text', bitWidth: 0, fixedBits: false },
      { name: 'f', dataType: 'bit', family: 'bit', bitWidth: 3, fixedBits: false },
    ]);
    expect(t?.column('name')?.name).toBe('Name');
  });

  it('PostgreSQL: information_schema.columns by schema and table, in column order', async () => {
    const r = reader([
      { name: 'id', dataType: 'integer', len: null },
      { name: 'b', dataType: 'bit', len: 4 },
    ]);
    const t = await loadPgTable(r, 'public', 'Orders');
    expect(r.calls).toEqual([
      [
        'SELECT column_name AS name, data_type AS "dataType", character_maximum_length AS len ' +
          'FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position',
        ['public', 'Orders'],
      ],
    ]);
    expect(t?.schema).toBe('public');
    expect(t?.table).toBe('Orders');
    expect(t?.columns).toEqual([
      { name: 'id', dataType: 'integer', family: 'integer', bitWidth: 0, fixedBits: false },
      { name: 'b', dataType: 'bit', family: 'bit', bitWidth: 4, fixedBits: true },
    ]);
  });

  it('a table without columns in the catalog does not exist', async () => {
    await expect(loadMysqlTable(reader([]), 's', 't')).resolves.toBeUndefined();
    await expect(loadPgTable(reader([]), 's', 't')).resolves.toBeUndefined();
  });
});
