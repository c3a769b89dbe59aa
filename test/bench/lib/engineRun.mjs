// One `run --once` of a fresh PipelineEngine (the built @sluice/core) over canal payloads held in
// memory, into a no-op sink: what the engine costs without a broker. Shared by
// test/bench/applier.bench.mjs and test/bench/engine.bench.mjs.
import { MetricsRegistry, PipelineEngine } from '../../../packages/core/dist/index.js';

/** A logger that drops everything. */
export const quiet = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return quiet;
  },
};
const APPLIED = Object.freeze({ status: 'applied' });

/** A sink that applies nothing and answers every record `applied`. */
export const noopSink = () => ({
  async connect() {},
  async write(batch) {
    return batch.map(() => APPLIED);
  },
  async flush() {},
  async close() {},
});

/**
 * Delivers `payloads` (FlatMessage texts or buffers) on partition `0` in source batches of
 * `sourceBatch` messages, as the Kafka source hands them over, and waits until every message is
 * applied and committed.
 *
 * @param {(string | Uint8Array)[]} payloads
 * @param {{ sourceBatch?: number, settings?: object }} [o] `settings`: pipeline settings over
 *   `{ lingerMs: 0, commitIntervalMs: 1000 }`.
 * @returns {Promise<number>} milliseconds from start to the last commit
 * @throws Error when the last commit is not past the last message.
 */
export async function runEngineOnce(payloads, o = {}) {
  const sourceBatch = o.sourceBatch ?? 1000;
  const source = {
    committed: undefined,
    async connect() {},
    async close() {},
    async commit(_partition, next) {
      this.committed = next;
    },
    async run(handler) {
      for (let i = 0; i < payloads.length; i += sourceBatch) {
        await handler.deliver({
          partition: '0',
          messages: payloads
            .slice(i, i + sourceBatch)
            .map((payload, j) => ({ offset: String(i + j), payload })),
        });
      }
    },
  };
  const engine = new PipelineEngine({
    destination: 'bench',
    groupId: 'g',
    format: 'flat',
    source,
    sinks: [{ key: 'noop', instance: noopSink() }],
    deadLetter: {
      location: 'none',
      async write() {
        throw new Error('unexpected dead letter');
      },
      async close() {},
    },
    logger: quiet,
    metrics: new MetricsRegistry(),
    settings: { lingerMs: 0, commitIntervalMs: 1000, ...o.settings },
  });
  const t0 = performance.now();
  await engine.run({ once: true, signal: new AbortController().signal });
  const ms = performance.now() - t0;
  if (source.committed !== String(payloads.length))
    throw new Error(`committed ${source.committed}, expected ${payloads.length}`);
  return ms;
}
