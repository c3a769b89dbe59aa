import { getEventListeners } from 'node:events';
import { describe, it } from 'vitest';
import type { SourceBatch, SourceHandler, SourceInstance, SourceMessage } from '@sluice/plugin-api';
import { ContractViolation } from './contract.js';
import { EventBuilder, toFlatMessage } from './events.js';

/**
 * What the source contract suite needs to drive a source and its transport. Every hook is
 * called from one test at a time (tests run sequentially). Only `createSource` is required: a
 * test that needs a hook the target lacks is registered as skipped, with the hook in its title.
 */
export interface SourceContractTarget {
  /**
   * A new, unconnected instance reading the contract stream (typically `definition.create(...)`),
   * in the same consumer group as every other instance it returns, so a second instance resumes
   * from what the first committed. The suite connects, runs and closes it.
   */
  createSource(): SourceInstance | Promise<SourceInstance>;
  /**
   * Starts a fresh, empty stream and forgets every commit (a new topic, file or queue; a new
   * consumer group): later `createSource` and `publish` calls use it. Called before every test
   * that needs it.
   */
  reset?(): Promise<void>;
  /**
   * Appends messages (canal FlatMessage JSON text) to the stream, in this order, and resolves
   * when a source could read them. All of them may go to one partition.
   */
  publish?(payloads: readonly string[]): Promise<void>;
  /**
   * Breaks the connection of a running `source` (drop its broker session, close its channel) so
   * that it must reconnect by itself to deliver anything more. Without it, `reconnect` and
   * `restartedOffsetsNotDropped` are skipped.
   */
  breakConnection?(source: SourceInstance): Promise<void>;
  /**
   * True when the transport's offsets restart (RabbitMQ delivery tags after a reconnect): the
   * source must then start a new incarnation of the partition (`revoked`, then `assigned`) before
   * delivering a restarted sequence (see `SourceMessage.offset`). Enables
   * `restartedOffsetsNotDropped`.
   */
  readonly restartingOffsets?: boolean;
  /**
   * True when two instances from `createSource` share the partitions as one consumer group, so a
   * second instance joining takes partitions away from the first (a rebalance, e.g. Kafka).
   * Enables `revokeWhileDeliverPending`.
   */
  readonly sharedGroup?: boolean;
}

/** An optional hook or capability of {@link SourceContractTarget} a test may need. */
export type SourceContractHook =
  'reset' | 'publish' | 'breakConnection' | 'restartingOffsets' | 'sharedGroup';

/** Options of {@link runSourceContractSuite}. */
export interface SourceContractOptions {
  /** Title of the `describe` block, e.g. `file source contract`. */
  readonly name: string;
  /** How to drive the source under test. */
  readonly target: SourceContractTarget;
  /** Run only these tests (default: all of {@link sourceContractTests}). */
  readonly tests?: readonly SourceContractTestName[];
  /** Skip these tests (say why in a comment next to the call). */
  readonly skip?: readonly SourceContractTestName[];
  /**
   * How long the suite waits for something the source must do (deliver published messages,
   * return from `once`, call `revoked`), ms. Default 20 000.
   */
  readonly waitMs?: number;
  /** Per-test timeout, ms. Default 60 000. */
  readonly timeoutMs?: number;
}

/** What one source contract test receives. */
export interface SourceContractHarness {
  readonly target: SourceContractTarget;
  /** See {@link SourceContractOptions.waitMs}. */
  readonly waitMs: number;
}

/** One named source contract test. */
export interface SourceContractTest {
  /** The title shown by vitest. */
  readonly title: string;
  /** The target hooks and capabilities it needs; skipped when the target lacks one. */
  readonly needs?: readonly SourceContractHook[];
  /** Runs the test; rejects with a {@link ContractViolation} explaining the broken rule. */
  run(harness: SourceContractHarness): Promise<void>;
}

function violation(condition: unknown, message: string): asserts condition {
  if (!condition) throw new ContractViolation(message);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits until `condition()` holds, polling every 10 ms; a {@link ContractViolation} after `ms`. */
async function waitUntil(condition: () => boolean, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) throw new ContractViolation(`${what} (waited ${ms} ms).`);
    await sleep(10);
  }
}

/** Resolves with `promise`, or rejects with a {@link ContractViolation} after `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ContractViolation(`${what} (waited ${ms} ms).`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** `count` distinct FlatMessages; the payload text identifies a message across redeliveries. */
function messages(count: number, label: string): string[] {
  const run = `${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const ev = new EventBuilder({ destination: 'contract', database: 'sluice_contract' });
  return Array.from({ length: count }, (_, i) =>
    toFlatMessage(ev.insert('items', { id: String(i + 1), name: `${run}-${i + 1}` })),
  );
}

const text = (payload: SourceMessage['payload']): string =>
  typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8');

/**
 * A `SourceHandler` that behaves like the core's and checks the source's side of the
 * contract on every call: one `deliver` at a time per partition, only assigned partitions,
 * nothing after `revoked`, offsets increasing within a batch, and, like the core's ack tracker,
 * a message whose offset is not above the last one accepted in the partition's incarnation is
 * dropped as a duplicate: if it was never accepted before, that is a lost message (a violation).
 */
export class CheckingHandler implements SourceHandler {
  /** Broken rules, in the order they were seen. */
  readonly violations: string[] = [];
  /** Accepted messages (duplicates dropped), in acceptance order. */
  readonly accepted: { partition: string; offset: string; payload: string }[] = [];
  /** Every `deliver`, `assigned` and `revoked` call, as text (for messages). */
  readonly calls: string[] = [];
  /** Called inside each `deliver` after the checks; its promise holds the delivery. */
  onDeliver: ((batch: SourceBatch) => Promise<void> | void) | undefined;
  /** Called inside each `revoked` after the bookkeeping. */
  onRevoked: ((partitions: readonly string[]) => void) | undefined;
  readonly #inFlight = new Set<string>();
  readonly #assigned = new Set<string>();
  readonly #last = new Map<string, bigint>();
  readonly #seen = new Set<string>();
  #usesAssignment = false;

  /** The payloads accepted so far (each once). */
  payloads(): string[] {
    return this.accepted.map((m) => m.payload);
  }

  /** Whether a `deliver` of `partition` is running now. */
  pending(partition?: string): boolean {
    return partition === undefined ? this.#inFlight.size > 0 : this.#inFlight.has(partition);
  }

  async assigned(partitions: readonly string[]): Promise<void> {
    this.#usesAssignment = true;
    this.calls.push(`assigned ${partitions.join(',')}`);
    for (const p of partitions) {
      this.#assigned.add(p);
      this.#last.delete(p); // a new incarnation: offsets may start anywhere
    }
  }

  async revoked(partitions: readonly string[]): Promise<void> {
    this.calls.push(`revoked ${partitions.join(',')}`);
    for (const p of partitions) this.#assigned.delete(p);
    this.onRevoked?.(partitions);
  }

  async deliver(batch: SourceBatch): Promise<void> {
    const { partition, messages } = batch;
    this.calls.push(`deliver ${partition} ${messages.map((m) => m.offset).join(',')}`);
    if (this.#inFlight.has(partition))
      this.violations.push(
        `A second deliver of partition ${partition} started before the first resolved: the source must wait for each deliver of a partition before the next.`,
      );
    if (this.#usesAssignment && !this.#assigned.has(partition))
      this.violations.push(
        `Partition ${partition} was delivered while not assigned (after revoked, or never assigned).`,
      );
    if (messages.length === 0)
      this.violations.push(`An empty batch of partition ${partition} was delivered.`);
    this.#inFlight.add(partition);
    try {
      let previous: bigint | undefined;
      for (const m of messages) {
        let offset: bigint;
        try {
          offset = BigInt(m.offset);
        } catch {
          this.violations.push(`Offset "${m.offset}" is not a decimal string.`);
          continue;
        }
        if (previous !== undefined && offset <= previous)
          this.violations.push(
            `Offsets within a batch of ${partition} do not increase: ${previous} then ${offset}.`,
          );
        previous = offset;
        const payload = text(m.payload);
        const last = this.#last.get(partition);
        if (last !== undefined && offset <= last) {
          // The core drops it as a duplicate; losing a message never seen is a violation.
          if (!this.#seen.has(payload))
            this.violations.push(
              `Message at offset ${offset} of ${partition} would be dropped as a duplicate (the partition already accepted offset ${last}) although it was never delivered before: a source whose offsets restart must revoke and re-assign the partition first.`,
            );
          continue;
        }
        this.#last.set(partition, offset);
        this.#seen.add(payload);
        this.accepted.push({ partition, offset: m.offset, payload });
      }
      await this.onDeliver?.(batch);
    } finally {
      this.#inFlight.delete(partition);
    }
  }
}

/** A connected source with its handler, running until `stop`. */
interface Running {
  readonly source: SourceInstance;
  readonly handler: CheckingHandler;
  readonly signal: AbortSignal;
  /** The `run` promise (settles with its outcome, never rejects). */
  readonly done: Promise<{ error?: unknown }>;
  stop(): Promise<{ error?: unknown }>;
}

async function connect(h: SourceContractHarness): Promise<SourceInstance> {
  const source = await h.target.createSource();
  violation(
    typeof source?.run === 'function',
    'createSource() must return a source instance (with connect, run, commit, close).',
  );
  await within(
    source.connect(AbortSignal.timeout(h.waitMs)),
    h.waitMs,
    'connect() did not resolve',
  );
  return source;
}

async function start(
  h: SourceContractHarness,
  once: boolean,
  handler = new CheckingHandler(),
): Promise<Running> {
  const source = await connect(h);
  const controller = new AbortController();
  const done = source.run(handler, { once, signal: controller.signal }).then(
    () => ({}),
    (error: unknown) => ({ error }),
  );
  return {
    source,
    handler,
    signal: controller.signal,
    done,
    async stop() {
      controller.abort();
      const outcome = await within(done, h.waitMs, 'run() did not return after the signal aborted');
      await source.close(AbortSignal.timeout(h.waitMs));
      return outcome;
    },
  };
}

/** Runs `once` to its end; returns the handler. */
async function runOnce(h: SourceContractHarness, handler = new CheckingHandler()) {
  const r = await start(h, true, handler);
  const outcome = await within(r.done, h.waitMs, 'run({ once: true }) did not return');
  await r.source.close(AbortSignal.timeout(h.waitMs));
  violation(!outcome.error, `run({ once: true }) rejected: ${String(outcome.error)}`);
  return { source: r.source, handler };
}

function noViolations(handler: CheckingHandler, when: string): void {
  violation(
    handler.violations.length === 0,
    `${when}: ${handler.violations.join(' ')} Calls: ${handler.calls.join(' | ')}`,
  );
}

function samePayloads(got: readonly string[], want: readonly string[], when: string): void {
  const name = (p: string) => (JSON.parse(p) as { data: { name: string }[] }).data[0]?.name;
  violation(
    got.length === want.length && got.every((p, i) => p === want[i]),
    `${when}: delivered ${JSON.stringify(got.map(name))}, expected ${JSON.stringify(want.map(name))} in this order.`,
  );
}

/**
 * The source contract tests, by name. Each can be run alone (`tests: ['onceEnds']`); together
 * they are the source half of DESIGN.md §5 and `SourceInstance`/`SourceHandler`'s TSDoc.
 */
export const sourceContractTests = {
  onceEnds: {
    title: '`once` delivers what is there in order and returns (also on an empty stream)',
    needs: ['reset', 'publish'],
    async run(h) {
      await h.target.reset!();
      const empty = await runOnce(h);
      violation(
        empty.handler.accepted.length === 0,
        `run({ once: true }) on an empty stream delivered ${empty.handler.accepted.length} messages.`,
      );
      const sent = messages(5, 'once');
      await h.target.publish!(sent);
      const { handler } = await runOnce(h);
      noViolations(handler, 'once');
      samePayloads(handler.payloads(), sent, 'run({ once: true }) after publishing five messages');
    },
  },
  resumesFromCommit: {
    title: 'a new instance resumes from the committed offset: nothing before it, nothing lost',
    needs: ['reset', 'publish'],
    async run(h) {
      await h.target.reset!();
      const sent = messages(6, 'resume');
      await h.target.publish!(sent);
      const first = new CheckingHandler();
      const r = await start(h, true, first);
      const outcome = await within(r.done, h.waitMs, 'run({ once: true }) did not return');
      violation(!outcome.error, `run({ once: true }) rejected: ${String(outcome.error)}`);
      noViolations(first, 'first run');
      samePayloads(first.payloads(), sent, 'first run');
      // The core applied the first three messages: it commits the offset after the third.
      const third = first.accepted[2]!;
      await r.source.commit(third.partition, (BigInt(third.offset) + 1n).toString());
      await r.source.close(AbortSignal.timeout(h.waitMs));

      const { handler: second } = await runOnce(h);
      noViolations(second, 'run after the commit');
      samePayloads(
        second.payloads(),
        sent.slice(3),
        `After committing offset ${BigInt(third.offset) + 1n} of ${third.partition}, a new instance`,
      );
    },
  },
  oneDeliverPerPartition: {
    title: 'one deliver at a time per partition: the source waits for each deliver',
    needs: ['reset', 'publish'],
    async run(h) {
      await h.target.reset!();
      const sent = messages(40, 'serial');
      for (let i = 0; i < sent.length; i += 10) await h.target.publish!(sent.slice(i, i + 10));
      const handler = new CheckingHandler();
      let finished = 0;
      // Each deliver takes a while (several turns of the event loop and a timer).
      handler.onDeliver = async () => {
        await sleep(5);
        finished += 1;
      };
      await runOnce(h, handler);
      noViolations(handler, 'slow delivers');
      samePayloads(handler.payloads(), sent, 'run({ once: true }) with slow delivers');
      violation(finished > 0, 'No deliver finished.');
    },
  },
  revokeWhileDeliverPending: {
    title:
      'revoke while a deliver is pending: revoked is called without waiting for it, and nothing is delivered after',
    needs: ['reset', 'publish', 'sharedGroup'],
    async run(h) {
      await h.target.reset!();
      const sent = messages(3, 'revoke');
      await h.target.publish!(sent);
      const handler = new CheckingHandler();
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let revokedWhilePending = false;
      let revokedAt: number | undefined;
      handler.onDeliver = () => held; // back-pressure: the core holds the first delivery
      handler.onRevoked = () => {
        revokedWhilePending ||= handler.pending();
        revokedAt ??= handler.calls.length;
        release(); // the core abandons the held work once revoked is called
      };
      const first = await start(h, false, handler);
      let second: Running | undefined;
      try {
        await waitUntil(() => handler.pending(), h.waitMs, 'The first instance delivered nothing');
        // A second member joins the group: the first must give its partitions up.
        second = await start(h, false);
        await waitUntil(
          () => revokedAt !== undefined,
          h.waitMs,
          'revoked() was not called while a deliver was pending: the source must not wait for a pending deliver before revoking',
        );
        violation(
          revokedWhilePending,
          'revoked() was called only after the pending deliver resolved.',
        );
      } finally {
        release();
        const outcomes = await Promise.all([first.stop(), second?.stop()]);
        for (const o of outcomes)
          violation(!o?.error, `run() rejected during the rebalance: ${String(o?.error)}`);
      }
      noViolations(handler, 'the revoked instance');
    },
  },
  restartedOffsetsNotDropped: {
    title:
      'restarted offsets are not dropped: after a reconnect the partition is revoked and re-assigned first',
    needs: ['reset', 'publish', 'breakConnection', 'restartingOffsets'],
    async run(h) {
      await h.target.reset!();
      const before = messages(3, 'before-restart');
      const after = messages(3, 'after-restart');
      await h.target.publish!(before);
      const r = await start(h, false);
      try {
        await waitUntil(
          () => r.handler.accepted.length >= before.length,
          h.waitMs,
          `Only ${r.handler.accepted.length} of ${before.length} messages were delivered`,
        );
        await h.target.breakConnection!(r.source);
        await h.target.publish!(after);
        await waitUntil(
          () =>
            after.every((p) => r.handler.payloads().includes(p)) || r.handler.violations.length > 0,
          h.waitMs,
          `The messages published after the reconnect were not delivered (accepted ${r.handler.accepted.length})`,
        );
      } finally {
        const outcome = await r.stop();
        violation(!outcome.error, `run() rejected: ${String(outcome.error)}`);
      }
      noViolations(r.handler, 'after offsets restarted');
    },
  },
  reconnect: {
    title: 'reconnect: after the connection breaks, run goes on and delivers what comes next',
    needs: ['reset', 'publish', 'breakConnection'],
    async run(h) {
      await h.target.reset!();
      const before = messages(3, 'before-break');
      const after = messages(3, 'after-break');
      await h.target.publish!(before);
      const r = await start(h, false);
      try {
        await waitUntil(
          () => r.handler.accepted.length >= before.length,
          h.waitMs,
          `Only ${r.handler.accepted.length} of ${before.length} messages were delivered`,
        );
        await h.target.breakConnection!(r.source);
        await h.target.publish!(after);
        let ended: { error?: unknown } | undefined;
        void r.done.then((o) => (ended = o));
        await waitUntil(
          () => after.every((p) => r.handler.payloads().includes(p)) || ended !== undefined,
          h.waitMs,
          'The messages published after the connection broke were not delivered',
        );
        violation(
          ended === undefined,
          `run() ended after the connection broke instead of reconnecting: ${String(ended?.error ?? 'it resolved')}`,
        );
      } finally {
        await r.stop();
      }
      noViolations(r.handler, 'across the reconnect');
    },
  },
  stopsOnAbort: {
    title:
      'stops on abort: run resolves promptly, and idling adds no listeners to the signal (no leak per poll)',
    async run(h) {
      await h.target.reset?.();
      const r = await start(h, false);
      const counts: number[] = [];
      // Idle for a while: a loop that adds an abort listener per poll shows up as a growing count.
      const until = Date.now() + 600;
      while (Date.now() < until) {
        await sleep(30);
        counts.push(getEventListeners(r.signal, 'abort').length);
      }
      const outcome = await r.stop();
      violation(
        !outcome.error,
        `run() rejected on abort instead of resolving: ${String(outcome.error)}`,
      );
      violation(
        Math.max(...counts) <= 10,
        `The run signal collected up to ${Math.max(...counts)} abort listeners while idle (${counts.join(',')}): a listener added per poll is never removed (MaxListenersExceededWarning, memory growing for as long as the process runs).`,
      );
      noViolations(r.handler, 'while idle');
    },
  },
} satisfies Record<string, SourceContractTest>;

/** The name of one source contract test. */
export type SourceContractTestName = keyof typeof sourceContractTests;

/** Every source contract test name, in the order the suite runs them. */
export const SOURCE_CONTRACT_TEST_NAMES = Object.keys(
  sourceContractTests,
) as SourceContractTestName[];

/** Why `test` cannot run against `target`, or undefined when it can. */
export function missingSourceHooks(
  test: SourceContractTest,
  target: SourceContractTarget,
): SourceContractHook[] {
  return (test.needs ?? []).filter((hook) => !target[hook]);
}

/**
 * Registers the source contract suite with vitest: one `describe(name)` with one `it` per
 * selected test. Call it at the top level of a test file. Tests that need a hook or capability
 * the target does not have are registered as skipped, with what they need in the title.
 *
 * @throws Error at registration for an unknown test name in `tests` or `skip`.
 */
export function runSourceContractSuite(options: SourceContractOptions): void {
  const selected = options.tests ?? SOURCE_CONTRACT_TEST_NAMES;
  for (const name of [...selected, ...(options.skip ?? [])]) {
    if (!(name in sourceContractTests)) {
      throw new Error(
        `Unknown source contract test "${String(name)}"; known: ${SOURCE_CONTRACT_TEST_NAMES.join(', ')}.`,
      );
    }
  }
  const harness: SourceContractHarness = {
    target: options.target,
    waitMs: options.waitMs ?? 20_000,
  };
  describe(options.name, () => {
    for (const name of selected) {
      const test: SourceContractTest = sourceContractTests[name];
      const missing = missingSourceHooks(test, options.target);
      if (options.skip?.includes(name) || missing.length > 0) {
        const why = missing.map((hook) => `target.${hook}`).join(', ');
        it.skip(`${name}: ${test.title}${why ? ` (needs ${why})` : ''}`, () => {});
        continue;
      }
      it(`${name}: ${test.title}`, () => test.run(harness), options.timeoutMs ?? 60_000);
    }
  });
}
