/**
 * Property tests: random, truncated and mutated input never throws anything but DecodeError,
 * and encode → decode is identity for generated messages in both formats.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DecodeError,
  canalMessagesToChangeEvents,
  decodeCanalMessages,
  decodeCanalPayload,
  decodeFlatMessage,
  encodeCanalMessages,
  encodeFlatMessage,
  flatMessageToChangeEvents,
  flatMessageToEntry,
  typedValue,
  type FlatMessage,
  type FlatRow,
} from '@sluice/canal-protocol';

const origin = { destination: 'd', partition: '0', offset: '0' };

/** Runs `fn`; fails the property when it throws anything that is not a DecodeError. */
function onlyDecodeErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof DecodeError))
      throw new Error(`threw ${String(error)} instead of a DecodeError`, { cause: error });
  }
}

const text = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 10 }),
  fc.string({
    unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)),
    maxLength: 10,
  }),
);
const columnNames = fc.uniqueArray(
  fc.oneof(
    fc.constantFrom('id', 'name', '__proto__', 'toString', 'Zoë', '张三', ''),
    fc.string({ maxLength: 6 }),
  ),
  { minLength: 1, maxLength: 5 },
);

/** Generated FlatMessages with the structure canal guarantees (aligned rows, old ⊆ row). */
const flatMessageArb: fc.Arbitrary<FlatMessage> = fc
  .record({
    names: columnNames,
    type: fc.constantFrom('INSERT', 'UPDATE', 'DELETE', 'ALTER', 'QUERY'),
    rows: fc.integer({ min: 0, max: 4 }),
    values: fc.array(fc.option(text, { nil: null }), { minLength: 40, maxLength: 40 }),
    changedMask: fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
    database: text,
    table: text,
    es: fc.integer({ min: 0, max: 2 ** 45 }),
    ts: fc.integer({ min: 0, max: 2 ** 45 }),
    gtid: fc.option(text, { nil: undefined }),
    pk: fc.boolean(),
  })
  .map((g): FlatMessage => {
    const isDdl = g.type === 'ALTER' || g.type === 'QUERY';
    const row = (r: number, shift: number): FlatRow => {
      const out: FlatRow = {};
      g.names.forEach((n, c) =>
        Object.defineProperty(out, n, {
          value: g.values[(r * 7 + c + shift) % 40] ?? null,
          enumerable: true,
          writable: true,
          configurable: true,
        }),
      );
      return out;
    };
    const data = isDdl ? null : Array.from({ length: g.rows }, (_, r) => row(r, 0));
    const old =
      g.type === 'UPDATE' && data
        ? data.map((_, r) => {
            const out: FlatRow = {};
            g.names.forEach((n, c) => {
              if (g.changedMask[(r + c) % 40])
                Object.defineProperty(out, n, {
                  value: g.values[(r * 3 + c + 11) % 40] ?? null,
                  enumerable: true,
                  writable: true,
                  configurable: true,
                });
            });
            return out;
          })
        : null;
    const types = (v: (n: string, i: number) => string | number) => {
      const out: Record<string, string | number> = {};
      g.names.forEach((n, i) =>
        Object.defineProperty(out, n, {
          value: v(n, i),
          enumerable: true,
          writable: true,
          configurable: true,
        }),
      );
      return out;
    };
    const message: FlatMessage = {
      id: 1,
      database: g.database,
      table: g.table,
      pkNames: g.pk && !isDdl ? [g.names[0]!] : null,
      isDdl,
      type: g.type,
      es: g.es,
      ts: g.ts,
      sql: isDdl ? 'ALTER TABLE t ADD c int' : '',
      sqlType: isDdl ? null : (types(() => 12) as Record<string, number>),
      mysqlType: isDdl ? null : (types(() => 'varchar(10)') as Record<string, string>),
      data,
      old,
    };
    if (g.gtid !== undefined) message.gtid = g.gtid;
    return message;
  });

describe('round trips', () => {
  it('FlatMessage: decode(encode(m)) is m', () => {
    fc.assert(
      fc.property(flatMessageArb, (m) => {
        expect(decodeFlatMessage(encodeFlatMessage(m))).toEqual(m);
      }),
      { numRuns: 300 },
    );
  });

  it('protobuf: decode(encode(entries)) is entries, and both formats give the same events', () => {
    fc.assert(
      fc.property(
        fc.array(flatMessageArb, { minLength: 1, maxLength: 3 }),
        fc.bigInt({ min: -1n, max: 2n ** 63n - 1n }),
        (messages, batchId) => {
          const entries = messages.map((m) => flatMessageToEntry(m));
          const decoded = decodeCanalMessages(encodeCanalMessages({ batchId, entries }));
          expect(decoded).toEqual({ batchId, entries });
          // Each message alone: the protobuf events equal the flat events (producedAt = ts).
          for (const m of messages) {
            const viaProtobuf = canalMessagesToChangeEvents(
              { batchId, entries: [flatMessageToEntry(m)] },
              { ...origin, producedAt: m.ts },
            );
            const viaFlat = flatMessageToChangeEvents(m, origin);
            // With no PK columns flat has pkNames null; columns come from mysqlType for flat and
            // from the row image for protobuf, so compare the row images and the change data.
            expect(viaProtobuf.map(({ columns: _c, ...e }) => e)).toEqual(
              viaFlat.map(({ columns: _c, ...e }) => e),
            );
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('bad input only ever throws DecodeError, and never hangs', () => {
  const validFlat = encodeFlatMessage(
    decodeFlatMessage(
      '{"data":[{"id":"1","n":"Zoë 🚀"}],"database":"shop","es":1,"id":1,"isDdl":false,"mysqlType":{"id":"int","n":"text"},"old":[{"n":"a"}],"pkNames":["id"],"sql":"","sqlType":{"id":4,"n":2005},"table":"t","ts":1,"type":"UPDATE"}',
    ),
  );
  const validProtobuf = encodeCanalMessages({
    batchId: 5n,
    entries: [flatMessageToEntry(decodeFlatMessage(validFlat))],
  });

  it('random bytes, in every format', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.constantFrom('flat', 'protobuf', 'auto') as fc.Arbitrary<'flat' | 'protobuf' | 'auto'>,
        (bytes, format) => {
          onlyDecodeErrors(() => decodeCanalPayload(bytes, format, origin));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('every truncation of a valid protobuf payload', () => {
    for (let n = 0; n < validProtobuf.length; n++)
      onlyDecodeErrors(() => decodeCanalPayload(validProtobuf.subarray(0, n), 'protobuf', origin));
  });

  it('every truncation of a valid FlatMessage', () => {
    for (let n = 0; n < validFlat.length; n++) {
      expect(() => decodeCanalPayload(validFlat.slice(0, n), 'flat', origin)).toThrow(DecodeError);
    }
  });

  it('mutated protobuf payloads (byte changes, insertions, deletions)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.nat(),
            fc.integer({ min: 0, max: 255 }),
            fc.constantFrom('set', 'insert', 'delete'),
          ),
          { minLength: 1, maxLength: 6 },
        ),
        (edits) => {
          const bytes = [...validProtobuf];
          for (const [at, value, op] of edits) {
            const i = at % (bytes.length + 1);
            if (op === 'set') bytes[Math.min(i, bytes.length - 1)] = value;
            else if (op === 'insert') bytes.splice(i, 0, value);
            else bytes.splice(i, 1);
          }
          onlyDecodeErrors(() => decodeCanalPayload(Uint8Array.from(bytes), 'protobuf', origin));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('random JSON values and FlatMessages with random fields', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) =>
        onlyDecodeErrors(() => decodeCanalPayload(JSON.stringify(value), 'flat', origin)),
      ),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(
        fc.record(
          {
            type: fc.jsonValue(),
            data: fc.jsonValue(),
            old: fc.jsonValue(),
            isDdl: fc.jsonValue(),
            mysqlType: fc.jsonValue(),
            pkNames: fc.jsonValue(),
            es: fc.jsonValue(),
          },
          { requiredKeys: [] },
        ),
        (value) =>
          onlyDecodeErrors(() => decodeCanalPayload(JSON.stringify(value), 'flat', origin)),
      ),
      { numRuns: 1000 },
    );
  });

  it('typed values: any text with any type', () => {
    const types = fc.oneof(
      fc.constantFrom(
        'int',
        'bigint unsigned',
        'tinyint',
        'decimal(10,2)',
        'double',
        'bit(3)',
        "enum('a','b')",
        "set('a','b')",
        'date',
        'datetime(6)',
        'timestamp',
        'time',
        'year',
        'json',
        'blob',
        'varchar(3)',
      ),
      fc.string({ maxLength: 30 }),
    );
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 30 })),
        types,
        (value, type) => onlyDecodeErrors(() => typedValue(value, type)),
      ),
      { numRuns: 3000 },
    );
  });
});
