import { describe, expect, it } from 'vitest';
import type { Logger } from '@sluice/plugin-api';
import { OffsetWriter, type CommittedQueue, type OffsetClient } from './offsets.js';

const BROKER = '127.0.0.1:10911';
const TOPIC = 't';
const GROUP = 'g';

/**
 * A broker's consumer offsets as RocketMQ 5.3.3 keeps them (`ConsumerOffsetManager#commitOffset`):
 * the first commit of a topic@group gets the key's map, finds none, builds one with its queue and
 * puts it. Each UPDATE_CONSUMER_OFFSET runs on its own pool thread; here another request may run
 * between the get and the put, as it can on the broker. The reply is SUCCESS either way.
 */
class RacyBroker implements OffsetClient {
  readonly table = new Map<string, Map<number, bigint>>();
  inFlight = 0;
  maxInFlight = 0;
  readonly updates: string[] = [];
  failNext = false;
  /** Event-loop turns an update takes to reach its pool thread (a query takes one). */
  updateTurns = 1;

  async updateOffset(
    _address: string,
    group: string,
    topic: string,
    queueId: number,
    offset: bigint,
  ): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      for (let i = 0; i < this.updateTurns; i++) await new Promise((r) => setImmediate(r)); // to a pool thread
      if (this.failNext) {
        this.failNext = false;
        throw new Error('broker unreachable');
      }
      const key = `${topic}@${group}`;
      const map = this.table.get(key);
      if (!map) {
        const created = new Map([[queueId, offset]]);
        await new Promise((r) => setImmediate(r)); // another thread runs meanwhile
        this.table.set(key, created);
      } else map.set(queueId, offset);
      this.updates.push(`${queueId}=${offset}`);
    } finally {
      this.inFlight--;
    }
  }

  async queryOffset(
    _address: string,
    group: string,
    topic: string,
    queueId: number,
  ): Promise<bigint | undefined> {
    await new Promise((r) => setImmediate(r));
    return this.table.get(`${topic}@${group}`)?.get(queueId);
  }

  /** Each queue's end (GET_MAX_OFFSET); 1000 unless set. */
  readonly ends = new Map<number, bigint>();

  async queueOffset(
    _address: string,
    _topic: string,
    queueId: number,
    _which: 'max' | 'min',
  ): Promise<bigint> {
    return this.ends.get(queueId) ?? 1000n;
  }

  stored(queues: number): (bigint | undefined)[] {
    return Array.from({ length: queues }, (_, q) => this.table.get(`${TOPIC}@${GROUP}`)?.get(q));
  }
}

function logger(lines: string[] = []): Logger & { lines: string[] } {
  const at = (message: string) => void lines.push(message);
  const l: Logger = { debug: at, info: at, warn: at, error: at, child: () => l };
  return Object.assign(l, { lines });
}

const queue = (queueId: number, address = BROKER): CommittedQueue => ({
  mq: { topic: TOPIC, brokerName: 'broker-a', queueId },
  partition: `broker-a:${queueId}`,
  address,
  next: 100n,
  floor: undefined,
});

describe('OffsetWriter', () => {
  it('the fake broker loses an acknowledged first commit when two arrive together (what the writer must avoid)', async () => {
    const broker = new RacyBroker();
    await Promise.all([0, 1, 2, 3].map((q) => broker.updateOffset(BROKER, GROUP, TOPIC, q, 30n)));
    expect(broker.updates).toHaveLength(4); // all four "acknowledged"
    expect(broker.stored(4).filter((o) => o === 30n).length).toBeLessThan(4);
  });

  it('sends the first commits of all queues of a broker one at a time, so the broker keeps every one', async () => {
    const broker = new RacyBroker();
    const writer = new OffsetWriter(broker, GROUP, logger());
    const queues = [0, 1, 2, 3].map((q) => queue(q));
    await Promise.all(queues.map((q) => writer.commit(q, 30n)));
    expect(broker.maxInFlight).toBe(1);
    expect(broker.stored(4)).toEqual([30n, 30n, 30n, 30n]);
    expect(queues.map((q) => q.floor)).toEqual([30n, 30n, 30n, 30n]);
  });

  it('never sends an offset at or below one already acknowledged, and keeps going after a failed request', async () => {
    const broker = new RacyBroker();
    const writer = new OffsetWriter(broker, GROUP, logger());
    const q = queue(0);
    broker.failNext = true;
    const results = await Promise.allSettled([
      writer.commit(q, 10n),
      writer.commit(q, 20n),
      writer.commit(q, 15n),
      writer.commit(q, 20n),
    ]);
    expect(results.map((r) => r.status)).toEqual([
      'rejected',
      'fulfilled',
      'fulfilled',
      'fulfilled',
    ]);
    expect(broker.updates).toEqual(['0=20']);
    expect(q.floor).toBe(20n);
  });

  it('writes a lost commit again, once, and leaves a stored one alone', async () => {
    const broker = new RacyBroker();
    const log = logger();
    const writer = new OffsetWriter(broker, GROUP, log);
    const [a, b] = [queue(0), queue(1)];
    await writer.commit(a, 30n);
    await writer.commit(b, 30n);
    broker.table.get(`${TOPIC}@${GROUP}`)!.delete(1); // the broker lost queue 1's offset
    expect(await writer.verify(a, () => true)).toBe('stored');
    expect(await writer.verify(b, () => true)).toBe('repaired');
    expect(broker.stored(2)).toEqual([30n, 30n]);
    expect(await writer.verify(b, () => true)).toBe('stored');
    expect(broker.updates).toEqual(['0=30', '1=30', '1=30']);
    expect(log.lines.filter((l) => l.includes('lost the committed offset'))).toEqual([
      'The broker lost the committed offset of queue broker-a:1: it holds none although it acknowledged 30; committing 30 again.',
    ]);
  });

  it('writes nothing for a queue it committed nothing to, whose lock is not trusted, or that the broker holds further', async () => {
    const broker = new RacyBroker();
    const writer = new OffsetWriter(broker, GROUP, logger());
    const q = queue(0);
    expect(await writer.verify(q, () => true)).toBe('nothing');
    await writer.commit(q, 30n);
    broker.table.get(`${TOPIC}@${GROUP}`)!.set(0, 5n);
    expect(await writer.verify(q, () => false)).toBe('not-ours');
    broker.table.get(`${TOPIC}@${GROUP}`)!.set(0, 50n); // e.g. a reset by an operator
    expect(await writer.verify(q, () => true)).toBe('stored');
    expect(broker.stored(1)).toEqual([50n]);
    expect(broker.updates).toEqual(['0=30']);
  });

  it('writes nothing into a queue that went back (topic recreated: its offsets are gone too, like a loss), and nothing once the pull loop forgot the old commit', async () => {
    const broker = new RacyBroker();
    const writer = new OffsetWriter(broker, GROUP, logger());
    const q = queue(0);
    await writer.commit(q, 30n);
    broker.table.clear();
    broker.ends.set(0, 3n); // the new queue has 3 messages; this member reads at 100
    expect(await writer.verify(q, () => true)).toBe('went-back');
    q.floor = undefined; // what the pull loop does when the broker moves it back
    expect(await writer.verify(q, () => true)).toBe('nothing');
    expect(broker.updates).toEqual(['0=30']);
    expect(broker.stored(1)).toEqual([undefined]);
  });

  it('a check started beside a commit of the same queue never writes the older offset after the newer one', async () => {
    const broker = new RacyBroker();
    const writer = new OffsetWriter(broker, GROUP, logger());
    const q = queue(0);
    await writer.commit(q, 30n);
    broker.table.get(`${TOPIC}@${GROUP}`)!.delete(0);
    broker.updateTurns = 3; // the check's read would overtake the commit
    const [, outcome] = await Promise.all([writer.commit(q, 40n), writer.verify(q, () => true)]);
    expect(outcome).toBe('stored');
    expect(broker.stored(1)).toEqual([40n]);
  });

  it('brokers do not wait for each other', async () => {
    const broker = new RacyBroker();
    const writer = new OffsetWriter(broker, GROUP, logger());
    await Promise.all([writer.commit(queue(0, 'a:1'), 1n), writer.commit(queue(1, 'b:1'), 1n)]);
    expect(broker.maxInFlight).toBe(2);
  });
});
