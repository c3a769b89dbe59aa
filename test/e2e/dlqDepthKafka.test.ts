/**
 * Issue 15: the dead-letter depth of a Kafka dead-letter queue (`sluice.deadLetter.type: kafka`)
 * — the DLQ topic's end offsets minus the replay group's committed offsets — in /metrics
 * (`sluice_dead_letter_depth{type="kafka"}`) and /status of a running `sluice start`, and back
 * to 0 after `sluice dlq drop`.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { kafkaBroker, uniqueName } from '../support/testbed.js';
import { SluiceProcess, sluiceBin } from './support/sluice.js';
import { useE2eServices } from './support/verify.js';

const e2e = useE2eServices();
let sluice: SluiceProcess | undefined;
afterAll(async () => {
  sluice?.kill('SIGTERM');
  await sluice?.exited;
});

async function until(check: () => Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}\n${sluice?.tail()}`);
}

it('counts the dead letters waiting in the Kafka DLQ topic, and follows a drop', async () => {
  const topic = uniqueName('dlqdepth');
  await e2e.kafka.createTopic(topic, 1);
  e2e.kafka.topics.push(`${topic}.dlq`);
  const dir = await mkdtemp(join(tmpdir(), 'sluice-dlqdepth-'));
  await writeFile(
    join(dir, 'application.yml'),
    `canal.conf:
  mode: kafka
  flatMessage: true
  consumerProperties:
    kafka.bootstrap.servers: ${kafkaBroker()}
    kafka.auto.offset.reset: earliest
    kafka.fetch.max.wait.ms: "100"
  canalAdapters:
  - instance: ${topic}
    groups:
    - groupId: ${uniqueName('g')}
      outerAdapters:
      - name: logger
sluice:
  deadLetter:
    type: kafka
`,
  );
  await e2e.kafka.produce(topic, [['not a canal message', 'neither is this']]);
  sluice = SluiceProcess.start(dir);
  const url = await sluice.adminUrl();
  const depth = async () =>
    new RegExp(`sluice_dead_letter_depth\\{destination="${topic}",type="kafka"\\} (\\d+)`).exec(
      await (await fetch(`${url}/metrics`)).text(),
    )?.[1];
  await until(async () => (await depth()) === '2', 'a depth of 2');
  const status = (await (await fetch(`${url}/status`)).json()) as {
    pipelines: { deadLetterDepth: number | null }[];
  };
  expect(status.pipelines[0]!.deadLetterDepth).toBe(2);
  await promisify(execFile)(process.execPath, [sluiceBin, 'dlq', 'drop', '--config', dir, '--yes']);
  await until(async () => (await depth()) === '0', 'a depth of 0 after the drop');
}, 180_000);
