import { describe, it } from 'vitest';
import {
  ErrorCodes,
  classifyError,
  isSluiceError,
  type ChangeEvent,
  type MappingFile,
  type RowChangeEvent,
  type SinkInstance,
  type SinkRecord,
  type WriteResult,
} from '@sluice/plugin-api';
import { EventBuilder } from './events.js';
import { applyEvent, type Row, type TableState } from './model.js';

/** The columns of the contract table, all written as text: `id` (the primary key), `name`, `qty`. */
export const CONTRACT_COLUMNS = ['id', 'name', 'qty'] as const;

/**
 * What the contract suite needs to drive a sink and look at its target. Everything is called from
 * one test at a time (tests run sequentially).
 */
export interface SinkContractTarget<M = unknown> {
  /**
   * Builds a new, unconnected instance writing to the target (typically `definition.create(...)`).
   * Called once per test, twice in `replayConverges` (a restart); the suite connects and closes it.
   */
  createSink(): SinkInstance<M> | Promise<SinkInstance<M>>;
  /** Empties the target (drops the contract table's rows). Called before every test. */
  reset(): Promise<void>;
  /**
   * The rows of the contract table (`database`.`table` of the options) as the target holds them,
   * by the `id` value as text. Columns beyond `id`, `name`, `qty` are ignored; values may be
   * numbers (they are compared as text). Called after `flush`.
   *
   * Optional, for write-only sinks (a logger, a webhook) whose target cannot be read back: the
   * tests that are about the target's state (`needs: readState`) are then skipped and reported as
   * such, and the others run without their final state check.
   */
  readState?(): Promise<ReadonlyMap<string, Readonly<Record<string, unknown>>>>;
  /** The mapping every record carries (sinks with mapping files); `undefined` otherwise. */
  readonly mapping?: MappingFile<M>;
  /**
   * Turns a valid INSERT into one this sink must reject permanently (e.g. a value violating a
   * constraint, a row without a primary key). Without it, `partialFailure` is skipped.
   */
  poison?(event: RowChangeEvent): ChangeEvent;
  /**
   * Breaks the connection of `sink` (e.g. kill its database session) so that its next `write`
   * rejects with `NotConnectedError` (or the sink reconnects by itself). Without it, `reconnect`
   * is skipped.
   */
  disconnect?(sink: SinkInstance<M>): Promise<void>;
}

/** Options of {@link runSinkContractSuite}. */
export interface SinkContractOptions<M = unknown> {
  /** Title of the `describe` block, e.g. `jsonl sink contract`. */
  readonly name: string;
  /** How to drive the sink under test. */
  readonly target: SinkContractTarget<M>;
  /** Run only these tests (default: all of {@link sinkContractTests}). */
  readonly tests?: readonly ContractTestName[];
  /** Skip these tests (say why in a comment next to the call). */
  readonly skip?: readonly ContractTestName[];
  /** Database of the events. Default `sluice_contract`. */
  readonly database?: string;
  /** Table of the events. Default `items`. */
  readonly table?: string;
  /** Per-test timeout, ms. Default 30 000. */
  readonly timeoutMs?: number;
}

/** What one contract test receives. */
export interface ContractHarness<M = unknown> {
  readonly target: SinkContractTarget<M>;
  readonly database: string;
  readonly table: string;
}

/** An optional hook of {@link SinkContractTarget} a contract test may need. */
export type SinkContractHook = 'poison' | 'disconnect' | 'readState';

/** One named contract test. */
export interface ContractTest {
  /** The title shown by vitest. */
  readonly title: string;
  /** The target hooks it needs; skipped (and reported as skipped) when the target lacks one. */
  readonly needs?: readonly SinkContractHook[];
  /** Runs the test; rejects with a message explaining the violated rule. */
  run<M>(harness: ContractHarness<M>): Promise<void>;
}

/** A violation of the sink contract, with the rule that was broken. */
export class ContractViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContractViolation';
  }
}

function violation(condition: unknown, message: string): asserts condition {
  if (!condition) throw new ContractViolation(message);
}

const text = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/** Checks a write's result: one valid outcome per record. */
export function checkWriteResult(batch: readonly unknown[], result: unknown): WriteResult {
  violation(
    Array.isArray(result),
    `write() must resolve with an array of outcomes, got ${JSON.stringify(result)}.`,
  );
  violation(
    result.length === batch.length,
    `write() returned ${result.length} outcomes for ${batch.length} records: every record needs an outcome (an event left out is an error, never a success).`,
  );
  result.forEach((outcome: unknown, i) => {
    const o = outcome as { status?: unknown; error?: unknown } | null;
    violation(
      o?.status === 'applied' || o?.status === 'failed',
      `Outcome ${i} has no status "applied" or "failed": ${JSON.stringify(outcome)}.`,
    );
    if (o.status === 'failed')
      violation(o.error instanceof Error, `Outcome ${i} is "failed" without an Error.`);
  });
  return result as WriteResult;
}

/** Compares the target with the expected rows (contract columns only, as text). */
async function expectState(
  harness: ContractHarness,
  expected: TableState,
  when: string,
): Promise<void> {
  // Write-only targets: the tests that only end with a state check run without it.
  if (!harness.target.readState) return;
  const actual = await harness.target.readState();
  const norm = (row: Readonly<Record<string, unknown>> | undefined) =>
    row &&
    Object.fromEntries(
      CONTRACT_COLUMNS.filter((c) => c in row || c === 'id').map((c) => [c, text(row[c])]),
    );
  const want = Object.fromEntries([...expected].map(([k, r]) => [k, norm(r)]));
  const got = Object.fromEntries([...actual].map(([k, r]) => [String(k), norm(r)]));
  const sort = (o: object) =>
    JSON.stringify(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
  violation(
    sort(want) === sort(got),
    `${when}: the target holds ${sort(got)}, expected ${sort(want)}.`,
  );
}

interface Session<M> {
  readonly sink: SinkInstance<M>;
  readonly signal: AbortSignal;
  write(events: readonly ChangeEvent[]): Promise<WriteResult>;
}

function fixtures(h: ContractHarness) {
  return new EventBuilder({ destination: 'contract', database: h.database, pkNames: ['id'] });
}

const row = (id: number | string, name: string, qty: number | string = 1): Row => ({
  id: String(id),
  name,
  qty: String(qty),
});

/** The expected rows after `events`, by the reference model. */
function model(h: ContractHarness, events: readonly ChangeEvent[]): TableState {
  const tables = new Map<string, TableState>();
  for (const e of events) applyEvent(tables, e);
  return tables.get(`${h.database}.${h.table}`) ?? new Map();
}

async function open<M>(h: ContractHarness<M>): Promise<Session<M>> {
  const signal = new AbortController().signal;
  const sink = await h.target.createSink();
  violation(
    typeof sink?.write === 'function',
    'createSink() must return a sink instance (with write, flush, close).',
  );
  await sink.connect(signal);
  return {
    sink,
    signal,
    async write(events) {
      const batch: SinkRecord<M>[] = events.map((event) => ({ event, mapping: h.target.mapping }));
      return checkWriteResult(batch, await sink.write(batch, signal));
    },
  };
}

/** Runs `fn` with a connected sink on an empty target, and closes the sink afterwards. */
async function withSink<M>(
  h: ContractHarness<M>,
  fn: (s: Session<M>) => Promise<void>,
): Promise<void> {
  await h.target.reset();
  const session = await open(h);
  try {
    await fn(session);
  } finally {
    await session.sink.close(session.signal);
  }
}

function allAppliedOrThrow(result: WriteResult, what: string): void {
  const bad = result.findIndex((o) => o.status !== 'applied');
  violation(
    bad < 0,
    `${what}: record ${bad} failed (${result[bad]?.status === 'failed' ? result[bad].error.message : ''}), expected every record applied.`,
  );
}

async function rejects(promise: Promise<unknown>, rule: string): Promise<unknown> {
  return promise.then(
    () => {
      throw new ContractViolation(`${rule}, but it resolved.`);
    },
    (error: unknown) => error,
  );
}

/**
 * The contract tests, by name. Each can be run alone (`tests: ['delete']`); together they are
 * what DESIGN.md §5 requires of every sink.
 */
export const sinkContractTests = {
  outcomes: {
    title: 'write returns one outcome per record (inserts, updates, deletes and a DDL)',
    async run(h) {
      await withSink(h, async (s) => {
        const ev = fixtures(h);
        const a = row(1, 'a');
        const events = [
          ev.insert(h.table, a),
          ev.update(h.table, a, row(1, 'b')),
          ev.ddl(h.table, `ALTER TABLE ${h.table} ADD COLUMN x int`),
          ev.delete(h.table, row(1, 'b')),
        ];
        const result = await s.write(events);
        [0, 1, 3].forEach((i) =>
          violation(result[i]?.status === 'applied', `Row event ${i} was not applied.`),
        );
      });
    },
  },
  idempotentUpsert: {
    title: 'idempotent upsert: the same batch twice gives the same state',
    needs: ['readState'],
    async run(h) {
      await withSink(h, async (s) => {
        const ev = fixtures(h);
        const events = [
          ev.insert(h.table, row(1, 'a')),
          ev.insert(h.table, row(2, 'b', 5)),
          ev.update(h.table, row(1, 'a'), row(1, 'a2', 3)),
          ev.insert(h.table, row(3, 'c', 0)),
        ];
        allAppliedOrThrow(await s.write(events), 'first write');
        await s.sink.flush(s.signal);
        await expectState(h, model(h, events), 'after the first write');
        allAppliedOrThrow(await s.write(events), 'the same batch again');
        await s.sink.flush(s.signal);
        await expectState(h, model(h, events), 'after writing the same batch twice');
      });
    },
  },
  delete: {
    title: 'delete removes the row, and deleting a missing row succeeds',
    needs: ['readState'],
    async run(h) {
      await withSink(h, async (s) => {
        const ev = fixtures(h);
        const inserts = [ev.insert(h.table, row(1, 'a')), ev.insert(h.table, row(2, 'b'))];
        allAppliedOrThrow(await s.write(inserts), 'inserts');
        const del = [ev.delete(h.table, row(1, 'a'))];
        allAppliedOrThrow(await s.write(del), 'delete');
        allAppliedOrThrow(await s.write(del), 'the same delete again');
        allAppliedOrThrow(
          await s.write([ev.delete(h.table, row(99, 'never'))]),
          'delete of a row that never existed',
        );
        await s.sink.flush(s.signal);
        await expectState(h, model(h, [...inserts, ...del]), 'after deletes');
      });
    },
  },
  perKeyOrder: {
    title: 'per-key order: events of one key apply in order, within and across batches',
    needs: ['readState'],
    async run(h) {
      await withSink(h, async (s) => {
        const ev = fixtures(h);
        const first = [
          ev.insert(h.table, row(1, 'v1')),
          ev.update(h.table, row(1, 'v1'), row(1, 'v2')),
          ev.insert(h.table, row(2, 'x')),
          ev.update(h.table, row(1, 'v2'), row(1, 'v3', 2)),
          ev.delete(h.table, row(2, 'x')),
          ev.insert(h.table, row(2, 'y')),
        ];
        const second = [
          ev.delete(h.table, row(1, 'v3', 2)),
          ev.insert(h.table, row(1, 'v4', 4)),
          ev.update(h.table, row(2, 'y'), row(2, 'z')),
        ];
        allAppliedOrThrow(await s.write(first), 'first batch');
        allAppliedOrThrow(await s.write(second), 'second batch');
        await s.sink.flush(s.signal);
        await expectState(
          h,
          model(h, [...first, ...second]),
          'after ordered updates of the same keys',
        );
      });
    },
  },
  pkChange: {
    title: 'primary-key change moves the row to its new key',
    needs: ['readState'],
    async run(h) {
      await withSink(h, async (s) => {
        const ev = fixtures(h);
        const events = [
          ev.insert(h.table, row(1, 'a')),
          ev.insert(h.table, row(2, 'b')),
          ev.update(h.table, row(1, 'a'), row(10, 'a')),
          ev.update(h.table, row(10, 'a'), row(11, 'a2')),
        ];
        allAppliedOrThrow(await s.write(events), 'PK-changing updates');
        await s.sink.flush(s.signal);
        const want = model(h, events);
        violation(!want.has('1') && want.has('11'), 'reference model broken');
        await expectState(h, want, 'after PK changes 1 → 10 → 11');
      });
    },
  },
  partialFailure: {
    title: 'a batch with one permanently failing event: the others apply, only that one fails',
    needs: ['poison'],
    async run(h) {
      await withSink(h, async (s) => {
        const ev = fixtures(h);
        const good = [ev.insert(h.table, row(1, 'a')), ev.insert(h.table, row(2, 'b'))];
        const poisoned = h.target.poison!(ev.insert(h.table, row(3, 'poison')));
        const after = [
          ev.insert(h.table, row(4, 'd')),
          ev.update(h.table, row(1, 'a'), row(1, 'a2')),
        ];
        const result = await s.write([...good, poisoned, ...after]);
        result.forEach((o, i) =>
          violation(
            i === 2 ? o.status === 'failed' : o.status === 'applied',
            `Record ${i} is "${o.status}"; only record 2 (the poisoned one) should fail.`,
          ),
        );
        const failure = result[2] as { status: 'failed'; error: Error };
        violation(
          classifyError(failure.error) !== 'fatal',
          `The failed record's error must not be fatal: ${failure.error.message}`,
        );
        await s.sink.flush(s.signal);
        await expectState(
          h,
          model(h, [...good, ...after]),
          'after a batch with one poisoned event',
        );
      });
    },
  },
  concurrentWrites: {
    title: 'concurrent writes of different keys all apply',
    async run(h) {
      await withSink(h, async (s) => {
        const ev = fixtures(h);
        const lanes = [0, 1, 2].map((lane) =>
          [1, 2, 3].map((n) => ev.insert(h.table, row(lane * 10 + n, `lane${lane}`, n))),
        );
        const results = await Promise.all(lanes.map((batch) => s.write(batch)));
        results.forEach((r, i) => allAppliedOrThrow(r, `concurrent batch ${i}`));
        await s.sink.flush(s.signal);
        await expectState(h, model(h, lanes.flat()), 'after three concurrent batches');
      });
    },
  },
  flushBeforeClose: {
    title: 'flush before close makes every applied write durable; close is idempotent',
    async run(h) {
      await h.target.reset();
      const s = await open(h);
      const ev = fixtures(h);
      const events = [ev.insert(h.table, row(1, 'a')), ev.insert(h.table, row(2, 'b'))];
      allAppliedOrThrow(await s.write(events), 'write');
      await s.sink.flush(s.signal);
      await s.sink.close(s.signal);
      await s.sink.close(s.signal);
      await expectState(h, model(h, events), 'after flush and close');
    },
  },
  writeAfterClose: {
    title: 'write and flush after close reject with SinkClosedError',
    async run(h) {
      await h.target.reset();
      const s = await open(h);
      await s.sink.close(s.signal);
      const ev = fixtures(h);
      const batch = [{ event: ev.insert(h.table, row(1, 'late')), mapping: h.target.mapping }];
      const error = await rejects(
        s.sink.write(batch, s.signal),
        'write after close must reject with SinkClosedError',
      );
      violation(
        isSluiceError(error) && error.code === ErrorCodes.closed,
        `write after close must reject with SinkClosedError, got ${String(error)}.`,
      );
      const flushError = await rejects(
        s.sink.flush(s.signal),
        'flush after close must reject with SinkClosedError',
      );
      violation(
        isSluiceError(flushError) && flushError.code === ErrorCodes.closed,
        `flush after close must reject with SinkClosedError, got ${String(flushError)}.`,
      );
      await expectState(h, new Map(), 'after a write after close');
    },
  },
  reconnect: {
    title: 'reconnect after a not-connected error: connect again and the batch applies',
    needs: ['disconnect'],
    async run(h) {
      await withSink(h, async (s) => {
        const ev = fixtures(h);
        const before = [ev.insert(h.table, row(1, 'a'))];
        allAppliedOrThrow(await s.write(before), 'write before the disconnect');
        await h.target.disconnect!(s.sink);
        const batch = [
          ev.insert(h.table, row(2, 'b')),
          ev.update(h.table, row(1, 'a'), row(1, 'a2')),
        ];
        const outcome = await s.write(batch).then(
          (result) => ({ result }),
          (error: unknown) => ({ error }),
        );
        if ('error' in outcome) {
          const kind = classifyError(outcome.error);
          violation(
            kind === 'notConnected' || kind === 'retryable',
            `A write on a broken connection must fail with NotConnectedError (or a retryable error), got ${kind}: ${String(outcome.error)}.`,
          );
          await s.sink.connect(s.signal);
          allAppliedOrThrow(await s.write(batch), 'the same batch after connect');
        } else {
          allAppliedOrThrow(
            outcome.result,
            'write after the disconnect (the sink reconnected by itself)',
          );
        }
        await s.sink.flush(s.signal);
        await expectState(h, model(h, [...before, ...batch]), 'after reconnecting');
      });
    },
  },
  replayConverges: {
    title: 'replay from an earlier position (also after a restart) converges on the same state',
    needs: ['readState'],
    async run(h) {
      await h.target.reset();
      const ev = fixtures(h);
      const events = [
        ev.insert(h.table, row(1, 'a')),
        ev.insert(h.table, row(2, 'b')),
        ev.update(h.table, row(1, 'a'), row(1, 'a2')),
        ev.delete(h.table, row(2, 'b')),
        ev.insert(h.table, row(3, 'c')),
        ev.update(h.table, row(3, 'c'), row(30, 'c')),
        ev.insert(h.table, row(2, 'b2', 7)),
        ev.update(h.table, row(1, 'a2'), row(1, 'a3', 9)),
      ];
      const want = model(h, events);
      // A first instance applies the first six events, then "crashes" (offsets were committed
      // only up to the second event).
      const first = await open(h);
      try {
        for (let i = 0; i < 6; i += 3)
          allAppliedOrThrow(await first.write(events.slice(i, i + 3)), `batch at ${i}`);
        await first.sink.flush(first.signal);
      } finally {
        await first.sink.close(first.signal);
      }
      // After the restart everything from the second event is delivered again, then the rest.
      const restarted = await open(h);
      try {
        allAppliedOrThrow(
          await restarted.write(events.slice(1, 5)),
          'replay after restart, first part',
        );
        allAppliedOrThrow(await restarted.write(events.slice(5)), 'replay after restart, rest');
        await restarted.sink.flush(restarted.signal);
        await expectState(h, want, 'after a restart and a replay from an earlier position');
        // A second replay of everything, on the same instance, changes nothing.
        allAppliedOrThrow(await restarted.write(events), 'replay of every event');
        await restarted.sink.flush(restarted.signal);
        await expectState(h, want, 'after replaying every event again');
      } finally {
        await restarted.sink.close(restarted.signal);
      }
    },
  },
} satisfies Record<string, ContractTest>;

/** The name of one contract test. */
export type ContractTestName = keyof typeof sinkContractTests;

/** Every contract test name, in the order the suite runs them. */
export const CONTRACT_TEST_NAMES = Object.keys(sinkContractTests) as ContractTestName[];

/**
 * Registers the sink contract suite with vitest: one `describe(name)` with one `it` per selected
 * test. Call it at the top level of a test file. Tests that need a target hook the target does
 * not have (`poison`, `disconnect`, `readState`) are registered as skipped, with the reason in
 * the title, so a write-only sink (no `readState`) still runs `outcomes`, `concurrentWrites`,
 * `flushBeforeClose`, `writeAfterClose` and (with `poison`/`disconnect`) the failure tests.
 *
 * @throws Error at registration for an unknown test name in `tests` or `skip`.
 */
export function runSinkContractSuite<M>(options: SinkContractOptions<M>): void {
  const selected = options.tests ?? CONTRACT_TEST_NAMES;
  for (const name of [...selected, ...(options.skip ?? [])]) {
    if (!(name in sinkContractTests)) {
      throw new Error(
        `Unknown sink contract test "${String(name)}"; known: ${CONTRACT_TEST_NAMES.join(', ')}.`,
      );
    }
  }
  const harness: ContractHarness<M> = {
    target: options.target,
    database: options.database ?? 'sluice_contract',
    table: options.table ?? 'items',
  };
  describe(options.name, () => {
    for (const name of selected) {
      const test: ContractTest = sinkContractTests[name];
      const missing = (test.needs ?? []).filter((hook) => !options.target[hook]);
      if (options.skip?.includes(name) || missing.length > 0) {
        const why = missing.map((hook) => `target.${hook}`).join(', ');
        it.skip(`${name}: ${test.title}${why ? ` (needs ${why})` : ''}`, () => {});
        continue;
      }
      it(`${name}: ${test.title}`, () => test.run(harness), options.timeoutMs ?? 30_000);
    }
  });
}
