/**
 * The fast path (fastDecode.ts) against the checked decoder (decodeCanalMessages +
 * canalMessagesToChangeEvents): the same events, keys in the same order, for generated payloads
 * (odd names, NULLs, repeated and missing columns, schema changes between entries and calls,
 * unknown fields, props), and never accepting a payload the checked decoder rejects.
 */
import fc from 'fast-check';
import type { RowChangeEvent } from '@sluice/plugin-api';
import { describe, expect, it } from 'vitest';
import { canalMessagesToChangeEvents, decodeCanalMessages, encodeCanalMessages } from '../index.js';
import type { DecodeNotice } from '../notices.js';
import type { CanalColumn, CanalEntry, CanalPair, CanalRowData } from './entryProtocol.js';
import { encodeRowChange, encodeTransactionBegin } from './entryProtocol.js';
import { ProtoWriter, WireType } from './wire.js';
import { fastProtobufEvents, imageBuilder, slowImage } from './fastDecode.js';

const origin = { destination: 'd', partition: '3', offset: '77' };

/**
 * Property runs: under `pnpm mutate` (SLUICE_MUTATION_RUN) a fifth of them with a fixed seed,
 * so each of the fast path's ~700 mutants costs seconds, not tens, and runs repeat exactly.
 */
const mutationRun = process.env.SLUICE_MUTATION_RUN === '1';
const runs = (n: number): { numRuns: number; seed?: number } =>
  mutationRun ? { numRuns: Math.ceil(n / 5), seed: 18 } : { numRuns: n };

type Outcome = { ok: true; events: unknown[] } | { ok: false };

function checked(bytes: Uint8Array, o = origin): Outcome {
  try {
    return { ok: true, events: canalMessagesToChangeEvents(decodeCanalMessages(bytes), o) };
  } catch {
    return { ok: false };
  }
}

function fast(bytes: Uint8Array, o = origin): Outcome {
  try {
    return { ok: true, events: fastProtobufEvents(bytes, o) };
  } catch {
    return { ok: false };
  }
}

/** Equal, and with every object's keys in the same order. */
function expectSame(actual: Outcome, expected: Outcome): void {
  expect(actual.ok).toBe(expected.ok);
  if (actual.ok && expected.ok) {
    expect(actual.events).toEqual(expected.events);
    expect(JSON.stringify(actual.events)).toBe(JSON.stringify(expected.events));
  }
}

const names = fc.constantFrom(
  'id',
  'name',
  'note',
  '__proto__',
  'toString',
  '',
  '1',
  'Zoë',
  '张三',
  'a"b\u2028c',
  'x'.repeat(70),
);
const types = fc.constantFrom(
  'int(11)',
  'bigint(20) unsigned',
  'varchar(32)',
  "enum('a','b')",
  'text',
  '',
);
const text = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
  fc.string({
    unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)),
    maxLength: 8,
  }),
);
const pairs: fc.Arbitrary<CanalPair[]> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<CanalPair[]>([]) },
  { weight: 1, arbitrary: fc.array(fc.record({ key: text, value: text }), { maxLength: 2 }) },
);
const layout = fc.array(
  fc.record({
    name: names,
    mysqlType: types,
    sqlType: fc.constantFrom(4, -5, 12, 2005, -7),
    isKey: fc.boolean(),
  }),
  { maxLength: 5 },
);

function columns(
  cols: { name: string; mysqlType: string; sqlType: number; isKey: boolean }[],
  cells: (string | null)[],
  updated: boolean[],
  props: CanalPair[],
): CanalColumn[] {
  return cols.map((c, i) => {
    const value = cells[i % cells.length] ?? null;
    return {
      index: i,
      sqlType: c.sqlType,
      name: c.name,
      isKey: c.isKey,
      updated: updated[i % updated.length]!,
      isNull: value === null,
      props: i === 0 ? props : [],
      value: value ?? '',
      length: i === 1 ? 5 : 0,
      mysqlType: c.mysqlType,
    };
  });
}

/** A RowChange whose rows mostly share a layout (as canal's do), sometimes not. */
const rowChange = fc
  .record({
    eventType: fc.constantFrom(1, 1, 2, 2, 3, 4, 7, 0, 99),
    isDdl: fc.integer({ min: 0, max: 9 }).map((n) => n < 2),
    main: layout,
    other: layout,
    rows: fc.array(
      fc.record({
        alt: fc.integer({ min: 0, max: 5 }),
        cells: fc.array(fc.option(text, { nil: null }), { minLength: 1, maxLength: 6 }),
        updated: fc.array(fc.boolean(), { minLength: 1, maxLength: 6 }),
        minimal: fc.boolean(),
      }),
      { maxLength: 4 },
    ),
    props: pairs,
  })
  .map((g): Uint8Array => {
    const rowDatas: CanalRowData[] = g.rows.map((row) => {
      const cols = row.alt === 0 ? g.other : g.main;
      const image = columns(cols, row.cells, row.updated, g.props);
      const before =
        g.eventType === 1
          ? []
          : row.minimal && g.eventType === 2
            ? columns(g.other, row.cells.slice(1).concat(null), [false], [])
            : image;
      const after = g.eventType === 3 ? [] : image;
      return { beforeColumns: before, afterColumns: after, props: row.alt === 5 ? g.props : [] };
    });
    return encodeRowChange({
      tableId: 9n,
      eventType: g.eventType,
      isDdl: g.isDdl,
      sql: g.isDdl ? 'ALTER TABLE t' : '',
      rowDatas,
      props: g.props,
      ddlSchemaName: '',
    });
  });

const entry = fc
  .record({
    schema: fc.constantFrom('shop', 'crm', ''),
    table: fc.constantFrom('orders', 'users', 't'),
    executeTime: fc.oneof(
      fc.bigInt({ min: 0n, max: 2n ** 45n }),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    ),
    gtid: fc.constantFrom('', 'uuid:1-5'),
    entryType: fc.constantFrom(2, 2, 2, 1, 3, 0),
    storeValue: rowChange,
    props: pairs,
  })
  .map((g): CanalEntry => ({
    header: {
      version: 1,
      logfileName: 'mysql-bin.000001',
      logfileOffset: 4n,
      serverId: 1n,
      serverenCode: 'UTF-8',
      executeTime: g.executeTime,
      sourceType: 2,
      schemaName: g.schema,
      tableName: g.table,
      eventLength: 10n,
      eventType: 1,
      props: g.props,
      gtid: g.gtid,
    },
    entryType: g.entryType,
    storeValue:
      g.entryType === 1
        ? encodeTransactionBegin({ executeTime: 0n, transactionId: '', props: [], threadId: 1n })
        : g.storeValue,
  }));

const payload = fc
  .record({
    entries: fc.array(entry, { maxLength: 5 }),
    layout: fc.constantFrom('raw', 'builder') as fc.Arbitrary<'raw' | 'builder'>,
  })
  .map((g) => encodeCanalMessages({ batchId: 1n, entries: g.entries }, g.layout));

describe('protobuf fast path', () => {
  it('gives the same events as the checked decoder', () => {
    fc.assert(
      fc.property(
        payload,
        fc.option(fc.integer({ min: 0, max: 2 ** 45 }), { nil: undefined }),
        (bytes, producedAt) => {
          const o = producedAt === undefined ? origin : { ...origin, producedAt };
          const expected = checked(bytes, o);
          expect(expected.ok).toBe(true);
          expectSame(fast(bytes, o), expected);
        },
      ),
      runs(1500),
    );
  });

  it('rejects exactly what the checked decoder rejects (mutated payloads), else agrees', () => {
    fc.assert(
      fc.property(
        payload,
        fc.array(
          fc.tuple(
            fc.nat(),
            fc.integer({ min: 0, max: 255 }),
            fc.constantFrom('set', 'insert', 'delete'),
          ),
          { minLength: 1, maxLength: 4 },
        ),
        (valid, edits) => {
          const bytes = [...valid];
          for (const [at, value, op] of edits) {
            const i = at % (bytes.length + 1);
            if (op === 'set') bytes[Math.min(i, bytes.length - 1)] = value;
            else if (op === 'insert') bytes.splice(i, 0, value);
            else bytes.splice(i, 1);
          }
          const mutated = Uint8Array.from(bytes);
          expectSame(fast(mutated), checked(mutated));
          // The state kept between calls survives a rejected payload.
          expectSame(fast(valid), checked(valid));
        },
      ),
      runs(3000),
    );
  });

  it('every truncation of a payload', () => {
    fc.assert(
      fc.property(payload, (valid) => {
        for (let n = 0; n < valid.length; n += 1 + (n >> 4))
          expectSame(fast(valid.subarray(0, n)), checked(valid.subarray(0, n)));
      }),
      runs(100),
    );
  });

  it('reads values from a Uint8Array at an offset (not a Buffer)', () => {
    fc.assert(
      fc.property(payload, (valid) => {
        const padded = new Uint8Array(valid.length + 7);
        padded.set(valid, 3);
        expectSame(fast(padded.subarray(3, 3 + valid.length)), checked(valid));
      }),
      runs(200),
    );
  });

  it('checks props it never uses: a Pair with a wrong wire type is rejected wherever it sits', () => {
    const pair = [{ key: 'KK', value: '' }];
    const column = (props: CanalPair[]): CanalColumn => ({
      index: 0,
      sqlType: 4,
      name: 'id',
      isKey: true,
      updated: true,
      isNull: false,
      props,
      value: '1',
      length: 0,
      mysqlType: 'int',
    });
    const rc = (where: string) =>
      encodeRowChange({
        tableId: 1n,
        eventType: 1,
        isDdl: false,
        sql: '',
        rowDatas: [
          {
            beforeColumns: [],
            afterColumns: [column(where === 'column' ? pair : [])],
            props: where === 'row' ? pair : [],
          },
        ],
        props: where === 'rowChange' ? pair : [],
        ddlSchemaName: '',
      });
    for (const where of ['header', 'column', 'row', 'rowChange']) {
      const e: CanalEntry = {
        header: {
          version: 1,
          logfileName: 'f',
          logfileOffset: 4n,
          serverId: 1n,
          serverenCode: 'UTF-8',
          executeTime: 1n,
          sourceType: 2,
          schemaName: 's',
          tableName: 't',
          eventLength: 1n,
          eventType: 1,
          props: where === 'header' ? pair : [],
          gtid: '',
        },
        entryType: 2,
        storeValue: rc(where),
      };
      const valid = encodeCanalMessages({ batchId: 1n, entries: [e] });
      expectSame(fast(valid), checked(valid));
      expect(fast(valid).ok).toBe(true);
      // The key field tagged as a varint (wrong wire type); read as length-delimited it would pass.
      const hex = Buffer.from(valid).toString('hex');
      const bad = Buffer.from(hex.replace('0a024b4b1200', '08024b4b1200'), 'hex');
      expect(bad.equals(valid)).toBe(false);
      expect(checked(bad).ok).toBe(false);
      expect(fast(bad).ok).toBe(false);
    }
  });

  it('generated image builders make the same objects as adding the columns one by one', () => {
    const cases = [
      ['id', 'name'],
      ['a', 'b', 'a'],
      ['__proto__', 'x'],
      ['1', 'b', '0'],
      ['', 'a"b\\', '\u2028\u2029', '</script>', '${x}', '`'],
      Array.from({ length: 40 }, (_, i) => `c${i}`),
    ];
    for (const list of cases) {
      const values = list.map((_, i) => (i % 3 === 0 ? null : `v${i}`));
      const generated = imageBuilder(list)(values, list, list.length);
      const plain = slowImage(values, list, list.length);
      expect(Object.getPrototypeOf(generated)).toBe(Object.prototype);
      expect(Object.keys(generated)).toEqual(Object.keys(plain));
      expect(generated).toEqual(plain);
      expect(Object.getOwnPropertyDescriptors(generated)).toEqual(
        Object.getOwnPropertyDescriptors(plain),
      );
    }
  });
});

describe('what the fast path keeps between rows, entries and payloads', () => {
  const col = (
    name: string,
    value: string | null,
    extra: Partial<CanalColumn> = {},
  ): CanalColumn => ({
    index: 0,
    sqlType: 12,
    name,
    isKey: false,
    updated: false,
    isNull: value === null,
    props: [],
    value: value ?? '',
    length: 0,
    mysqlType: 'varchar(9)',
    ...extra,
  });
  const entryOf = (
    table: string,
    eventType: number,
    rows: { before?: CanalColumn[]; after?: CanalColumn[] }[],
    gtid = '',
  ): CanalEntry => ({
    header: {
      version: 1,
      logfileName: 'f',
      logfileOffset: 4n,
      serverId: 1n,
      serverenCode: 'UTF-8',
      executeTime: 1_700_000_000_000n,
      sourceType: 2,
      schemaName: 'keep',
      tableName: table,
      eventLength: 1n,
      eventType,
      props: [],
      gtid,
    },
    entryType: 2,
    storeValue: encodeRowChange({
      tableId: 1n,
      eventType,
      isDdl: false,
      sql: '',
      rowDatas: rows.map((r) => ({
        beforeColumns: r.before ?? [],
        afterColumns: r.after ?? [],
        props: [],
      })),
      props: [],
      ddlSchemaName: '',
    }),
  });
  const payloadOf = (...entries: CanalEntry[]) =>
    encodeCanalMessages({ batchId: 1n, entries }, 'raw');
  const decode = (bytes: Uint8Array): RowChangeEvent[] => {
    const expected = checked(bytes);
    const actual = fast(bytes);
    expectSame(actual, expected);
    if (!actual.ok) throw new Error('fast path refused a valid payload');
    return actual.events as RowChangeEvent[];
  };
  const shape = (id: string, v: string | null, type = 'varchar(9)') => [
    col('id', id, { isKey: true, sqlType: 4, mysqlType: 'int' }),
    col('v', v, { mysqlType: type }),
  ];

  it('one column map and pkNames per table shape: across rows, entries and payloads', () => {
    const t = `ident${Math.random()}`;
    const [a, b, c] = decode(
      payloadOf(
        entryOf(t, 1, [{ after: shape('1', 'x') }, { after: shape('2', null) }]),
        entryOf(t, 1, [{ after: shape('3', 'z') }]),
      ),
    );
    expect(b!.columns).toBe(a!.columns);
    expect(c!.columns).toBe(a!.columns);
    expect(b!.pkNames).toBe(a!.pkNames);
    expect(c!.pkNames).toBe(a!.pkNames);
    expect(Object.isFrozen(a!.columns)).toBe(true);
    expect(Object.isFrozen(a!.pkNames)).toBe(true);
    const [d] = decode(payloadOf(entryOf(t, 1, [{ after: shape('4', 'w') }])));
    expect(d!.columns).toBe(a!.columns);
    expect(d!.pkNames).toBe(a!.pkNames);
    // A DELETE of the table has its own (before) side, with the same types: equal, not shared.
    const [del] = decode(payloadOf(entryOf(t, 3, [{ before: shape('4', 'w') }])));
    expect(del!.columns).toEqual(a!.columns);
    // Another table of the same shape: equal maps, its own objects.
    const [o] = decode(payloadOf(entryOf(`${t}-other`, 1, [{ after: shape('1', 'x') }])));
    expect(o!.columns).toEqual(a!.columns);
    expect(o!.columns).not.toBe(a!.columns);
  });

  it('a new map when a type changes, the old one again never reused by mistake', () => {
    const t = `types${Math.random()}`;
    const events = decode(
      payloadOf(
        entryOf(t, 1, [
          { after: shape('1', 'x') },
          { after: shape('2', 'y', 'text') },
          { after: shape('3', 'z', 'text') },
          { after: shape('4', 'w') },
        ]),
      ),
    );
    const maps = events.map((e) => e.columns);
    expect(maps[1]).not.toBe(maps[0]);
    expect(maps[2]).toBe(maps[1]);
    expect(maps[1]!.v).toEqual({ mysqlType: 'text', sqlType: 12 });
    expect(maps[3]!.v).toEqual({ mysqlType: 'varchar(9)', sqlType: 12 });
    // The next payload starts from the last shape seen.
    const [next] = decode(payloadOf(entryOf(t, 1, [{ after: shape('5', 'q', 'text') }])));
    expect(next!.columns.v).toEqual({ mysqlType: 'text', sqlType: 12 });
    const [back] = decode(payloadOf(entryOf(t, 1, [{ after: shape('6', 'q') }])));
    expect(back!.columns.v).toEqual({ mysqlType: 'varchar(9)', sqlType: 12 });
  });

  it('a sqlType, a column count or a name change between rows and payloads is seen', () => {
    const t = `counts${Math.random()}`;
    const three = [...shape('1', 'x'), col('w', 'y')];
    decode(payloadOf(entryOf(t, 1, [{ after: three }])));
    const [fewer] = decode(payloadOf(entryOf(t, 1, [{ after: shape('2', 'x') }])));
    expect(Object.keys(fewer!.columns)).toEqual(['id', 'v']);
    expect(Object.keys(fewer!.after!)).toEqual(['id', 'v']);
    const [renamed] = decode(
      payloadOf(
        entryOf(t, 1, [
          { after: [col('id', '3', { isKey: true, sqlType: 4, mysqlType: 'int' }), col('u', 'x')] },
        ]),
      ),
    );
    expect(renamed!.after).toEqual({ id: '3', u: 'x' });
    const [retyped] = decode(
      payloadOf(
        entryOf(t, 1, [
          {
            after: [col('id', '3', { isKey: true, sqlType: -5, mysqlType: 'int' }), col('u', 'x')],
          },
        ]),
      ),
    );
    expect(retyped!.columns.id).toEqual({ mysqlType: 'int', sqlType: -5 });
    const [more] = decode(payloadOf(entryOf(t, 1, [{ after: three }])));
    expect(Object.keys(more!.after!)).toEqual(['id', 'v', 'w']);
  });

  it('keys follow each row: a key column added, dropped, or only in the before image', () => {
    const t = `keys${Math.random()}`;
    const events = decode(
      payloadOf(
        entryOf(t, 2, [
          { before: shape('1', 'a'), after: shape('1', 'b') },
          {
            before: shape('2', 'a'),
            after: [col('id', '2', { sqlType: 4, mysqlType: 'int' }), col('v', 'b')],
          },
          {
            before: [col('id', '3', { sqlType: 4, mysqlType: 'int' }), col('v', 'a')],
            after: [col('id', '3', { sqlType: 4, mysqlType: 'int' }), col('v', 'b')],
          },
          {
            before: [
              col('id', '4', { isKey: true, sqlType: 4, mysqlType: 'int' }),
              col('v', 'a', { isKey: true }),
            ],
            after: [
              col('id', '4', { isKey: true, sqlType: 4, mysqlType: 'int' }),
              col('v', 'b', { isKey: true }),
            ],
          },
        ]),
      ),
    );
    expect(events.map((e) => e.pkNames)).toEqual([['id'], ['id'], [], ['id', 'v']]);
    expect(events[1]!.pkNames).toBe(events[0]!.pkNames);
    expect(Object.isFrozen(events[2]!.pkNames)).toBe(true);
  });

  it('ASCII values of one payload never come from the text of another', () => {
    const t = `latin${Math.random()}`;
    const first = payloadOf(entryOf(t, 1, [{ after: shape('1', 'aaaa') }]));
    const second = payloadOf(entryOf(t, 1, [{ after: shape('2', 'bbbbbbbb') }]));
    decode(first);
    expect(decode(second)[0]!.after).toEqual({ id: '2', v: 'bbbbbbbb' });
    // Also when the previous payload was refused halfway.
    expect(fast(first.subarray(0, first.length - 3)).ok).toBe(false);
    expect(decode(second)[0]!.after).toEqual({ id: '2', v: 'bbbbbbbb' });
    expect(decode(first)[0]!.after).toEqual({ id: '1', v: 'aaaa' });
  });

  it('UPDATE: changed columns, a before-only column, the gtid; INSERT/DELETE images only', () => {
    const t = `upd${Math.random()}`;
    const [u, i, d] = decode(
      payloadOf(
        entryOf(
          t,
          2,
          [
            {
              before: [...shape('1', 'a'), col('blob', 'B', { sqlType: 2004, mysqlType: 'blob' })],
              after: [
                col('id', '1', { isKey: true, sqlType: 4, mysqlType: 'int', updated: false }),
                col('v', 'b', { updated: true }),
              ],
            },
          ],
          'g:7',
        ),
        entryOf(t, 1, [{ before: shape('9', 'ignored'), after: shape('2', 'n') }]),
        entryOf(t, 3, [{ before: shape('3', 'o'), after: shape('9', 'ignored') }]),
      ),
    );
    expect(u).toMatchObject({
      type: 'UPDATE',
      before: { id: '1', v: 'a', blob: 'B' },
      after: { id: '1', v: 'b' },
      changed: ['v'],
      gtid: 'g:7',
    });
    expect(Object.keys(u!.columns)).toEqual(['blob', 'id', 'v']);
    expect(i!.before).toBeUndefined();
    expect(i!.after).toEqual({ id: '2', v: 'n' });
    expect('gtid' in i!).toBe(false);
    expect(d!.after).toBeUndefined();
    expect(d!.before).toEqual({ id: '3', v: 'o' });
  });

  it('many tables: still right after the table cache is dropped and rebuilt', () => {
    const entries: CanalEntry[] = [];
    for (let i = 0; i < 4200; i++)
      entries.push(entryOf(`many${i}`, 1, [{ after: shape(String(i), 'x') }]));
    const events = decode(payloadOf(...entries));
    expect(events).toHaveLength(4200);
    expect(events[4199]!.after).toEqual({ id: '4199', v: 'x' });
    const again = decode(payloadOf(entries[0]!, entries[4199]!));
    expect(again.map((e) => e.table)).toEqual(['many0', 'many4199']);
  });

  it('the image builder cache holds many shapes and is dropped when full', () => {
    for (let i = 0; i < 600; i++) {
      const list = [`s${i}`, 'x'];
      const values = ['1', null];
      expect(imageBuilder(list)(values, list, 2)).toEqual({ [`s${i}`]: '1', x: null });
    }
    expect(imageBuilder([])).toBe(slowImage);
    const list = ['p', 'q'];
    expect(imageBuilder(list)).toBe(imageBuilder(['p', 'q']));
  });
});

/**
 * Sparse messages: canal's encoder writes every field, but proto2 lets any be absent (then it
 * reads as its default: isKey/updated/isNull false, eventType UPDATE, …) and fields come in any
 * order, repeated (the last wins), with unknown ones in between. The checked decoder handles
 * that; the fast path must give the same events.
 */
const sparseColumn = fc
  .record({
    fields: fc.shuffledSubarray([1, 2, 3, 4, 5, 6, 8, 8, 9, 10, 99], { minLength: 0 }),
    name: names,
    value: text,
    mysqlType: types,
    sqlType: fc.constantFrom(4, -5, 12, 2004),
    flag: fc.constantFrom(0, 1, 2, 300),
  })
  .map((g) => {
    const w = new ProtoWriter();
    for (const f of g.fields) {
      if (f === 3) w.tag(3, WireType.lengthDelimited).string(g.name);
      else if (f === 8) w.tag(8, WireType.lengthDelimited).string(g.value);
      else if (f === 10) w.tag(10, WireType.lengthDelimited).string(g.mysqlType);
      else if (f === 99) w.tag(99, WireType.lengthDelimited).string('future');
      else if (f === 2) w.tag(2, WireType.varint).int32(g.sqlType);
      else w.tag(f, WireType.varint).uint32(g.flag);
    }
    return w.finish();
  });

const sparseRowChange = fc
  .record({
    eventType: fc.option(fc.constantFrom(1, 2, 3), { nil: undefined }),
    rows: fc.array(
      fc.record({
        before: fc.array(sparseColumn, { maxLength: 4 }),
        after: fc.array(sparseColumn, { maxLength: 4 }),
      }),
      { minLength: 1, maxLength: 3 },
    ),
    unknownFirst: fc.boolean(),
  })
  .map((g) => {
    const w = new ProtoWriter();
    if (g.unknownFirst) w.tag(15, WireType.varint).uint32(1);
    for (const row of g.rows) {
      const r = new ProtoWriter();
      for (const c of row.before) r.tag(1, WireType.lengthDelimited).bytes(c);
      for (const c of row.after) r.tag(2, WireType.lengthDelimited).bytes(c);
      w.tag(12, WireType.lengthDelimited).bytes(r.finish());
    }
    if (g.eventType !== undefined) w.tag(2, WireType.varint).int32(g.eventType);
    return w.finish();
  });

describe('protobuf fast path on sparse messages', () => {
  it('absent fields read as their proto2 defaults, in any order, as the checked decoder reads them', () => {
    fc.assert(
      fc.property(
        fc.array(sparseRowChange, { minLength: 1, maxLength: 3 }),
        fc.constantFrom('t1', 't2'),
        (stores, table) => {
          const entries: CanalEntry[] = stores.map((storeValue) => ({
            header: {
              version: 1,
              logfileName: 'f',
              logfileOffset: 4n,
              serverId: 1n,
              serverenCode: 'UTF-8',
              executeTime: 1n,
              sourceType: 2,
              schemaName: 'sparse',
              tableName: table,
              eventLength: 1n,
              eventType: 2,
              props: [],
              gtid: '',
            },
            entryType: 2,
            storeValue,
          }));
          const bytes = encodeCanalMessages({ batchId: 1n, entries });
          const expected = checked(bytes);
          expect(expected.ok).toBe(true);
          const actual = fast(bytes);
          expect(actual.ok).toBe(true);
          expectSame(actual, expected);
        },
      ),
      runs(500),
    );
  });
});

describe('protobuf fast path on hand-built edge payloads (same outcome as the checked decoder)', () => {
  const W = () => new ProtoWriter();
  const LEN = WireType.lengthDelimited;
  const VAR = WireType.varint;
  const cat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => Array.from(p)));
  const field = (n: number, bytes: Uint8Array) => W().tag(n, LEN).bytes(bytes).finish();
  const varintField = (n: number, v: number | bigint) =>
    typeof v === 'bigint' ? W().tag(n, VAR).int64(v).finish() : W().tag(n, VAR).uint32(v).finish();
  const str = (n: number, s: string) => W().tag(n, LEN).string(s).finish();
  /** Unknown fields of every wire type, with one- and multi-byte field numbers. */
  const unknowns = cat(
    varintField(90, 2n ** 40n),
    str(91, 'x'.repeat(200)),
    W()
      .tag(16, WireType.fixed64)
      .uint32(0)
      .uint32(0)
      .uint32(0)
      .uint32(0)
      .uint32(0)
      .uint32(0)
      .uint32(0)
      .uint32(0)
      .finish(),
    W().tag(2047, WireType.fixed32).uint32(0).uint32(0).uint32(0).uint32(0).finish(),
    varintField(15, 128),
  );
  const column = (name: string, value: string, extra: Uint8Array = new Uint8Array(0)) =>
    cat(
      varintField(1, 300),
      varintField(2, 12),
      str(3, name),
      varintField(4, name === 'id' ? 1 : 0),
      varintField(9, 2 ** 20),
      str(8, value),
      str(10, 'varchar(255)'),
      extra,
    );
  const header = (extra: Uint8Array = new Uint8Array(0), schema = true) =>
    cat(
      varintField(1, 1),
      str(2, 'mysql-bin.000001'),
      varintField(3, 2n ** 40n),
      varintField(4, 2n ** 33n),
      str(5, 'UTF-8'),
      varintField(6, 1_700_000_000_000n),
      varintField(7, 1),
      schema ? str(8, 'edge') : new Uint8Array(0),
      schema ? str(9, 'tbl') : new Uint8Array(0),
      varintField(10, 2n ** 36n),
      varintField(11, 1),
      extra,
    );
  const rowChange = (columns: Uint8Array[], extra: Uint8Array = new Uint8Array(0)) =>
    cat(
      varintField(1, 2n ** 40n),
      varintField(2, 1),
      varintField(10, 0),
      field(12, cat(...columns.map((c) => field(2, c)))),
      extra,
    );
  const entry = (h: Uint8Array, store: Uint8Array, extra: Uint8Array = new Uint8Array(0)) =>
    cat(field(1, h), varintField(2, 2), field(3, store), extra);
  const packet = (entries: Uint8Array[], extra: Uint8Array = new Uint8Array(0)) =>
    cat(
      varintField(3, 7),
      field(5, cat(varintField(1, 2n ** 40n), ...entries.map((e) => field(2, e)), extra)),
    );
  const same = (bytes: Uint8Array, ok: boolean) => {
    const expected = checked(bytes);
    expect(expected.ok).toBe(ok);
    expectSame(fast(bytes), expected);
  };
  const valid = () => [column('id', '1'), column('v', 'y'.repeat(300))];

  it('reads long varints, long lengths and unknown fields of every wire type at every level', () => {
    same(packet([entry(header(), rowChange(valid()))]), true);
    same(
      packet(
        [
          entry(
            header(unknowns),
            rowChange(
              [column('id', '1', unknowns), column('v', 'é'.repeat(100), unknowns)],
              unknowns,
            ),
            unknowns,
          ),
        ],
        unknowns,
      ),
      true,
    );
    // A header without schema and table names: the defaults, "".
    same(packet([entry(header(new Uint8Array(0), false), rowChange(valid()))]), true);
  });

  it('flags and enums keep only the low 32 bits of a long varint', () => {
    for (const n of [4, 5, 6])
      same(
        packet([entry(header(), rowChange([column('id', '1', varintField(n, 2n ** 35n))]))]),
        true,
      );
    same(packet([entry(header(), cat(rowChange(valid()), varintField(2, 2n ** 32n + 3n)))]), true);
    same(packet([entry(header(), cat(rowChange(valid()), varintField(10, 2n ** 33n)))]), true);
  });

  it('refuses a varint or length that runs past its message, or is longer than 10 bytes', () => {
    const bareTag = (n: number, wt: number) => W().tag(n, wt).finish();
    const eleven = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
    for (const [n, wt] of [
      [1, VAR],
      [2, VAR],
      [3, LEN],
      [4, VAR],
      [6, VAR],
      [8, LEN],
      [9, VAR],
      [90, VAR],
      [91, LEN],
    ] as const) {
      // The tag is the column's last byte: its value would be read from the next column.
      same(
        packet([entry(header(), rowChange([column('id', '1', bareTag(n, wt)), column('v', '7')]))]),
        false,
      );
      if (wt === VAR)
        same(
          packet([entry(header(), rowChange([column('id', '1', cat(bareTag(n, wt), eleven))]))]),
          false,
        );
    }
    for (const [n, wt] of [
      [1, VAR],
      [2, LEN],
      [6, VAR],
      [8, LEN],
      [13, LEN],
      [90, VAR],
    ] as const) {
      same(packet([entry(cat(header(), bareTag(n, wt)), rowChange(valid()))]), false);
      if (wt === VAR)
        same(packet([entry(cat(header(), bareTag(n, wt), eleven), rowChange(valid()))]), false);
    }
    for (const [n, wt] of [
      [1, VAR],
      [2, VAR],
      [10, VAR],
      [11, LEN],
      [12, LEN],
    ] as const)
      same(packet([entry(header(), cat(rowChange(valid()), bareTag(n, wt)))]), false);
    same(packet([cat(entry(header(), rowChange(valid())), bareTag(2, VAR))]), false);
    // Unknown fixed-width fields that end exactly at the message end are fine; one byte short is not.
    same(
      packet([
        entry(header(), rowChange([column('id', '1', W().tag(16, WireType.fixed64).finish())])),
      ]),
      false,
    );
  });

  it('refuses a known field with the wrong wire type at every level, as the checked decoder does', () => {
    // Empty bytes for a varint field, 0 for a length-delimited one: read with the wire type the
    // field should have, both are still well-formed (so only the wire-type check refuses them).
    const wrong = (n: number, expected: number) =>
      expected === VAR ? str(n, '') : varintField(n, 0);
    const columnFields: [number, number][] = [
      [1, VAR],
      [2, VAR],
      [3, LEN],
      [4, VAR],
      [5, VAR],
      [6, VAR],
      [7, LEN],
      [8, LEN],
      [9, VAR],
      [10, LEN],
    ];
    for (const [n, wt] of columnFields)
      same(packet([entry(header(), rowChange([column('id', '1', wrong(n, wt))]))]), false);
    for (const n of [1, 2, 3])
      same(packet([entry(header(), cat(rowChange(valid()), field(12, wrong(n, LEN))))]), false);
    const rowChangeFields: [number, number][] = [
      [1, VAR],
      [2, VAR],
      [10, VAR],
      [11, LEN],
      [12, LEN],
      [13, LEN],
      [14, LEN],
    ];
    for (const [n, wt] of rowChangeFields)
      same(packet([entry(header(), cat(rowChange(valid()), wrong(n, wt)))]), false);
    const headerFields: [number, number][] = [
      [1, VAR],
      [2, LEN],
      [3, VAR],
      [4, VAR],
      [5, LEN],
      [6, VAR],
      [7, VAR],
      [8, LEN],
      [9, LEN],
      [10, VAR],
      [11, VAR],
      [12, LEN],
      [13, LEN],
    ];
    for (const [n, wt] of headerFields)
      same(packet([entry(cat(header(), wrong(n, wt)), rowChange(valid()))]), false);
    for (const [n, wt] of [
      [1, LEN],
      [2, VAR],
      [3, LEN],
    ] as [number, number][])
      same(packet([cat(entry(header(), rowChange(valid())), wrong(n, wt))]), false);
    // A Pair's key or value as a varint, and a Pair with an unknown varint field (fine).
    for (const pair of [varintField(1, 0), varintField(2, 0)]) {
      same(packet([entry(cat(header(), field(12, pair)), rowChange(valid()))]), false);
      same(packet([entry(header(), rowChange([column('id', '1', field(7, pair))]))]), false);
    }
    same(
      packet([
        entry(cat(header(), field(12, cat(varintField(3, 5), str(1, 'k')))), rowChange(valid())),
      ]),
      true,
    );
    // Packet and Messages fields (again with values that stay well-formed under the other type).
    const empty = new Uint8Array(0);
    same(cat(varintField(3, 7), varintField(5, 0)), false);
    same(cat(varintField(3, 7), varintField(5, 1)), false);
    same(cat(str(3, 'x'), field(5, empty)), false);
    for (const n of [1, 2, 4]) same(cat(wrong(n, VAR), varintField(3, 7), field(5, empty)), false);
    same(cat(varintField(3, 7), varintField(4, 2), field(5, empty)), false);
    same(cat(varintField(3, 7), varintField(4, 1), field(5, empty)), true);
    same(cat(varintField(3, 7), field(5, str(1, ''))), false);
    same(cat(varintField(3, 7), field(5, str(1, 'x'))), false);
    same(cat(varintField(3, 7), field(5, varintField(2, 0))), false);
    same(cat(varintField(3, 7), field(5, varintField(2, 1))), false);
    // Unknown Packet fields of any wire type are skipped.
    same(cat(varintField(1, 17), str(6, ''), varintField(3, 7), field(5, empty)), true);
  });

  it('reads two-byte tags (field 16 and up) and refuses field number 0 at every level', () => {
    // Field 16, wire type 0, is the two-byte tag 0x80 0x01: its first byte is not a one-byte tag.
    const f16 = varintField(16, 5);
    const field0 = Uint8Array.of(0x00, 0x00);
    for (const [extra, ok] of [
      [f16, true],
      [field0, false],
    ] as const) {
      same(packet([entry(header(), rowChange([column('id', '1', extra)]))]), ok);
      same(packet([entry(header(), rowChange(valid(), extra))]), ok);
      same(packet([entry(header(extra), rowChange(valid()))]), ok);
      same(packet([entry(header(), rowChange(valid()), extra)]), ok);
      same(packet([entry(header(), rowChange(valid()))], extra), ok);
      same(cat(extra, packet([entry(header(), rowChange(valid()))])), ok);
    }
    // A column without a value (""), in a payload whose first byte is such a tag's.
    const noValue = cat(varintField(2, 4), str(3, 'id'), varintField(4, 1), str(10, 'int'));
    same(cat(f16, packet([entry(header(), rowChange([noValue]))])), true);
  });

  it('an unknown fixed64 field ending exactly at its message end is skipped', () => {
    const fixed64 = W().tag(16, WireType.fixed64);
    for (let i = 0; i < 8; i++) fixed64.uint32(i);
    same(packet([entry(header(), rowChange([column('id', '1', fixed64.finish())]))]), true);
  });

  it('a value with a lone 0x80 byte is UTF-8 decoded (U+FFFD), not read as latin-1', () => {
    const raw = cat(
      varintField(1, 0),
      varintField(2, 12),
      str(3, 'v'),
      field(8, Uint8Array.of(0x61, 0x80, 0x62)),
      str(10, 'varchar(255)'),
    );
    const bytes = packet([entry(header(), rowChange([column('id', '1'), raw]))]);
    same(bytes, true);
    const out = fast(bytes);
    if (!out.ok) throw new Error('refused');
    expect((out.events[0] as RowChangeEvent).after!['v']).toBe('a\ufffdb');
  });

  it('an entry without a header has the header defaults, also after an entry with one', () => {
    const headless = cat(varintField(2, 2), field(3, rowChange(valid())));
    same(packet([headless]), true);
    same(packet([entry(header(), rowChange(valid())), headless]), true);
    const out = fast(packet([entry(header(), rowChange(valid())), headless]));
    if (!out.ok) throw new Error('refused');
    const [a, b] = out.events as RowChangeEvent[];
    expect([a!.database, a!.table, b!.database, b!.table]).toEqual(['edge', 'tbl', '', '']);
  });

  it("notices go to the call's own list only (none kept for the next call)", () => {
    const statement = packet([
      entry(header(), cat(varintField(2, 1), str(11, 'insert into tbl values (1)'))),
    ]);
    const first: DecodeNotice[] = [];
    expect(fastProtobufEvents(statement, origin, first)).toEqual([]);
    expect(first).toEqual([
      {
        kind: 'statement-dml',
        database: 'edge',
        table: 'tbl',
        type: 'INSERT',
        sql: 'insert into tbl values (1)',
      },
    ]);
    expect(fastProtobufEvents(statement, origin)).toEqual([]);
    expect(first).toHaveLength(1);
  });

  it('a name that matches the previous row only when read backwards is decoded anew', () => {
    // Row 1 names a column "a\u0002"; row 2 "aX": same length, and the byte before row 2's name
    // (its length, 2) equals the second byte of row 1's name.
    const rows = [column('a\u0002', '1'), column('aX', '2')].map((c) => field(12, field(2, c)));
    same(packet([entry(header(), cat(varintField(2, 1), ...rows))]), true);
    const events = fast(packet([entry(header(), cat(varintField(2, 1), ...rows))]));
    if (!events.ok) throw new Error('refused');
    expect((events.events as RowChangeEvent[]).map((e) => Object.keys(e.after!))).toEqual([
      ['a\u0002'],
      ['aX'],
    ]);
  });

  it('column maps stay shared per table across entries of interleaved tables', () => {
    const schema = str(8, `inter-${Date.now()}`);
    const hd = (table: string) => cat(varintField(6, 1n), schema, str(9, table));
    const bytes = packet([
      entry(hd('t1'), rowChange(valid())),
      entry(hd('t2'), rowChange(valid())),
      entry(hd('t1'), rowChange(valid())),
    ]);
    same(bytes, true);
    const out = fast(bytes);
    if (!out.ok) throw new Error('refused');
    const [a, b, c] = out.events as RowChangeEvent[];
    expect(c!.columns).toBe(a!.columns);
    expect(b!.columns).not.toBe(a!.columns);
  });
});
