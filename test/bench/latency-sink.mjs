// Latency sink for test/bench/latency.bench.mjs (loaded through sluice.plugins): applies
// nothing, and records for every row how long after its binlog time (`executedAt`, canal's es)
// it was handed to the sink. On close it writes {events, p50Ms, p99Ms, maxMs} to
// properties.report. An outside view of the engine: it does not use Sluice's metrics.
import { writeFileSync } from 'node:fs';
import { defineSink } from '../../packages/plugin-api/dist/index.js';

class LatencySink {
  #report;
  #lags = [];
  constructor(properties) {
    this.#report = properties.report;
  }
  async connect() {}
  async write(batch) {
    const now = Date.now();
    for (const r of batch) this.#lags.push(now - r.event.executedAt);
    return batch.map(() => ({ status: 'applied' }));
  }
  async flush() {}
  async close() {
    if (!this.#report) return;
    const sorted = this.#lags.sort((a, b) => a - b);
    const q = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
    writeFileSync(
      this.#report,
      JSON.stringify({
        events: sorted.length,
        p50Ms: q(0.5),
        p99Ms: q(0.99),
        maxMs: sorted.at(-1),
      }),
    );
  }
}

export default defineSink({
  name: 'latency',
  create: (ctx) => new LatencySink(ctx.properties),
});
