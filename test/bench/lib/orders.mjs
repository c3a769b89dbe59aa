// The benchmark data shared by the pipeline benchmarks (kafka, rabbitmq, rocketmq): canal
// FlatMessage rows of `shop.orders` (an 8-column table: bigint, unsigned int, decimal, enum,
// text, json, datetime(3), timestamp), as multi-row INSERT messages. Deterministic (seeded), so
// runs and benchmarks compare.

/** A fresh seeded generator of one order row per call. */
export function orderRows(seed = 42) {
  let s = seed;
  const rand = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
  const pad = (n) => String(n).padStart(2, '0');
  return (id) => ({
    id: String(id),
    user_id: String(int(1, 4_000_000_000)),
    amount: `${int(0, 99999)}.${pad(int(0, 99))}`,
    status: String(int(1, 3)),
    note: rand() < 0.3 ? null : 'leave at door',
    attrs: rand() < 0.5 ? null : '{"gift": true, "tags": ["a", "b"]}',
    created_at: `2024-${pad(int(1, 12))}-${pad(int(1, 28))} ${pad(int(0, 23))}:${pad(int(0, 59))}:${pad(int(0, 59))}.123`,
    updated_at: `2024-${pad(int(1, 12))}-${pad(int(1, 28))} ${pad(int(0, 23))}:${pad(int(0, 59))}:${pad(int(0, 59))}`,
  });
}

/** canal's sqlType/mysqlType of `shop.orders`. */
export const ORDERS_META = {
  sqlType: {
    id: -5,
    user_id: 4,
    amount: 3,
    status: 4,
    note: 2005,
    attrs: 12,
    created_at: 93,
    updated_at: 93,
  },
  mysqlType: {
    id: 'bigint(20)',
    user_id: 'int(10) unsigned',
    amount: 'decimal(10,2)',
    status: "enum('new','paid','shipped')",
    note: 'text',
    attrs: 'json',
    created_at: 'datetime(3)',
    updated_at: 'timestamp',
  },
};

/**
 * `rows` order rows as FlatMessage objects of up to `perMessage` rows each, in order (message
 * ids from 1, `es` one second apart).
 */
export function orderMessages(rows, perMessage) {
  const row = orderRows();
  const out = [];
  let id = 1;
  for (let m = 0; id <= rows; m++) {
    const data = [];
    for (let i = 0; i < perMessage && id <= rows; i++) data.push(row(id++));
    out.push({
      id: m + 1,
      database: 'shop',
      table: 'orders',
      pkNames: ['id'],
      isDdl: false,
      type: 'INSERT',
      es: 1_700_000_000_000 + m * 1000,
      ts: 1_700_000_000_000 + m * 1000 + 3,
      sql: '',
      ...ORDERS_META,
      data,
      old: null,
      gtid: '',
    });
  }
  return out;
}

/**
 * The messages split over `partitions` as canal's `$pk$` partition hash splits them (a message
 * whose rows hash to several partitions becomes one message per partition), encoded as
 * FlatMessage JSON. `protocol` is `@sluice/canal-protocol` (loaded from dist by the caller).
 */
export function orderMessagesByPartition(protocol, rows, perMessage, partitions) {
  const rules = protocol.parsePartitionHash('shop.orders:$pk$');
  const out = Array.from({ length: partitions }, () => []);
  for (const message of orderMessages(rows, perMessage))
    for (const [p, part] of protocol.flatMessagePartitions(message, rules, { partitions }))
      out[p].push(protocol.encodeFlatMessage(part));
  return out;
}
