import { describe, expect, it } from 'vitest';
import type { SourceHandler, SourceInstance, SourceRunOptions } from '@sluice/plugin-api';
import {
  CheckingHandler,
  ContractViolation,
  MemorySource,
  SOURCE_CONTRACT_TEST_NAMES,
  runSourceContractSuite,
  sourceContractTests,
  type SourceContractHarness,
  type SourceContractTarget,
  type SourceContractTestName,
} from '../src/index.js';

/** Waits `ms` or until the signal aborts, leaving no listener behind. */
function idle(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** A MemorySource-backed target; `patch` breaks one behaviour of every instance it creates. */
function memoryTarget(
  patch: (source: MemorySource) => Partial<SourceInstance> = () => ({}),
): SourceContractTarget {
  let stream = new MemorySource({}, { batchSize: 4 });
  return {
    createSource: () => {
      const source = stream.restarted();
      return {
        connect: () => source.connect(),
        run: (h, o) => source.run(h, o),
        commit: (p, n) => source.commit(p, n),
        close: () => source.close(),
        ...patch(source),
      } as SourceInstance;
    },
    reset: async () => {
      stream = new MemorySource({}, { batchSize: 4 });
    },
    publish: async (payloads) => stream.push('0', ...payloads),
  };
}

/**
 * A queue whose offsets restart on every connection (like RabbitMQ delivery tags): what was
 * delivered is gone from the queue, the next connection numbers from 1 again. `breakConnection`
 * drops the connection; the source reconnects by itself. `announce` decides whether the source
 * starts a new incarnation (revoked + assigned) after reconnecting, as the API requires.
 */
function restartingTarget(behaviour: {
  announce: boolean;
  giveUp?: boolean;
}): SourceContractTarget {
  let queue: string[] = [];
  const broken = new Set<SourceInstance>();
  return {
    restartingOffsets: true,
    reset: async () => {
      queue = [];
    },
    publish: async (payloads) => void queue.push(...payloads),
    breakConnection: async (source) => void broken.add(source),
    createSource() {
      const source: SourceInstance = {
        async connect() {},
        async run(handler: SourceHandler, { once, signal }: SourceRunOptions) {
          await handler.assigned?.(['q']);
          let tag = 0;
          while (!signal.aborted) {
            if (broken.delete(source)) {
              if (behaviour.giveUp) return; // "connection lost", run just ends
              tag = 0; // a new channel: tags start again
              if (behaviour.announce) {
                await handler.revoked?.(['q']);
                await handler.assigned?.(['q']);
              }
            }
            const batch = queue.splice(0);
            if (batch.length > 0) {
              await handler.deliver({
                partition: 'q',
                messages: batch.map((payload) => ({ offset: String(++tag), payload })),
              });
            } else if (once) return;
            else await idle(5, signal);
          }
        },
        async commit() {},
        async close() {},
      };
      return source;
    },
  };
}

/**
 * A consumer group of instances sharing one partition: a member that starts running takes the
 * partition from the current owner. `waitForPending` makes the owner wait for its pending
 * deliver before calling `revoked` (the bug the API's `revoked` rule forbids).
 */
function groupTarget(waitForPending: boolean): SourceContractTarget {
  let messages: string[] = [];
  let members: { revoke(): Promise<void> }[] = [];
  return {
    sharedGroup: true,
    reset: async () => {
      messages = [];
      members = [];
    },
    publish: async (payloads) => void messages.push(...payloads),
    createSource() {
      let owner = false;
      let pending: Promise<void> | undefined;
      let handler: SourceHandler;
      const member = {
        async revoke() {
          if (waitForPending) await pending;
          owner = false;
          await handler.revoked?.(['p']);
        },
      };
      return {
        async connect() {},
        async run(h: SourceHandler, { once, signal }: SourceRunOptions) {
          handler = h;
          const previous = members;
          members = [member];
          for (const m of previous) await m.revoke();
          owner = true;
          await h.assigned?.(['p']);
          let cursor = 0;
          while (!signal.aborted) {
            if (owner && cursor < messages.length) {
              const batch = messages.slice(cursor).map((payload, i) => ({
                offset: String(cursor + i),
                payload,
              }));
              cursor = messages.length;
              pending = h.deliver({ partition: 'p', messages: batch });
              await pending;
              pending = undefined;
            } else if (once) return;
            else await idle(5, signal);
          }
        },
        async commit() {},
        async close() {},
      };
    },
  };
}

async function violationOf(
  name: SourceContractTestName,
  target: SourceContractTarget,
): Promise<Error> {
  const h: SourceContractHarness = { target, waitMs: 1000 };
  const error = await sourceContractTests[name].run(h).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `source contract test "${name}" should fail`).toBeInstanceOf(ContractViolation);
  return error as Error;
}

async function passes(name: SourceContractTestName, target: SourceContractTarget): Promise<void> {
  await sourceContractTests[name].run({ target, waitMs: 5000 });
}

// The in-memory source is the reference: it passes every test it has the hooks for.
runSourceContractSuite({ name: 'in-memory source contract', target: memoryTarget(), waitMs: 5000 });

describe('the source contract suite passes correct sources', () => {
  it('a source with restarting offsets that re-assigns the partition after reconnecting', async () => {
    await passes('restartedOffsetsNotDropped', restartingTarget({ announce: true }));
    await passes('reconnect', restartingTarget({ announce: true }));
  });

  it('a group member that revokes without waiting for its pending deliver', async () => {
    await passes('revokeWhileDeliverPending', groupTarget(false));
  });
});

describe('the source contract suite catches broken sources', () => {
  it('a source that starts from the beginning instead of the committed offset', async () => {
    const target = memoryTarget((source) => ({
      run: (h, o) => (source.rewindToCommitted(), source.committed.clear(), source.run(h, o)),
    }));
    expect((await violationOf('resumesFromCommit', target)).message).toMatch(
      /a new instance: delivered .* expected/,
    );
  });

  it('a source that skips the message at the committed offset', async () => {
    const target = memoryTarget((source) => ({
      commit: (p, n) => source.commit(p, String(BigInt(n) + 1n)),
    }));
    expect((await violationOf('resumesFromCommit', target)).message).toContain('a new instance');
  });

  it('a source whose `once` never returns', async () => {
    const target = memoryTarget((source) => ({
      run: (h, o) => source.run(h, { ...o, once: false }),
    }));
    expect((await violationOf('onceEnds', target)).message).toContain('did not return');
  });

  it('a source that does not wait for deliver before the next batch of the partition', async () => {
    const target = memoryTarget((source) => ({
      run: (h, o) =>
        source.run(
          {
            assigned: (p) => h.assigned!(p),
            deliver: (b) => {
              void h.deliver(b);
              return Promise.resolve();
            },
          },
          o,
        ),
    }));
    expect((await violationOf('oneDeliverPerPartition', target)).message).toContain(
      'before the first resolved',
    );
  });

  it('a source whose restarted offsets are delivered without a new incarnation', async () => {
    const target = restartingTarget({ announce: false });
    expect((await violationOf('restartedOffsetsNotDropped', target)).message).toContain(
      'would be dropped as a duplicate',
    );
  });

  it('a source whose run ends when the connection breaks', async () => {
    const target = restartingTarget({ announce: true, giveUp: true });
    expect((await violationOf('reconnect', target)).message).toContain('instead of reconnecting');
  });

  it('a source that waits for the pending deliver before calling revoked', async () => {
    expect((await violationOf('revokeWhileDeliverPending', groupTarget(true))).message).toContain(
      'revoked() was not called while a deliver was pending',
    );
  });

  it('a source that adds an abort listener on every idle poll', async () => {
    const target = memoryTarget((source) => ({
      run: async (h, o) => {
        const leak = setInterval(() => o.signal.addEventListener('abort', () => {}), 5);
        try {
          await source.run(h, o);
        } finally {
          clearInterval(leak);
        }
      },
    }));
    expect((await violationOf('stopsOnAbort', target)).message).toContain('abort listeners');
  });

  it('a source whose run rejects on abort instead of resolving', async () => {
    const target = memoryTarget((source) => ({
      run: async (h, o) => {
        await source.run(h, o);
        if (o.signal.aborted) throw new Error('The operation was aborted.');
      },
    }));
    expect((await violationOf('stopsOnAbort', target)).message).toContain('rejected on abort');
  });
});

describe('CheckingHandler', () => {
  it('reports a delivery of a partition that was revoked', async () => {
    const handler = new CheckingHandler();
    await handler.assigned(['a']);
    await handler.revoked(['a']);
    await handler.deliver({ partition: 'a', messages: [{ offset: '1', payload: 'x' }] });
    expect(handler.violations.join(' ')).toContain('while not assigned');
  });

  it('drops a redelivery it has seen (a duplicate) without a violation', async () => {
    const handler = new CheckingHandler();
    await handler.deliver({ partition: 'a', messages: [{ offset: '1', payload: 'x' }] });
    await handler.deliver({ partition: 'a', messages: [{ offset: '1', payload: 'x' }] });
    expect(handler.violations).toEqual([]);
    expect(handler.payloads()).toEqual(['x']);
  });
});

describe('runSourceContractSuite', () => {
  it('refuses an unknown test name at registration', () => {
    expect(() =>
      runSourceContractSuite({
        name: 'x',
        tests: ['nope' as SourceContractTestName],
        target: memoryTarget(),
      }),
    ).toThrow(/Unknown source contract test "nope"; known: onceEnds/);
  });

  it('lists every test by name', () => {
    expect(SOURCE_CONTRACT_TEST_NAMES).toEqual([
      'onceEnds',
      'resumesFromCommit',
      'oneDeliverPerPartition',
      'revokeWhileDeliverPending',
      'restartedOffsetsNotDropped',
      'reconnect',
      'stopsOnAbort',
    ]);
  });
});
