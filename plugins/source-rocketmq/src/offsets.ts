import type { Logger } from '@sluice/plugin-api';
import type { MessageQueue, RocketMQClient } from './client.js';

/** The consumer-offset requests {@link OffsetWriter} sends (a subset of {@link RocketMQClient}). */
export type OffsetClient = Pick<RocketMQClient, 'updateOffset' | 'queryOffset' | 'queueOffset'>;

/** A queue whose offset this member commits (the source's queue state). */
export interface CommittedQueue {
  readonly mq: MessageQueue;
  readonly partition: string;
  /** Master address of the queue's broker. */
  readonly address: string;
  /** The next offset this member reads (the queue reached it, unless it went back since). */
  readonly next: bigint;
  /**
   * The last commit the broker acknowledged: never lowered, except to `undefined` when the queue
   * went back (a recreated topic: a new incarnation, which the old offsets do not belong to).
   */
  floor: bigint | undefined;
}

/** What {@link OffsetWriter.verify} found. */
export type VerifyOutcome = 'nothing' | 'stored' | 'repaired' | 'not-ours' | 'went-back';

/**
 * Writes a group's consumer offsets on the brokers (UPDATE_CONSUMER_OFFSET) and checks that they
 * stay there.
 *
 * A broker's SUCCESS does not guarantee that it kept the offset. In its
 * `ConsumerOffsetManager#commitOffset` (RocketMQ 4.x to 5.3.3), the first commit of a
 * topic@group key creates the key's queue map with an unsynchronised get-then-put. Updates run on
 * a pool of 32 threads, so two first commits of different queues that arrive together can each
 * create a map, and the later `put` replaces the other map: that queue's offset is gone although
 * it was acknowledged. A key that was never flushed is also gone after a broker crash, since
 * offsets reach disk only every 5 s. The Java client hides this by sending every offset again
 * every 5 s (`persistConsumerOffsetInterval`). Here:
 * - this member's updates to one broker go out one at a time, so it never races with itself (and
 *   two updates of one queue can never be applied in the wrong order);
 * - {@link verify} reads a queue's offset back and writes the last acknowledged commit again when
 *   the broker holds less. The source calls it periodically and before it gives a queue up, while
 *   its broker lock is still trusted. This covers the cases serialising cannot: a first commit of
 *   another member of the group, a broker crash.
 *
 * Only offsets the core committed (applied data) are ever written, and never one below what
 * this member committed before to the same incarnation of the queue.
 */
export class OffsetWriter {
  readonly #client: OffsetClient;
  readonly #group: string;
  readonly #log: Logger;
  /** Per broker address: the last queued request (settled, never rejects). */
  readonly #tails = new Map<string, Promise<void>>();

  constructor(client: OffsetClient, group: string, log: Logger) {
    this.#client = client;
    this.#group = group;
    this.#log = log;
  }

  /** Runs `task` once every task queued before it for `address` has settled. */
  #serial<T>(address: string, task: () => Promise<T>): Promise<T> {
    const run = (this.#tails.get(address) ?? Promise.resolve()).then(task);
    const tail = run.then(
      () => {},
      () => {},
    );
    this.#tails.set(address, tail);
    void tail.then(() => {
      if (this.#tails.get(address) === tail) this.#tails.delete(address);
    });
    return run;
  }

  /**
   * Stores `offset` (the next offset to read) as the queue's committed offset, unless this member
   * already committed it or a later one. Rejects when the broker refuses or cannot be reached.
   */
  commit(q: CommittedQueue, offset: bigint): Promise<void> {
    return this.#serial(q.address, async () => {
      if (q.floor !== undefined && offset <= q.floor) return;
      await this.#client.updateOffset(q.address, this.#group, q.mq.topic, q.mq.queueId, offset);
      q.floor = offset;
    });
  }

  /**
   * Reads the queue's offset back from its broker. If the broker holds less than this member's
   * last acknowledged commit (or nothing), writes that commit again, but only while `ours()`
   * (the queue's broker lock is trusted). A broker holding more is left alone. The check and the
   * write are queued like commits, so a commit of the queue cannot be overtaken by an older write.
   * A queue that ends before the offset this member reads went back (its topic was deleted and
   * recreated, which also deletes its offsets: it looks like a loss): nothing is written, since
   * the old commit would skip the new queue's messages (the pull loop starts it over). Rejects
   * when the broker cannot be reached.
   */
  verify(q: CommittedQueue, ours: () => boolean): Promise<VerifyOutcome> {
    return this.#serial(q.address, async () => {
      const committed = q.floor;
      if (committed === undefined) return 'nothing';
      if (!ours()) return 'not-ours';
      const stored = await this.#client.queryOffset(
        q.address,
        this.#group,
        q.mq.topic,
        q.mq.queueId,
      );
      if (stored !== undefined && stored >= committed) return 'stored';
      const end = await this.#client.queueOffset(q.address, q.mq.topic, q.mq.queueId, 'max');
      if (end < q.next || q.floor !== committed) return 'went-back';
      if (!ours()) return 'not-ours';
      this.#log.warn(
        `The broker lost the committed offset of queue ${q.partition}: it holds ${stored ?? 'none'} although it acknowledged ${committed}; committing ${committed} again.`,
        { partition: q.partition, offset: String(committed) },
      );
      await this.#client.updateOffset(q.address, this.#group, q.mq.topic, q.mq.queueId, committed);
      return 'repaired';
    });
  }
}
