// No-op sink plugin for test/bench/kafka-pipeline.bench.mjs (loaded through sluice.plugins).
// Counts applied events and, on close, writes {events, rows, kinds, firstMs, lastMs, maxRssKiB} to
// properties.report (rows: row events only; kinds: events by kind/type, e.g. {"row:INSERT": n}) (maxRssKiB: the process's peak resident set size so far, process.resourceUsage()).
import { writeFileSync } from 'node:fs';
import { defineSink } from '../../packages/plugin-api/dist/index.js';

class NoopSink {
  #report;
  #events = 0;
  #rows = 0;
  #kinds = {};
  #first = 0;
  #last = 0;
  constructor(properties) {
    this.#report = properties.report;
  }
  async connect() {}
  async write(batch) {
    const now = performance.timeOrigin + performance.now();
    if (this.#first === 0) this.#first = now;
    this.#last = now;
    this.#events += batch.length;
    for (const { event: e } of batch) {
      if (e.kind === 'row') this.#rows += 1;
      const k = `${e.kind}:${e.type}`;
      this.#kinds[k] = (this.#kinds[k] ?? 0) + 1;
    }
    return batch.map(() => ({ status: 'applied' }));
  }
  async flush() {}
  async close() {
    if (this.#report)
      writeFileSync(
        this.#report,
        JSON.stringify({
          events: this.#events,
          rows: this.#rows,
          kinds: this.#kinds,
          firstMs: this.#first,
          lastMs: this.#last,
          maxRssKiB: process.resourceUsage().maxRSS,
        }),
      );
  }
}

export default defineSink({
  name: 'noop',
  description: 'Benchmark sink: applies nothing, counts events.',
  coalescing: false,
  create: (ctx) => new NoopSink(ctx.properties),
});
