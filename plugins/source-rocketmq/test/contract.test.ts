import { afterAll, beforeAll } from 'vitest';
import { uniqueName } from '../../../test/support/testbed.js';
// Imported by path, like the testbed helpers: this plugin's package.json does not list
// @sluice/testkit (vitest resolves it to the same source either way).
import { runSourceContractSuite } from '../../../packages/testkit/src/index.js';
import { TestRocketMQ, createSource } from './helpers.js';

let rmq: TestRocketMQ;
beforeAll(async () => {
  rmq = await new TestRocketMQ().start();
});
afterAll(() => rmq?.stop());

// Each test gets a fresh two-queue topic (messages go to queue 0) and consumer group on the
// testbed RocketMQ. Two queues, not one: with one queue a joining member whose id sorts after
// the first one's gets nothing (AllocateMessageQueueAveragely), so nothing would be revoked in
// revokeWhileDeliverPending; with two, the first member always gives one up (queue 0 with its
// pending deliver, or queue 1 while queue 0's deliver is pending).
let topic = '';
let groupId = '';

// Queue offsets never restart, and the suite cannot break a broker session from outside
// (breakConnection): those tests are reported as skipped. The broker-restart test in
// rocketmqSource.test.ts covers reconnecting.
runSourceContractSuite({
  name: 'rocketmq source contract',
  waitMs: 45_000,
  timeoutMs: 120_000,
  target: {
    sharedGroup: true,
    createSource: () => createSource({ topic, groupId }),
    async reset() {
      topic = await rmq.createTopic(2, 'contract');
      groupId = uniqueName('contract_g');
    },
    publish: (payloads) => rmq.produce(topic, 0, payloads),
  },
});
