/**
 * End-to-end helpers for tests that start from SQL on the testbed MariaDB and go through the
 * testbed canal-server: run a SQL script the way the `mariadb` client does, read a canal topic
 * from Kafka, and compare tables.
 */
import { spawn } from 'node:child_process';
import { Kafka, logLevel } from 'kafkajs';
import { kafkaBroker, mysqlEndpoint } from '../../support/testbed.js';

/**
 * Runs `sql` with the `mariadb` command-line client (statement by statement, comments stripped,
 * utf8mb4), exactly how the real-canal fixtures' workload was run. Rejects with its stderr.
 */
export function runMariadbScript(sql: string, database?: string): Promise<void> {
  const ep = mysqlEndpoint();
  const args = [
    '--no-defaults',
    `-h${ep.host}`,
    `-P${ep.port}`,
    `-u${ep.user}`,
    '--default-character-set=utf8mb4',
  ];
  if (ep.password) args.push(`-p${ep.password}`);
  if (database) args.push(database);
  return new Promise((resolve, reject) => {
    const child = spawn('mariadb', args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`mariadb exited ${code}: ${err}`)),
    );
    child.stdin.end(sql);
  });
}

/**
 * Reads a topic from offset 0 (every partition) until `done(values)` holds or `timeoutMs` passes;
 * resolves with the values in (partition, offset) order. Throws on timeout, with what was read.
 */
export async function readTopic(
  topic: string,
  done: (values: Buffer[]) => boolean,
  timeoutMs = 30_000,
): Promise<Buffer[]> {
  const kafka = new Kafka({
    clientId: 'sluice-e2e-canal',
    brokers: [kafkaBroker()],
    logLevel: logLevel.NOTHING,
  });
  const deadline = Date.now() + timeoutMs;
  const consumer = kafka.consumer({ groupId: `e2e-read-${topic}-${Date.now()}` });
  const byPartition = new Map<number, Buffer[]>();
  const all = () =>
    [...byPartition.entries()].sort((a, b) => a[0] - b[0]).flatMap(([, values]) => values);
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const list = byPartition.get(partition) ?? [];
        list.push(message.value ?? Buffer.alloc(0));
        byPartition.set(partition, list);
      },
    });
    while (!done(all())) {
      if (Date.now() > deadline)
        throw new Error(
          `readTopic(${topic}): condition not met after ${timeoutMs} ms; read ${all().length} record(s)`,
        );
      await new Promise((r) => setTimeout(r, 200));
    }
    return all();
  } finally {
    await consumer.disconnect().catch(() => {});
  }
}

/** Deletes topics (a missing one is fine). */
export async function deleteTopics(topics: string[]): Promise<void> {
  const admin = new Kafka({
    clientId: 'sluice-e2e-canal',
    brokers: [kafkaBroker()],
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics }).catch(() => {});
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
