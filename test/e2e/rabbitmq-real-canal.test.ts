/**
 * Issue 17 (RabbitMQ): real canal 1.1.8 output (packages/canal-protocol/test/fixtures/real-canal)
 * published to queues the way canal's RabbitMQ producer does — one FlatMessage JSON per message
 * with `flatMessage: true`, one protobuf `Packet{MESSAGES}` per canal batch with `flatMessage:
 * false` — is applied by the `sluice` binary in `mode: rabbitMQ` with canal's logger adapter,
 * and both formats print the same changes in the same order.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { E2eRabbit, rabbitBroker, writeRabbitConfig } from './support/rabbitmq.js';
import { SluiceProcess, repoRoot, requireBuiltCli } from './support/sluice.js';

const fixture = (name: string) =>
  readFileSync(`${repoRoot}packages/canal-protocol/test/fixtures/real-canal/${name}`);

/** flat.jsonl: one record value per line. */
const flatRecords = () => fixture('flat.jsonl').toString('utf8').split('\n').filter(Boolean);

/** protobuf.lpb: each record value as a 4-byte big-endian length and the bytes. */
function protobufRecords(): Buffer[] {
  const all = fixture('protobuf.lpb');
  const out: Buffer[] = [];
  for (let i = 0; i < all.length;) {
    const n = all.readUInt32BE(i);
    out.push(all.subarray(i + 4, i + 4 + n));
    i += 4 + n;
  }
  return out;
}

let rabbit: E2eRabbit;
beforeAll(async () => {
  requireBuiltCli();
  rabbit = await new E2eRabbit().start();
});
afterAll(async () => {
  await rabbit?.stop();
});

async function runOnce(flatMessage: boolean, bodies: readonly (string | Uint8Array)[]) {
  const queue = await rabbit.createQueue(flatMessage ? 'e2e_rmq_flat' : 'e2e_rmq_pb');
  await rabbit.publish(queue, bodies);
  const config = await writeRabbitConfig({ broker: rabbitBroker(), queue, flatMessage });
  const sluice = SluiceProcess.start(config.dir, { once: true });
  const exit = await sluice.exited;
  expect(exit.code, sluice.tail()).toBe(0);
  expect(await rabbit.count(queue)).toEqual({ queue, messageCount: 0, consumerCount: 0 });
  // The logger's lines (stdout and stderr are merged: keep the change lines, not the JSON log).
  return sluice.lines.filter((l) => /^canalfx\./.test(l));
}

it('applies real canal output in both formats from RabbitMQ queues, with the same result', async () => {
  const flat = flatRecords();
  const protobuf = protobufRecords();
  expect(flat).toHaveLength(61);
  expect(protobuf).toHaveLength(2);
  const fromFlat = await runOnce(true, flat);
  const fromProtobuf = await runOnce(false, protobuf);
  expect(fromFlat.filter((l) => / INSERT \[/.test(l)).length).toBeGreaterThan(10);
  expect(fromFlat.some((l) => / UPDATE \[/.test(l))).toBe(true);
  expect(fromFlat.some((l) => / DELETE \[/.test(l))).toBe(true);
  expect(fromProtobuf).toEqual(fromFlat);
}, 60_000);
