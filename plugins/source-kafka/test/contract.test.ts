import { afterAll, beforeAll } from 'vitest';
import { uniqueName } from '../../../test/support/testbed.js';
// Imported by path, like the testbed helpers: this plugin's package.json does not list
// @sluice/testkit (vitest resolves it to the same source either way).
import { runSourceContractSuite } from '../../../packages/testkit/src/index.js';
import { TestKafka, createSource } from './helpers.js';

let kafka: TestKafka;
beforeAll(async () => {
  kafka = await new TestKafka().start();
});
afterAll(async () => {
  await kafka?.stop();
});

// Each test gets a fresh one-partition topic and consumer group on the testbed Kafka.
let topic = '';
let groupId = '';

// Kafka offsets never restart, and the suite cannot break a broker session from outside
// (breakConnection): those tests are reported as skipped.
runSourceContractSuite({
  name: 'kafka source contract',
  waitMs: 45_000,
  timeoutMs: 120_000,
  target: {
    sharedGroup: true,
    createSource: () => createSource({ topic, groupId }),
    async reset() {
      topic = await kafka.createTopic(1, 'contract');
      groupId = uniqueName('contract_g');
    },
    publish: (payloads) => kafka.produce(topic, 0, payloads),
  },
});
