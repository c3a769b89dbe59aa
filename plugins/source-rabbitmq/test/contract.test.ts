import { afterAll, beforeAll } from 'vitest';
// Imported by path, like the testbed helpers: this plugin's package.json does not list
// @sluice/testkit (vitest resolves it to the same source either way).
import { runSourceContractSuite } from '../../../packages/testkit/src/index.js';
import { TcpProxy, TestRabbit, createSource } from './helpers.js';

let rabbit: TestRabbit;
let proxy: TcpProxy;
beforeAll(async () => {
  rabbit = await new TestRabbit().start();
  proxy = await new TcpProxy().start();
});
afterAll(async () => {
  await proxy?.stop();
  await rabbit?.stop();
});

// Each test gets a fresh durable queue on the testbed node; sources connect through a TCP proxy
// so breakConnection can cut them off like a network failure would. Delivery tags restart on
// every channel (restartingOffsets). One queue is consumed by every instance at once (no
// consumer group that takes partitions away): revokeWhileDeliverPending is skipped.
let queue = '';
runSourceContractSuite({
  name: 'rabbitmq source contract',
  waitMs: 20_000,
  timeoutMs: 60_000,
  target: {
    restartingOffsets: true,
    createSource: () => createSource({ queue, port: proxy.port }),
    async reset() {
      queue = await rabbit.createQueue('contract');
    },
    publish: (payloads) => rabbit.publish(queue, payloads),
    async breakConnection() {
      proxy.breakAll();
    },
  },
});
