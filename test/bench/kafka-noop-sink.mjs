// No-op sink plugin for test/bench/kafka-pipeline.bench.mjs (loaded through sluice.plugins).
// Counts applied events and, on close, writes {events, rows, kinds, firstMs, lastMs, maxRssKiB} to
// properties.report (rows: row events only; kinds: events by kind/type, e.g. {"row:INSERT": n}) (maxRssKiB: the process's peak resident set size so far, process.resourceUsage()).
// With properties.mark = N it also reports markMs and markEvents: the time of the first write after
// which N events or more had been applied, and that count (the start of a window past warm-up).
import { writeFileSync } from 'node:fs';
import { allApplied, defineSink } from '../../packages/plugin-api/dist/index.js';

class NoopSink {
  #report;
  #mark;
  #markMs = 0;
  #markEvents = 0;
  #events = 0;
  #rows = 0;
  #kinds = {};
  #first = 0;
  #last = 0;
  constructor(properties) {
    this.#report = properties.report;
    this.#mark = Number(properties.mark ?? 0);
  }
  async connect() {}
  async write(batch) {
    const now = performance.timeOrigin + performance.now();
    if (this.#first === 0) this.#first = now;
    this.#last = now;
    this.#events += batch.length;
    if (this.#mark > 0 && this.#markMs === 0 && this.#events >= this.#mark) {
      this.#markMs = now;
      this.#markEvents = this.#events;
    }
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
          ...(this.#mark > 0 ? { markMs: this.#markMs, markEvents: this.#markEvents } : {}),
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
