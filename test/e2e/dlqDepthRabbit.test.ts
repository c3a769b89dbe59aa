/**
 * Issue 15: the dead-letter depth of a RabbitMQ dead-letter queue (rabbitMQ mode's default,
 * `<queue>.dlq`) — the queue's ready messages, counted with a passive declare — in /metrics
 * (`sluice_dead_letter_depth{type="rabbitmq"}`) and /status of a running `sluice start`, and back
 * to 0 after `sluice dlq drop`. (Kafka: dlqDepthKafka.test.ts; file: admin.test.ts.)
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { E2eRabbit, rabbitBroker, writeRabbitConfig } from './support/rabbitmq.js';
import { SluiceProcess, requireBuiltCli, sluiceBin } from './support/sluice.js';

let rabbit: E2eRabbit;
let sluice: SluiceProcess | undefined;
beforeAll(async () => {
  requireBuiltCli();
  rabbit = await new E2eRabbit().start();
});
afterAll(async () => {
  sluice?.kill('SIGTERM');
  await sluice?.exited;
  await rabbit?.stop();
});

async function until(check: () => Promise<boolean>, what: string, ms = 90_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}\n${sluice?.tail()}`);
}

it('counts the dead letters waiting in <queue>.dlq, and follows a drop', async () => {
  const queue = await rabbit.createQueue('e2e_dlqdepth');
  const config = await writeRabbitConfig({
    broker: rabbitBroker(),
    queue,
    deadLetter: 'default',
    admin: true, // on --admin-port 0 (SluiceProcess.start)
  });
  await rabbit.publish(queue, ['not a canal message', 'neither is this', '{"data": [']);
  sluice = SluiceProcess.start(config.dir);
  const url = await sluice.adminUrl();
  const depth = async () =>
    new RegExp(`sluice_dead_letter_depth\\{destination="${queue}",type="rabbitmq"\\} (\\d+)`).exec(
      await (await fetch(`${url}/metrics`)).text(),
    )?.[1];
  await until(async () => (await depth()) === '3', 'a depth of 3');
  // Counting takes nothing out of the queue.
  expect((await rabbit.count(`${queue}.dlq`)).messageCount).toBe(3);
  const status = (await (await fetch(`${url}/status`)).json()) as {
    pipelines: { deadLetterDepth: number | null }[];
  };
  expect(status.pipelines[0]!.deadLetterDepth).toBe(3);
  await promisify(execFile)(process.execPath, [
    sluiceBin,
    'dlq',
    'drop',
    '--config',
    config.dir,
    '--yes',
  ]);
  await until(async () => (await depth()) === '0', 'a depth of 0 after the drop');
}, 180_000);
