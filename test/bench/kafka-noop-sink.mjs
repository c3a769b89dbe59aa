// No-op sink plugin for test/bench/kafka-pipeline.bench.mjs (loaded through sluice.plugins).
// Counts applied events and, on close, writes {events, rows, kinds, firstMs, lastMs, maxRssKiB} to
// properties.report (rows: row events only; kinds: events by kind/type, e.g. {"row:INSERT": n}) (maxRssKiB: the process's peak resident set size so far, process.resourceUsage()).
import { writeFileSync } from 'node:fs';
import { allApplied, defineSink } from '../../packages/plugin-api/dist/index.js';

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
    // Counted per kind and type without building a string per event, and answered with the
    // plugin API's shared outcome (allApplied): the sink's own bookkeeping stays out of the
    // pipeline's per-event cost.
    for (const { event: e } of batch) {
      if (e.kind === 'row') this.#rows += 1;
      const byType = (this.#kinds[e.kind] ??= {});
      byType[e.type] = (byType[e.type] ?? 0) + 1;
    }
    return allApplied(batch);
  }
  async flush() {}
  async close() {
    if (this.#report)
      writeFileSync(
        this.#report,
        JSON.stringify({
          events: this.#events,
          rows: this.#rows,
          kinds: Object.fromEntries(
            Object.entries(this.#kinds).flatMap(([kind, types]) =>
              Object.entries(types).map(([type, n]) => [`${kind}:${type}`, n]),
            ),
          ),
          firstMs: this.#first,
          lastMs: this.#last,
          maxRssKiB: process.resourceUsage().maxRSS,
          // CPU time of the whole process (start-up included), µs: steadier than rows/s on a
          // loaded machine, where the process waits for a core.
          cpuUserUs: process.cpuUsage().user,
          cpuSystemUs: process.cpuUsage().system,
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
