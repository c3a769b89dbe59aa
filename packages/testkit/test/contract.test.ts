import { describe, expect, it } from 'vitest';
import {
  APPLIED,
  NotConnectedError,
  SinkClosedError,
  allApplied,
  type RowChangeEvent,
  type SinkInstance,
  type SinkRecord,
  type WriteResult,
} from '@sluice/plugin-api';
import {
  CONTRACT_TEST_NAMES,
  ContractViolation,
  MemorySink,
  MemoryTarget,
  checkWriteResult,
  runSinkContractSuite,
  sinkContractTests,
  type ContractHarness,
  type ContractTest,
  type ContractTestName,
} from '../src/index.js';

/** A memory sink with one behaviour broken by `patch`. */
function harness(patch: (sink: MemorySink) => Partial<SinkInstance>): ContractHarness {
  const target = new MemoryTarget();
  target.reject = (event) =>
    event.kind === 'row' && event.after?.['name'] === '☠' ? 'poison' : undefined;
  return {
    database: 'sluice_contract',
    table: 'items',
    target: {
      createSink: () => {
        const sink = new MemorySink(target);
        const overrides = patch(sink);
        return {
          connect: () => sink.connect(),
          write: (b) => sink.write(b),
          flush: () => sink.flush(),
          close: () => sink.close(),
          ...overrides,
        } as SinkInstance;
      },
      reset: async () => target.clear(),
      readState: async () => target.table('sluice_contract', 'items'),
      poison: (event: RowChangeEvent) => ({ ...event, after: { ...event.after, name: '☠' } }),
      disconnect: async (sink) => {
        void sink;
        for (const s of disconnectable) s.disconnect();
      },
    },
  };
}
const disconnectable: MemorySink[] = [];

async function violationOf(name: ContractTestName, h: ContractHarness): Promise<Error> {
  const error = await sinkContractTests[name].run(h).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `contract test "${name}" should fail`).toBeInstanceOf(Error);
  return error as Error;
}

describe('the contract suite catches broken sinks', () => {
  it('a write that leaves an event out', async () => {
    const h = harness((sink) => ({ write: async (b) => (await sink.write(b)).slice(1) }));
    expect((await violationOf('outcomes', h)).message).toMatch(
      /returned 3 outcomes for 4 records.*never a success/,
    );
  });

  it('a write that reports success without applying (not idempotent / lost writes)', async () => {
    const h = harness(() => ({ write: async (b: readonly SinkRecord[]) => allApplied(b) }));
    expect(await violationOf('idempotentUpsert', h)).toBeInstanceOf(ContractViolation);
  });

  it('a sink that appends instead of upserting when a batch is written twice', async () => {
    let written = 0;
    const h = harness((sink) => ({
      write: async (b) => {
        written += 1;
        // From the second call on, rename every row: the replay changes the state.
        const changed =
          written > 1
            ? b.map((r) => ({
                ...r,
                event: {
                  ...r.event,
                  after: { ...(r.event as RowChangeEvent).after, name: 'dup' },
                } as RowChangeEvent,
              }))
            : b;
        return sink.write(changed);
      },
    }));
    expect((await violationOf('idempotentUpsert', h)).message).toContain('same batch twice');
  });

  it('a sink that ignores deletes', async () => {
    const h = harness((sink) => ({
      write: async (b) =>
        sink
          .write(b.filter((r) => r.event.type !== 'DELETE'))
          .then((r) => (r.length < b.length ? allApplied(b) : r)),
    }));
    expect(await violationOf('delete', h)).toBeInstanceOf(ContractViolation);
  });

  it('a sink that applies a batch in reverse', async () => {
    const h = harness((sink) => ({
      write: async (b) => (await sink.write([...b].reverse())).slice().reverse(),
    }));
    expect(await violationOf('perKeyOrder', h)).toBeInstanceOf(ContractViolation);
  });

  it("a sink that keys an update by its new key only (canal-adapter's PK-change bug)", async () => {
    const h = harness((sink) => ({
      write: async (b) =>
        sink.write(
          b.map((r) =>
            r.event.type === 'UPDATE'
              ? {
                  ...r,
                  event: {
                    ...r.event,
                    before: (r.event as RowChangeEvent).after,
                  } as RowChangeEvent,
                }
              : r,
          ),
        ),
    }));
    expect((await violationOf('pkChange', h)).message).toContain('PK changes');
  });

  it('a sink that fails the whole batch for one poisoned event', async () => {
    const h = harness((sink) => ({
      write: async (b) => {
        const result = await sink.write(b);
        return result.some((o) => o.status === 'failed')
          ? result.map(() => result.find((o) => o.status === 'failed')!)
          : result;
      },
    }));
    expect((await violationOf('partialFailure', h)).message).toContain('only record 2');
  });

  it('a sink that accepts writes after close', async () => {
    const h = harness((sink) => ({
      write: async (b) => (sink.calls.includes('close') ? allApplied(b) : sink.write(b)),
      close: async () => void sink.calls.push('close'),
    }));
    expect((await violationOf('writeAfterClose', h)).message).toContain('SinkClosedError');
  });

  it('a close that is not idempotent', async () => {
    const h = harness((sink) => {
      let closed = false;
      return {
        close: async () => {
          if (closed) throw new SinkClosedError('closed twice');
          closed = true;
          await sink.close();
        },
      };
    });
    expect((await violationOf('flushBeforeClose', h)).message).toContain('closed twice');
  });

  it('a sink that loses writes made before flush', async () => {
    const target = new MemoryTarget();
    const h: ContractHarness = {
      database: 'sluice_contract',
      table: 'items',
      target: {
        createSink: () => new MemorySink(target),
        reset: async () => target.clear(),
        // Reads a table nobody writes: the target looks empty.
        readState: async () => target.table('sluice_contract', 'other'),
      },
    };
    expect(await violationOf('flushBeforeClose', h)).toBeInstanceOf(ContractViolation);
  });

  it('a sink that cannot come back after a disconnect', async () => {
    const h = harness((sink) => {
      disconnectable.push(sink);
      return { connect: async () => {} };
    });
    expect(await violationOf('reconnect', h)).toBeInstanceOf(NotConnectedError);
  });

  it('a sink whose write never reports NotConnected but a fatal error after a disconnect', async () => {
    const h = harness((sink) => {
      disconnectable.push(sink);
      return {
        write: async (b) =>
          sink.connected ? sink.write(b) : Promise.reject(new SinkClosedError('gone')),
      };
    });
    expect((await violationOf('reconnect', h)).message).toContain('got fatal');
  });

  it('a sink whose INSERT fails when the row exists (not replay-safe)', async () => {
    const h = harness((sink) => ({
      write: async (b) => {
        const rows = sink.target.table('sluice_contract', 'items');
        const dup = b.map(
          (r) =>
            r.event.type === 'INSERT' &&
            rows.has(String((r.event as RowChangeEvent).after?.['id'])),
        );
        const result = await sink.write(b);
        return result.map((o, i) =>
          dup[i] ? { status: 'failed' as const, error: new Error('Duplicate entry') } : o,
        );
      },
    }));
    expect((await violationOf('replayConverges', h)).message).toContain('Duplicate entry');
  });

  it('a sink that drops the writes of a new instance (state lost across a restart)', async () => {
    let instances = 0;
    const h = harness((sink) =>
      ++instances > 1 ? { write: async (b) => allApplied(b) } : { write: (b) => sink.write(b) },
    );
    expect((await violationOf('replayConverges', h)).message).toContain('after a restart');
  });
});

describe('write-only sinks (no readState)', () => {
  /** A harness like {@link harness} whose target cannot be read back. */
  const writeOnly = (patch: (sink: MemorySink) => Partial<SinkInstance>): ContractHarness => {
    const h = harness(patch);
    const { readState: _readState, ...target } = h.target;
    return { ...h, target };
  };

  it('the tests about the target state need readState; the others do not', () => {
    const needing = CONTRACT_TEST_NAMES.filter((n) =>
      (sinkContractTests[n] as ContractTest).needs?.includes('readState'),
    );
    expect(needing).toEqual([
      'idempotentUpsert',
      'delete',
      'perKeyOrder',
      'pkChange',
      'replayConverges',
    ]);
  });

  it('the other tests pass for a good write-only sink', async () => {
    const h = writeOnly(() => ({}));
    for (const name of [
      'outcomes',
      'concurrentWrites',
      'flushBeforeClose',
      'writeAfterClose',
      'partialFailure',
    ] as const)
      await sinkContractTests[name].run(h);
  });

  it('still catches a write-only sink that accepts writes after close', async () => {
    const h = writeOnly((sink) => ({
      write: async (b) => (sink.calls.includes('close') ? allApplied(b) : sink.write(b)),
      close: async () => void sink.calls.push('close'),
    }));
    expect((await violationOf('writeAfterClose', h)).message).toContain('SinkClosedError');
  });

  it('still catches a write-only sink that leaves an event out', async () => {
    const h = writeOnly((sink) => ({ write: async (b) => (await sink.write(b)).slice(1) }));
    expect(await violationOf('outcomes', h)).toBeInstanceOf(ContractViolation);
  });
});

describe('checkWriteResult', () => {
  const batch = [1, 2];
  it.each<[string, unknown]>([
    ['not an array', { 0: APPLIED }],
    ['too short', [APPLIED]],
    ['too long', [APPLIED, APPLIED, APPLIED]],
    ['a bad status', [APPLIED, { status: 'ok' }]],
    ['failed without an Error', [APPLIED, { status: 'failed', error: 'nope' }]],
    ['undefined entries', [APPLIED, undefined]],
  ])('rejects a result that is %s', (_what, result) => {
    expect(() => checkWriteResult(batch, result)).toThrow(ContractViolation);
  });

  it('accepts one valid outcome per record', () => {
    const result: WriteResult = [APPLIED, { status: 'failed', error: new Error('x') }];
    expect(checkWriteResult(batch, result)).toBe(result);
  });
});

describe('runSinkContractSuite', () => {
  it('refuses an unknown test name at registration', () => {
    const target = new MemoryTarget();
    expect(() =>
      runSinkContractSuite({
        name: 'x',
        tests: ['nope' as ContractTestName],
        target: {
          createSink: () => new MemorySink(target),
          reset: async () => {},
          readState: async () => new Map(),
        },
      }),
    ).toThrow(/Unknown sink contract test "nope"; known: outcomes/);
  });

  it('lists every test by name', () => {
    expect(CONTRACT_TEST_NAMES).toEqual([
      'outcomes',
      'idempotentUpsert',
      'delete',
      'perKeyOrder',
      'pkChange',
      'partialFailure',
      'concurrentWrites',
      'flushBeforeClose',
      'writeAfterClose',
      'reconnect',
      'replayConverges',
    ]);
  });
});
