import { afterAll, beforeAll } from 'vitest';
import { runSourceContractSuite } from '../../../packages/testkit/src/index.js';
import { FakeCanalServer } from './fakeCanalServer.js';
import { asFlatText, createSource, entryOf } from './helpers.js';

// The contract against canal's TCP protocol as the in-process server speaks it (one entry per
// batch, so a delivered batch maps back to one published FlatMessage). Each test gets a fresh
// destination; breakConnection restarts the server (connections drop, canal's batch ids start
// again at 1, un-acked batches are redelivered): restartingOffsets, since canal's batch ids do.
let server: FakeCanalServer;
let destination = '';
let n = 0;
const texts = new Map<string, string>();
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

beforeAll(async () => {
  server = await new FakeCanalServer().listen();
});
afterAll(async () => {
  await server?.close();
});

runSourceContractSuite({
  name: 'tcp source contract (canal TCP protocol, in-process server)',
  waitMs: 10_000,
  target: {
    createSource: () =>
      asFlatText(
        createSource({ destination, properties: { 'canal.tcp.server.host': server.address } }),
        texts,
      ),
    async reset() {
      destination = `contract_${++n}`;
      server.createDestination(destination);
    },
    async publish(payloads) {
      server.append(
        destination,
        payloads.map((p) => {
          const bytes = entryOf(p);
          texts.set(hex(bytes), p);
          return bytes;
        }),
      );
    },
    restartingOffsets: true,
    async breakConnection() {
      await server.restart();
    },
  },
});
