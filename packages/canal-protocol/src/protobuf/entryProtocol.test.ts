/**
 * The checked decoder field by field: each known field's wire type is checked and named with
 * its full path, every absent field reads as canal's proto2 default, repeated messages keep
 * their order, and the encoders write exactly the fields canal's Java runtime writes.
 */
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../decodeError.js';
import {
  EntryType,
  EventType,
  SourceType,
  decodeEntry,
  decodeRowChange,
  decodeTransactionBegin,
  decodeTransactionEnd,
  decodeWhole,
  encodeColumn,
  encodeEntry,
  encodeHeader,
  encodeRowChange,
  encodeRowData,
  encodeTransactionBegin,
  encodeTransactionEnd,
  entryTypeName,
  eventTypeName,
  type CanalColumn,
  type CanalHeader,
} from './entryProtocol.js';
import { ProtoWriter, WireType } from './wire.js';

const VARINT = WireType.varint;
const LEN = WireType.lengthDelimited;

/** A field with the other wire type than `expected`, carrying a valid value of that type. */
function wrong(field: number, expected: number): Uint8Array {
  const w = new ProtoWriter();
  if (expected === VARINT) w.tag(field, LEN).string('x');
  else w.tag(field, VARINT).uint32(1);
  return w.finish();
}

function wrap(field: number, inner: Uint8Array): Uint8Array {
  return new ProtoWriter().tag(field, LEN).bytes(inner).finish();
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => Array.from(p)));
}

function errorOf(f: () => unknown): DecodeError {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(DecodeError);
    return error as DecodeError;
  }
  throw new Error('did not throw');
}

const expectedText = (path: string, expected: number): string =>
  `${path}: has ${expected === VARINT ? 'length-delimited' : 'varint'} encoding, expected ${expected === VARINT ? 'varint' : 'length-delimited'}`;

const headerFields: [number, string, number][] = [
  [1, 'version', VARINT],
  [2, 'logfileName', LEN],
  [3, 'logfileOffset', VARINT],
  [4, 'serverId', VARINT],
  [5, 'serverenCode', LEN],
  [6, 'executeTime', VARINT],
  [7, 'sourceType', VARINT],
  [8, 'schemaName', LEN],
  [9, 'tableName', LEN],
  [10, 'eventLength', VARINT],
  [11, 'eventType', VARINT],
  [12, 'props', LEN],
  [13, 'gtid', LEN],
];
const columnFields: [number, string, number][] = [
  [1, 'index', VARINT],
  [2, 'sqlType', VARINT],
  [3, 'name', LEN],
  [4, 'isKey', VARINT],
  [5, 'updated', VARINT],
  [6, 'isNull', VARINT],
  [7, 'props', LEN],
  [8, 'value', LEN],
  [9, 'length', VARINT],
  [10, 'mysqlType', LEN],
];
const rowChangeFields: [number, string, number][] = [
  [1, 'tableId', VARINT],
  [2, 'eventType', VARINT],
  [10, 'isDdl', VARINT],
  [11, 'sql', LEN],
  [12, 'rowDatas', LEN],
  [13, 'props', LEN],
  [14, 'ddlSchemaName', LEN],
];
const rowDataFields: [number, string, number][] = [
  [1, 'beforeColumns', LEN],
  [2, 'afterColumns', LEN],
  [3, 'props', LEN],
];
const beginFields: [number, string, number][] = [
  [1, 'executeTime', VARINT],
  [2, 'transactionId', LEN],
  [3, 'props', LEN],
  [4, 'threadId', VARINT],
];
const endFields: [number, string, number][] = [
  [1, 'executeTime', VARINT],
  [2, 'transactionId', LEN],
  [3, 'props', LEN],
];
const entryFields: [number, string, number][] = [
  [1, 'header', LEN],
  [2, 'entryType', VARINT],
  [3, 'storeValue', LEN],
];
const pairFields: [number, string, number][] = [
  [1, 'key', LEN],
  [2, 'value', LEN],
];

describe('a known field with the wrong wire type is named with its path', () => {
  it.each(entryFields)('Entry.%s %s', (n, name, wt) => {
    expect(errorOf(() => decodeEntry(wrong(n, wt))).message).toBe(expectedText(name, wt));
  });
  it.each(headerFields)('Header field %d (%s)', (n, name, wt) => {
    expect(errorOf(() => decodeEntry(wrap(1, wrong(n, wt)))).message).toBe(
      expectedText(`header.${name}`, wt),
    );
  });
  it.each(rowChangeFields)('RowChange field %d (%s)', (n, name, wt) => {
    expect(errorOf(() => decodeRowChange(wrong(n, wt))).message).toBe(expectedText(name, wt));
  });
  it.each(rowDataFields)('RowData field %d (%s), in the second row', (n, name, wt) => {
    const bytes = concat(wrap(12, new Uint8Array(0)), wrap(12, wrong(n, wt)));
    expect(errorOf(() => decodeRowChange(bytes)).message).toBe(
      expectedText(`rowDatas[1].${name}`, wt),
    );
  });
  it.each(columnFields)('Column field %d (%s), the second after column', (n, name, wt) => {
    const row = concat(wrap(2, new Uint8Array(0)), wrap(2, wrong(n, wt)));
    expect(errorOf(() => decodeRowChange(wrap(12, row))).message).toBe(
      expectedText(`rowDatas[0].afterColumns[1].${name}`, wt),
    );
    const before = concat(wrap(1, wrong(n, wt)));
    expect(errorOf(() => decodeRowChange(wrap(12, before))).message).toBe(
      expectedText(`rowDatas[0].beforeColumns[0].${name}`, wt),
    );
  });
  it.each(beginFields)('TransactionBegin field %d (%s)', (n, name, wt) => {
    expect(errorOf(() => decodeTransactionBegin(wrong(n, wt))).message).toBe(
      expectedText(name, wt),
    );
  });
  it.each(endFields)('TransactionEnd field %d (%s)', (n, name, wt) => {
    expect(errorOf(() => decodeTransactionEnd(wrong(n, wt))).message).toBe(expectedText(name, wt));
  });
  it.each(pairFields)('Pair field %d (%s), in every message that has props', (n, name, wt) => {
    const pairs = concat(wrap(13, new Uint8Array(0)), wrap(13, wrong(n, wt)));
    expect(errorOf(() => decodeRowChange(pairs)).message).toBe(
      expectedText(`props[1].${name}`, wt),
    );
    expect(errorOf(() => decodeEntry(wrap(1, wrap(12, wrong(n, wt))))).message).toBe(
      expectedText(`header.props[0].${name}`, wt),
    );
    expect(errorOf(() => decodeRowChange(wrap(12, wrap(2, wrap(7, wrong(n, wt)))))).message).toBe(
      expectedText(`rowDatas[0].afterColumns[0].props[0].${name}`, wt),
    );
    expect(errorOf(() => decodeRowChange(wrap(12, wrap(3, wrong(n, wt))))).message).toBe(
      expectedText(`rowDatas[0].props[0].${name}`, wt),
    );
    expect(errorOf(() => decodeTransactionBegin(wrap(3, wrong(n, wt)))).message).toBe(
      expectedText(`props[0].${name}`, wt),
    );
    expect(errorOf(() => decodeTransactionEnd(wrap(3, wrong(n, wt)))).message).toBe(
      expectedText(`props[0].${name}`, wt),
    );
  });

  it('wraps a failure that is not a DecodeError with the "(protobuf)" path', () => {
    const error = errorOf(() =>
      decodeWhole(new Uint8Array(0), () => {
        throw new RangeError('boom');
      }),
    );
    expect(error.message).toBe('(protobuf): boom');
    const plain = new DecodeError('plain', { path: 'p' });
    expect(
      errorOf(() =>
        decodeWhole(new Uint8Array(0), () => {
          throw plain;
        }),
      ),
    ).toBe(plain);
    expect(errorOf(() => decodeRowChange(Uint8Array.of(0x5a, 0x05))).message).toMatch(
      /^string field of 5 bytes at byte 1 runs past the end/,
    );
  });

  it('names a truncated embedded message by its path', () => {
    const truncated = Uint8Array.of(0x62, 0x05, 0x12, 0x01);
    expect(errorOf(() => decodeRowChange(truncated)).message).toBe(
      'rowDatas[0]: embedded message of 5 bytes at byte 1 runs past the end of its message (2 bytes left)',
    );
  });
});

describe('absent fields are the proto2 defaults; every field lands where it belongs', () => {
  it('an empty Entry, Header, RowChange, Column, TransactionBegin/End', () => {
    expect(decodeEntry(new Uint8Array(0))).toEqual({
      header: {
        version: 1,
        logfileName: '',
        logfileOffset: 0n,
        serverId: 0n,
        serverenCode: '',
        executeTime: 0n,
        sourceType: SourceType.MYSQL,
        schemaName: '',
        tableName: '',
        eventLength: 0n,
        eventType: EventType.UPDATE,
        props: [],
        gtid: '',
      },
      entryType: EntryType.ROWDATA,
      storeValue: new Uint8Array(0),
    });
    expect(decodeRowChange(new Uint8Array(0))).toEqual({
      tableId: 0n,
      eventType: EventType.UPDATE,
      isDdl: false,
      sql: '',
      rowDatas: [],
      props: [],
      ddlSchemaName: '',
    });
    expect(decodeRowChange(wrap(12, concat(wrap(1, new Uint8Array(0)))))).toEqual(
      expect.objectContaining({
        rowDatas: [
          {
            beforeColumns: [
              {
                index: 0,
                sqlType: 0,
                name: '',
                isKey: false,
                updated: false,
                isNull: false,
                props: [],
                value: '',
                length: 0,
                mysqlType: '',
              },
            ],
            afterColumns: [],
            props: [],
          },
        ],
      }),
    );
    expect(decodeTransactionBegin(new Uint8Array(0))).toEqual({
      executeTime: 0n,
      transactionId: '',
      props: [],
      threadId: 0n,
    });
    expect(decodeTransactionEnd(new Uint8Array(0))).toEqual({
      executeTime: 0n,
      transactionId: '',
      props: [],
    });
  });

  it('each field read from its own number, unknown fields of every wire type skipped', () => {
    const unknown = new ProtoWriter()
      .tag(99, VARINT)
      .uint32(7)
      .tag(98, LEN)
      .string('?')
      .tag(97, WireType.fixed32)
      .uint32(0)
      .uint32(0)
      .uint32(0)
      .uint32(0)
      .finish();
    const h: CanalHeader = {
      version: 3,
      logfileName: 'bin.9',
      logfileOffset: 11n,
      serverId: 12n,
      serverenCode: 'latin1',
      executeTime: -13n,
      sourceType: SourceType.PGSQL,
      schemaName: 's',
      tableName: 't',
      eventLength: 14n,
      eventType: EventType.DELETE,
      props: [
        { key: 'a', value: '1' },
        { key: 'b', value: '2' },
      ],
      gtid: 'g:1',
    };
    const c: CanalColumn = {
      index: 4,
      sqlType: -5,
      name: 'n',
      isKey: true,
      updated: true,
      isNull: false,
      props: [{ key: 'k', value: 'v' }],
      value: 'val',
      length: 8,
      mysqlType: 'bigint',
    };
    const entryBytes = concat(
      unknown,
      wrap(1, concat(encodeHeader(h), unknown)),
      new ProtoWriter().tag(2, VARINT).int32(EntryType.TRANSACTIONEND).finish(),
      wrap(3, Uint8Array.of(1, 2)),
      unknown,
    );
    const entry = decodeEntry(entryBytes);
    expect(entry).toEqual({
      header: h,
      entryType: EntryType.TRANSACTIONEND,
      storeValue: Uint8Array.of(1, 2),
    });
    const rowBytes = concat(
      wrap(1, concat(encodeColumn(c), unknown)),
      wrap(2, encodeColumn({ ...c, name: 'm', isKey: false })),
      wrap(3, encodeRowData({ beforeColumns: [], afterColumns: [], props: [] })),
      unknown,
    );
    const rc = decodeRowChange(
      concat(
        new ProtoWriter()
          .tag(1, VARINT)
          .int64(21n)
          .tag(2, VARINT)
          .int32(EventType.ALTER)
          .tag(10, VARINT)
          .bool(true)
          .tag(11, LEN)
          .string('ALTER TABLE t')
          .tag(14, LEN)
          .string('db')
          .finish(),
        wrap(12, rowBytes),
        wrap(13, new ProtoWriter().tag(1, LEN).string('p').tag(2, LEN).string('q').finish()),
        unknown,
      ),
    );
    expect(rc).toEqual({
      tableId: 21n,
      eventType: EventType.ALTER,
      isDdl: true,
      sql: 'ALTER TABLE t',
      rowDatas: [
        {
          beforeColumns: [c],
          afterColumns: [{ ...c, name: 'm', isKey: false }],
          props: [{ key: '', value: '' }],
        },
      ],
      props: [{ key: 'p', value: 'q' }],
      ddlSchemaName: 'db',
    });
    expect(
      decodeTransactionBegin(
        concat(
          encodeTransactionBegin({
            executeTime: 31n,
            transactionId: 'tx',
            props: [{ key: 'x', value: 'y' }],
            threadId: 32n,
          }),
          unknown,
        ),
      ),
    ).toEqual({
      executeTime: 31n,
      transactionId: 'tx',
      props: [{ key: 'x', value: 'y' }],
      threadId: 32n,
    });
    expect(
      decodeTransactionEnd(
        concat(
          encodeTransactionEnd({ executeTime: 41n, transactionId: 'tx2', props: [] }),
          unknown,
        ),
      ),
    ).toEqual({ executeTime: 41n, transactionId: 'tx2', props: [] });
  });

  it('a Column flag is any non-zero varint; the last of a repeated scalar wins', () => {
    const col = new ProtoWriter()
      .tag(4, VARINT)
      .uint32(2)
      .tag(6, VARINT)
      .uint32(300)
      .tag(3, LEN)
      .string('first')
      .tag(3, LEN)
      .string('second')
      .finish();
    expect(decodeRowChange(wrap(12, wrap(2, col))).rowDatas[0]!.afterColumns[0]).toMatchObject({
      isKey: true,
      isNull: true,
      name: 'second',
    });
  });
});

describe('encoders write what canal writes', () => {
  it('a Column: a NULL leaves out its empty value, a zero length is left out', () => {
    const base: CanalColumn = {
      index: 1,
      sqlType: 4,
      name: 'a',
      isKey: false,
      updated: false,
      isNull: true,
      props: [],
      value: '',
      length: 0,
      mysqlType: 'int',
    };
    // index, sqlType, name, isKey, updated, isNull, mysqlType: no value (8), no length (9).
    expect(Buffer.from(encodeColumn(base)).toString('hex')).toBe(
      '0801' + '1004' + '1a0161' + '2000' + '2800' + '3001' + '5203696e74',
    );
    expect(Buffer.from(encodeColumn({ ...base, isNull: false })).toString('hex')).toBe(
      '0801' + '1004' + '1a0161' + '2000' + '2800' + '3000' + '4200' + '5203696e74',
    );
    expect(
      Buffer.from(
        encodeColumn({
          ...base,
          isNull: false,
          value: '7',
          length: 11,
          isKey: true,
          updated: true,
          props: [{ key: 'k', value: 'v' }],
        }),
      ).toString('hex'),
    ).toBe(
      '0801' +
        '1004' +
        '1a0161' +
        '2001' +
        '2801' +
        '3000' +
        '3a06' +
        '0a016b' +
        '120176' +
        '420137' +
        '480b' +
        '5203696e74',
    );
  });

  it('a RowChange leaves out an empty sql and ddlSchemaName; a RowData its empty lists', () => {
    expect(
      Buffer.from(
        encodeRowChange({
          tableId: 5n,
          eventType: EventType.INSERT,
          isDdl: false,
          sql: '',
          rowDatas: [],
          props: [],
          ddlSchemaName: '',
        }),
      ).toString('hex'),
    ).toBe('0805' + '1001' + '5000');
    expect(
      Buffer.from(
        encodeRowChange({
          tableId: 5n,
          eventType: EventType.QUERY,
          isDdl: true,
          sql: 'q',
          rowDatas: [{ beforeColumns: [], afterColumns: [], props: [] }],
          props: [],
          ddlSchemaName: 'd',
        }),
      ).toString('hex'),
    ).toBe('0805' + '1007' + '5001' + '5a0171' + '6200' + '720164');
    expect(encodeRowData({ beforeColumns: [], afterColumns: [], props: [] })).toHaveLength(0);
  });

  it('TransactionBegin/End leave out a zero executeTime; End always writes its id', () => {
    expect(
      Buffer.from(
        encodeTransactionBegin({ executeTime: 0n, transactionId: '', props: [], threadId: 9n }),
      ).toString('hex'),
    ).toBe('2009');
    expect(
      Buffer.from(
        encodeTransactionBegin({ executeTime: 2n, transactionId: 't', props: [], threadId: 0n }),
      ).toString('hex'),
    ).toBe('0802' + '120174' + '2000');
    expect(
      Buffer.from(encodeTransactionEnd({ executeTime: 0n, transactionId: '', props: [] })).toString(
        'hex',
      ),
    ).toBe('1200');
    expect(
      Buffer.from(encodeTransactionEnd({ executeTime: 3n, transactionId: '', props: [] })).toString(
        'hex',
      ),
    ).toBe('0803' + '1200');
  });

  it('a Header leaves out an empty gtid; an Entry writes its three fields', () => {
    const h: CanalHeader = {
      version: 1,
      logfileName: '',
      logfileOffset: 0n,
      serverId: 0n,
      serverenCode: '',
      executeTime: 0n,
      sourceType: 2,
      schemaName: '',
      tableName: '',
      eventLength: 0n,
      eventType: 1,
      props: [],
      gtid: '',
    };
    const plain =
      '0801' +
      '1200' +
      '1800' +
      '2000' +
      '2a00' +
      '3000' +
      '3802' +
      '4200' +
      '4a00' +
      '5000' +
      '5801';
    expect(Buffer.from(encodeHeader(h)).toString('hex')).toBe(plain);
    expect(Buffer.from(encodeHeader({ ...h, gtid: 'g' })).toString('hex')).toBe(plain + '6a0167');
    expect(
      Buffer.from(
        encodeEntry({ header: h, entryType: EntryType.ROWDATA, storeValue: Uint8Array.of(7) }),
      ).toString('hex'),
    ).toBe('0a16' + plain + '1002' + '1a0107');
  });
});

describe('enum names', () => {
  it('names every EventType and EntryType as canal does, and unknown numbers', () => {
    expect(eventTypeName(0)).toBe('EVENTTYPECOMPATIBLEPROTO2');
    expect(eventTypeName(EventType.INSERT)).toBe('INSERT');
    expect(eventTypeName(EventType.MHEARTBEAT)).toBe('MHEARTBEAT');
    expect(eventTypeName(16)).toBe('EVENTTYPE_16');
    expect(entryTypeName(0)).toBe('ENTRYTYPECOMPATIBLEPROTO2');
    expect(entryTypeName(EntryType.ROWDATA)).toBe('ROWDATA');
    expect(entryTypeName(EntryType.GTIDLOG)).toBe('GTIDLOG');
    expect(entryTypeName(6)).toBe('ENTRYTYPE_6');
  });
});

describe('more field edges', () => {
  it('a Pair skips its unknown fields', () => {
    const pair = new ProtoWriter()
      .tag(3, VARINT)
      .uint32(5)
      .tag(1, LEN)
      .string('k')
      .tag(4, LEN)
      .string('zz')
      .tag(2, LEN)
      .string('v')
      .finish();
    expect(decodeRowChange(wrap(13, pair)).props).toEqual([{ key: 'k', value: 'v' }]);
  });

  it('a NULL column that still carries a value text keeps it through a round trip', () => {
    const c: CanalColumn = {
      index: 0,
      sqlType: 12,
      name: 'a',
      isKey: false,
      updated: false,
      isNull: true,
      props: [],
      value: 'x',
      length: 0,
      mysqlType: 'varchar(1)',
    };
    expect(Buffer.from(encodeColumn(c)).toString('hex')).toContain('420178');
    expect(
      decodeRowChange(wrap(12, wrap(2, encodeColumn(c)))).rowDatas[0]!.afterColumns[0],
    ).toEqual(c);
  });
});
