/**
 * Per-partition completion tracking (DESIGN.md §1.5): a message is done when every record routed
 * from it has been applied or dead-lettered by every sink of the group (or it decoded to nothing),
 * and the committable offset is the one after the longest done prefix of the partition.
 */

/** One source message being tracked. */
export interface MessageTicket {
  /** The message's offset. */
  readonly offset: bigint;
  /** Weight in the in-flight bound (its event count, at least 1). */
  readonly weight: number;
  /** Records (and holds) not yet finished. */
  pending: number;
  /** True once every record finished. */
  done: boolean;
}

/** Tracks the messages of one partition in offset order. */
export class AckTracker {
  readonly #queue: MessageTicket[] = [];
  #head = 0;
  #doneUpTo: bigint | undefined;
  #inFlight = 0;
  #idleWaiters: (() => void)[] = [];
  #progressWaiters: (() => void)[] = [];
  readonly #onAdvance: (nextOffset: bigint) => void;

  /** @param onAdvance called (synchronously) whenever the committable offset moves forward. */
  constructor(onAdvance: (nextOffset: bigint) => void = () => {}) {
    this.#onAdvance = onAdvance;
  }

  /**
   * Starts tracking a message. It holds one pending unit until {@link release} is called, so it
   * cannot complete while its records are still being routed. Offsets must increase.
   */
  open(offset: string, weight: number): MessageTicket {
    const value = BigInt(offset);
    const last = this.#queue.at(-1);
    if (
      (last && value <= last.offset) ||
      (this.#doneUpTo !== undefined && value < this.#doneUpTo)
    ) {
      throw new Error(`Offset ${offset} does not follow the partition's previous offset.`);
    }
    const ticket: MessageTicket = {
      offset: value,
      weight: Math.max(1, weight),
      pending: 1,
      done: false,
    };
    this.#queue.push(ticket);
    this.#inFlight += ticket.weight;
    return ticket;
  }

  /**
   * False for an offset at or below one already tracked (a redelivery after a rewind): such a
   * message is being, or has been, handled already.
   */
  accepts(offset: string): boolean {
    const value = BigInt(offset);
    const last =
      this.#queue.at(-1)?.offset ??
      (this.#doneUpTo === undefined ? undefined : this.#doneUpTo - 1n);
    return last === undefined || value > last;
  }

  /** Adds `count` pending records to a ticket (before its routing hold is released). */
  add(ticket: MessageTicket, count: number): void {
    if (ticket.done) throw new Error('Cannot add records to a finished message.');
    ticket.pending += count;
  }

  /** Releases the routing hold of {@link open}. */
  release(ticket: MessageTicket): void {
    this.complete(ticket, 1);
  }

  /** Marks `count` records of the ticket finished (applied or dead-lettered). */
  complete(ticket: MessageTicket, count = 1): void {
    if (ticket.done) return;
    ticket.pending -= count;
    if (ticket.pending > 0) return;
    ticket.done = true;
    this.#inFlight -= ticket.weight;
    let advanced = false;
    while (this.#head < this.#queue.length && this.#queue[this.#head]!.done) {
      this.#doneUpTo = this.#queue[this.#head]!.offset + 1n;
      this.#head += 1;
      advanced = true;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue.splice(0, this.#head);
      this.#head = 0;
    }
    if (advanced) this.#onAdvance(this.#doneUpTo!);
    if (this.#progressWaiters.length > 0) {
      const waiters = this.#progressWaiters;
      this.#progressWaiters = [];
      for (const w of waiters) w();
    }
    if (this.#inFlight === 0 && this.#idleWaiters.length > 0) {
      const idle = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of idle) w();
    }
  }

  /** The offset after the longest done prefix (what may be committed), if any message is done. */
  get committable(): bigint | undefined {
    return this.#doneUpTo;
  }

  /** Sum of the weights of unfinished messages (events in flight). */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Resolves once nothing is in flight. */
  whenIdle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Resolves at the next completion of a message (or at once when nothing is in flight). */
  whenProgress(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#progressWaiters.push(resolve));
  }

  /** Wakes every waiter (used when the partition is abandoned). */
  wakeAll(): void {
    const all = [...this.#idleWaiters, ...this.#progressWaiters];
    this.#idleWaiters = [];
    this.#progressWaiters = [];
    for (const w of all) w();
  }
}
