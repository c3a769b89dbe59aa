/**
 * What the dead-letter e2e tests (dlq, rabbitmq-dlq, rocketmq-dlq) share: the poison workload's
 * INSERT FlatMessages of `shop.items`, and reading dead letters back as records.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeFlatMessage } from '@sluice/canal-protocol';
import type { DeadLetterRecord } from '@sluice/plugin-api';
import type { Row } from './workload.js';

/**
 * The original message text of a dead letter (sources hand the core raw bytes, which the record
 * keeps as UTF-8 text or base64).
 */
export const payloadText = (
  l: Pick<DeadLetterRecord, 'payload' | 'payloadEncoding'> | undefined,
): string | undefined =>
  l === undefined
    ? undefined
    : l.payloadEncoding === 'base64'
      ? Buffer.from(l.payload, 'base64').toString('utf8')
      : l.payload;

/**
 * A canal FlatMessage INSERT of `rows` into `shop.items (id bigint, name varchar, qty int)`,
 * message `seq`, its binlog time `1_700_000_000_000 + seq * esStepMs`.
 */
export const itemsInsert = (rows: readonly Row[], seq: number, esStepMs = 1000): string =>
  encodeFlatMessage({
    id: seq,
    database: 'shop',
    table: 'items',
    pkNames: ['id'],
    isDdl: false,
    type: 'INSERT',
    es: 1_700_000_000_000 + seq * esStepMs,
    ts: 1_700_000_000_000 + seq * esStepMs,
    sql: '',
    sqlType: { id: -5, name: 12, qty: 4 },
    mysqlType: { id: 'bigint(20)', name: 'varchar(64)', qty: 'int(11)' },
    data: rows.map((r) => ({ ...r })),
    old: null,
    gtid: '',
  });

/** Every dead letter in the `*.jsonl` files of a `file` dead-letter directory. */
export async function readFileDeadLetters(dir: string): Promise<DeadLetterRecord[]> {
  const out: DeadLetterRecord[] = [];
  for (const f of (await readdir(dir)).filter((n) => n.endsWith('.jsonl')))
    for (const line of (await readFile(join(dir, f), 'utf8')).split('\n'))
      if (line.trim()) out.push(JSON.parse(line) as DeadLetterRecord);
  return out;
}
