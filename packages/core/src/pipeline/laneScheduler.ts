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

/**
 * A first-in first-out queue over one array that keeps its capacity. A plain array emptied with
 * `length = 0` gives its backing store back, so the next `push` allocates a new one: on the hot
 * path that was one allocation per record (BENCHMARKS.md, issue 11, session 17). Slots are
 * cleared as items leave, so the queue never keeps an item alive after handing it out.
 */
class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;
  #tail = 0;

  /** Items in the queue. */
  get size(): number {
    return this.#tail - this.#head;
  }

  /** The item `i` places from the front (0: the next one out), undefined past the end. */
  at(i: number): T | undefined {
    return this.#head + i < this.#tail ? this.#items[this.#head + i] : undefined;
  }

  push(item: T): void {
    if (this.#tail === this.#items.length && this.#head * 2 >= this.#tail && this.#head > 0) {
      // Full, and at least half of it already taken: move the rest to the front (amortised O(1)).
      const items = this.#items;
      const n = this.#tail - this.#head;
      items.copyWithin(0, this.#head, this.#tail);
      items.fill(undefined, n, this.#tail);
      this.#head = 0;
      this.#tail = n;
    }
    this.#items[this.#tail++] = item;
  }

  /** Removes the first `n` items (at most {@link size}) and returns them, in order. */
  take(n: number): T[] {
    const out = new Array<T>(n);
    const items = this.#items;
    const head = this.#head;
    for (let i = 0; i < n; i++) {
      out[i] = items[head + i]!;
      items[head + i] = undefined;
    }
    this.#head = head + n;
    if (this.#head === this.#tail) this.#head = this.#tail = 0;
    return out;
  }

  /** Removes and returns the front item; undefined when empty. */
  shift(): T | undefined {
    if (this.#head === this.#tail) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head === this.#tail) this.#head = this.#tail = 0;
    return item;
  }
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
  readonly #lanes: Fifo<T>[];
  /** Items that could not go to a lane yet (a conflict across lanes), in source order. */
  readonly #intake = new Fifo<T>();
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
    this.#lanes = Array.from({ length: Math.max(1, lanes) }, () => new Fifo<T>());
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
    return this.#lanes[lane]!.size;
  }

  /** Items waiting in intake, blocked by a conflict across lanes. */
  get blocked(): number {
    return this.#intake.size;
  }

  /** Queues one item (in source order) and dispatches what can go to a lane. */
  push(item: T): void {
    this.#pending += 1;
    if (this.#intake.size === 0) {
      // Nothing blocked ahead of it: straight to its lane, or into intake if its keys conflict.
      const lane = this.#pick(item);
      if (lane === undefined) this.#intake.push(item);
      else this.#assign(item, lane);
      return;
    }
    this.#intake.push(item);
    this.#dispatch();
  }

  /**
   * Takes the next batch of a lane: up to `maxItems` items and `maxBytes` (at least one item);
   * an `alone` item or a barrier is always a batch of its own. Empty when the lane has nothing.
   * The items keep their keys until {@link release}.
   */
  take(lane: number, maxItems: number, maxBytes: number): T[] {
    const queue = this.#lanes[lane]!;
    const first = queue.at(0);
    if (first === undefined) return [];
    if (first.barrier || this.#alone(first)) {
      queue.shift();
      return [first];
    }
    // Counted first, so the batch is allocated once, at its size.
    const most = Math.min(maxItems, queue.size);
    let n = 1;
    let bytes = first.bytes;
    for (; n < most; n++) {
      const next = queue.at(n)!;
      if (next.barrier || this.#alone(next) || bytes + next.bytes > maxBytes) break;
      bytes += next.bytes;
    }
    return queue.take(n);
  }

  /** The items (taken from `lane`) are finished: frees their keys and dispatches blocked intake. */
  release(lane: number, items: readonly T[]): void {
    for (let i = 0; i < items.length; i++) this.#unhold(items[i]!, lane);
    this.#pending -= items.length;
    this.#dispatch();
  }

  /** Moves intake items to lanes until one is blocked by a conflict across lanes. */
  #dispatch(): void {
    const intake = this.#intake;
    for (let item = intake.at(0); item !== undefined; item = intake.at(0)) {
      const lane = this.#pick(item);
      if (lane === undefined) return; // dispatched again when a lane releases keys
      intake.shift();
      this.#assign(item, lane);
    }
  }

  /** Puts `item` in `lane` (just picked for it) and wakes the lane. */
  #assign(item: T, lane: number): void {
    this.#hold(item, lane);
    this.#lanes[lane]!.push(item);
    this.#wake(lane);
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
