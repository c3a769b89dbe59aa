import { hashString } from './conflictKeys.js';

/** What the lane scheduler needs to know of one record (see {@link conflictKeys}). */
export interface LaneItem {
  /** `database.table`. */
  readonly table: string;
  /** True for a DDL under `per-key`/`table` ordering: it conflicts with every key of its table. */
  readonly barrier: boolean;
  /**
   * The row key as a 32-bit hash held in a signed integer (`hash | 0`, see
   * {@link writeConflictKeys}); not read for a barrier.
   */
  readonly key: number;
  /** The second row key of a primary-key change (the new one), like {@link key}; else `key`. */
  readonly key2: number;
  /** Approximate size, for `take`'s byte bound. */
  readonly bytes: number;
  /**
   * Written by the scheduler when the item goes to a lane: its keys' hash buckets, read back by
   * {@link LaneScheduler.release} so the keys are not hashed again (the item is cold by then).
   * Create items with 0, so they keep one shape.
   */
  held?: number;
}

interface Lane<T> {
  readonly queue: T[];
  head: number;
}

/**
 * Key buckets per lane: with up to a few tens of thousands of keys in flight (a delivered batch),
 * 1024 per lane keeps the keys sharing a bucket few, at 4 KiB per lane.
 */
const BUCKETS_PER_LANE = 1024;

interface Owner {
  lane: number;
  count: number;
}

/**
 * The key-affinity lane scheduler of one sink instance and one partition (DESIGN.md §3). Pure
 * and synchronous: no I/O, no timers, no promises; the caller runs the lanes.
 *
 * Items are {@link push}ed in source order. Each goes to the lane already holding one of its
 * keys (both keys of a primary-key change; a barrier conflicts with every key of its table and
 * every key of its table conflicts with a barrier), or to a hashed lane when none does. When its
 * keys sit in two lanes, intake stops (in source order: nothing behind it overtakes it) until
 * {@link release} frees one of them. Keys stay held from `push` until `release`, so two items
 * sharing a key are never in flight at once in different lanes, and within a lane they are taken
 * in order: per-key order holds whatever the lanes' relative speed.
 *
 * With `partition` ordering every item has the same key (strictly sequential); with `table`
 * ordering the key is the table (one lane per table at a time).
 */
export class LaneScheduler<T extends LaneItem> {
  readonly #lanes: Lane<T>[];
  readonly #intake: T[] = [];
  #intakeHead = 0;
  /**
   * Held row keys by hash bucket (`key hash % buckets`, {@link BUCKETS_PER_LANE} buckets
   * per lane): the lane holding the bucket and how many held keys fall in it, as one number
   * (`lane + count × lanes`, 0 when none). Keys sharing a bucket count as one key: they go to one
   * lane and wait for each other, which only ever costs parallelism, never order. The bucket
   * count is a multiple of the lane count, so a key's hashed lane is its bucket's: a key placed
   * by its hash never moves another key of its bucket. No map and no allocation per key.
   */
  readonly #buckets: Uint32Array;
  /** The buckets {@link #pick} computed for the keys of the item it just picked, for {@link #hold}. */
  #picked0 = 0;
  /** The second key's bucket, -1 when the item has one key (set by every {@link #pick}). */
  #picked1 = 0;
  readonly #barrierOwner = new Map<string, Owner>();
  /**
   * Items held per lane, whatever their table: a barrier waits for every lane holding anything
   * (see {@link #pick}), so one count per lane is all it needs.
   */
  readonly #laneHeld: Uint32Array;
  readonly #wake: (lane: number) => void;
  readonly #alone: (item: T) => boolean;
  #pending = 0;

  /**
   * @param lanes number of lanes (≥ 1)
   * @param wake called synchronously, from `push` or `release`, each time a lane receives an item
   * @param alone items that are always taken as a batch of their own (a DDL)
   */
  constructor(lanes: number, wake: (lane: number) => void, alone: (item: T) => boolean) {
    this.#lanes = Array.from({ length: Math.max(1, lanes) }, () => ({ queue: [], head: 0 }));
    this.#laneHeld = new Uint32Array(this.#lanes.length);
    this.#buckets = new Uint32Array(this.#lanes.length * BUCKETS_PER_LANE);
    this.#wake = wake;
    this.#alone = alone;
  }

  /** Number of lanes. */
  get lanes(): number {
    return this.#lanes.length;
  }

  /** Items pushed and not yet released. */
  get pending(): number {
    return this.#pending;
  }

  /** Items of a lane waiting to be taken. */
  queued(lane: number): number {
    const l = this.#lanes[lane]!;
    return l.queue.length - l.head;
  }

  /** Items waiting in intake, blocked by a conflict across lanes. */
  get blocked(): number {
    return this.#intake.length - this.#intakeHead;
  }

  /** Queues one item (in source order) and dispatches what can go to a lane. */
  push(item: T): void {
    this.#pending += 1;
    this.#intake.push(item);
    this.#dispatch();
  }

  /**
   * Takes the next batch of a lane: up to `maxItems` items and `maxBytes` (at least one item);
   * an `alone` item or a barrier is always a batch of its own. Empty when the lane has nothing.
   * The items keep their keys until {@link release}.
   */
  take(lane: number, maxItems: number, maxBytes: number): T[] {
    const l = this.#lanes[lane]!;
    if (l.head >= l.queue.length) return [];
    const first = l.queue[l.head]!;
    if (first.barrier || this.#alone(first)) {
      l.head += 1;
      this.#compact(l);
      return [first];
    }
    const batch: T[] = [];
    let bytes = 0;
    while (l.head < l.queue.length && batch.length < maxItems) {
      const next = l.queue[l.head]!;
      if (next.barrier || this.#alone(next)) break;
      if (batch.length > 0 && bytes + next.bytes > maxBytes) break;
      bytes += next.bytes;
      batch.push(next);
      l.head += 1;
    }
    this.#compact(l);
    return batch;
  }

  /** The items (taken from `lane`) are finished: frees their keys and dispatches blocked intake. */
  release(lane: number, items: readonly T[]): void {
    for (const item of items) this.#unhold(item, lane);
    this.#pending -= items.length;
    this.#dispatch();
  }

  #compact(l: Lane<T>): void {
    if (l.head === l.queue.length) {
      l.queue.length = 0;
      l.head = 0;
    } else if (l.head > 1024 && l.head * 2 > l.queue.length) {
      l.queue.splice(0, l.head);
      l.head = 0;
    }
  }

  /** Moves intake items to lanes until one is blocked by a conflict across lanes. */
  #dispatch(): void {
    while (this.#intakeHead < this.#intake.length) {
      const item = this.#intake[this.#intakeHead]!;
      const lane = this.#pick(item);
      if (lane === undefined) return; // dispatched again when a lane releases keys
      this.#intakeHead += 1;
      this.#hold(item, lane);
      this.#lanes[lane]!.queue.push(item);
      this.#wake(lane);
    }
    this.#intake.length = 0;
    this.#intakeHead = 0;
  }

  /** The lane for `item`, or undefined when its keys sit in two lanes (no closure: hot path). */
  #pick(item: T): number | undefined {
    let found = -1;
    if (item.barrier) {
      // A DDL waits for every table of the partition, not only its own: a RENAME (or any DDL
      // touching several tables) names one table but changes others, so rows of any table still
      // in flight must be applied before it (canal-adapter applies DDL in line too).
      const held = this.#laneHeld;
      for (let lane = 0; lane < held.length; lane++) {
        if (held[lane] === 0) continue;
        if (found !== -1) return undefined; // rows in flight in two lanes: wait for one
        found = lane;
      }
      return found !== -1 ? found : hashString(item.table) % this.#lanes.length;
    }
    const n = this.#lanes.length;
    const buckets = this.#buckets.length;
    const key = item.key >>> 0;
    const bucket0 = key % buckets;
    const owner0 = this.#buckets[bucket0]!;
    if (owner0 !== 0) found = owner0 % n;
    this.#picked0 = bucket0;
    this.#picked1 = -1;
    if (item.key2 !== item.key) {
      const bucket1 = (item.key2 >>> 0) % buckets;
      this.#picked1 = bucket1;
      const owner1 = this.#buckets[bucket1]!;
      if (owner1 !== 0) {
        const lane = owner1 % n;
        if (found === -1) found = lane;
        else if (lane !== found) return undefined; // keys held in two lanes: wait for one
      }
    }
    // …and every row after a DDL waits for it, whatever its table (no iterator when none waits).
    if (this.#barrierOwner.size > 0) {
      for (const barrier of this.#barrierOwner.values()) {
        if (barrier.lane === found) continue;
        if (found !== -1) return undefined; // a DDL held in another lane: wait for it
        found = barrier.lane;
      }
    }
    return found !== -1 ? found : key % n;
  }

  #hold(item: T, lane: number): void {
    if (item.barrier) own(this.#barrierOwner, item.table, lane);
    else {
      // #pick just computed the keys' buckets (nothing ran in between); a barrier holds none.
      this.#holdBucket(this.#picked0, lane);
      if (this.#picked1 !== -1) this.#holdBucket(this.#picked1, lane);
      // One number for release: bucket 0, plus bucket 1 + 1 over the bucket count (two keys).
      item.held = this.#picked0 + (this.#picked1 + 1) * this.#buckets.length;
    }
    this.#laneHeld[lane]! += 1;
  }

  #holdBucket(bucket: number, lane: number): void {
    const held = this.#buckets[bucket]!;
    this.#buckets[bucket] = held === 0 ? lane + this.#lanes.length : held + this.#lanes.length;
  }

  #unhold(item: T, lane: number): void {
    if (item.barrier) drop(this.#barrierOwner, item.table);
    else {
      const held = item.held!; // written by #hold
      const b = this.#buckets.length;
      this.#unholdBucket(held % b);
      if (held >= b) this.#unholdBucket(Math.floor(held / b) - 1);
    }
    // Never below 0 for items this scheduler held; a release of anything else must not wrap.
    if (this.#laneHeld[lane]! > 0) this.#laneHeld[lane]! -= 1;
  }

  #unholdBucket(bucket: number): void {
    const n = this.#lanes.length;
    const held = this.#buckets[bucket]!;
    if (held === 0) return;
    this.#buckets[bucket] = held < 2 * n ? 0 : held - n;
  }
}

function own(map: Map<string, Owner>, key: string, lane: number): void {
  const o = map.get(key);
  if (o) o.count += 1;
  else map.set(key, { lane, count: 1 });
}

function drop(map: Map<string, Owner>, key: string): void {
  const o = map.get(key);
  if (o && --o.count === 0) map.delete(key);
}
