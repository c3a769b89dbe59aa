import { describe, expect, it } from 'vitest';
import { CORE_INSTRUMENTS } from './instruments.js';
import { MetricsRegistry } from './metrics.js';

describe('MetricsRegistry', () => {
  it('exposes declared plugin instruments with HELP, TYPE, labels and the runtime prefix', async () => {
    const m = new MetricsRegistry({ prefix: 'acme_' });
    const rows = m.counter({
      name: 'rdb_rows_total',
      help: 'Rows written.',
      labelNames: ['table'],
    });
    rows.inc({ table: 'db.t' }, 3);
    rows.inc({ table: 'db.t' });
    const latency = m.histogram({
      name: 'rdb_write_seconds',
      help: 'Write latency.',
      labelNames: ['table'],
      buckets: [0.1, 1],
    });
    latency.observe({ table: 'db.t' }, 0.5);
    const text = await m.exposition();
    expect(text).toContain('# HELP acme_rdb_rows_total Rows written.');
    expect(text).toContain('# TYPE acme_rdb_rows_total counter');
    expect(text).toContain('acme_rdb_rows_total{table="db.t"} 4');
    expect(text).toContain('acme_rdb_write_seconds_bucket{le="0.1",table="db.t"} 0');
    expect(text).toContain('acme_rdb_write_seconds_bucket{le="1",table="db.t"} 1');
    expect(m.value('rdb_rows_total', { table: 'db.t' })).toBe(4);
  });

  it('returns the same instrument for the same declaration and refuses a conflicting one', () => {
    const m = new MetricsRegistry();
    const a = m.counter({ name: 'x_total', help: 'x', labelNames: ['k'] });
    const b = m.counter({ name: 'x_total', help: 'x', labelNames: ['k'] });
    a.inc({ k: '1' });
    b.inc({ k: '1' });
    expect(m.value('x_total', { k: '1' })).toBe(2);
    expect(() => m.gauge({ name: 'x_total', help: 'x', labelNames: ['k'] })).toThrow(
      /declared twice, as a counter/,
    );
    expect(() => m.counter({ name: 'x_total', help: 'x', labelNames: ['other'] })).toThrow(
      /declared twice/,
    );
    expect(() => m.counter({ name: 'bad-name', help: 'x' })).toThrow(/not valid/);
  });

  it('records core instruments by name (with or without the sluice_ prefix) and refuses undeclared ones', async () => {
    const m = new MetricsRegistry({ prefix: 'p_' });
    m.increment('sluice_events_applied_total', { sink: 's', table: 'db.t' }, 2);
    m.gauge('sluice_in_flight_events', 7, { destination: 'd', groupId: 'g', partition: '0' });
    m.gauge('sluice_in_flight_events', 5, { destination: 'd', groupId: 'g', partition: '0' });
    m.observe('batch_seconds', 0.2, { sink: 's' });
    expect(m.value('events_applied_total', { sink: 's', table: 'db.t' })).toBe(2);
    expect(m.value('in_flight_events', { destination: 'd', groupId: 'g', partition: '0' })).toBe(5);
    const text = await m.exposition();
    expect(text).toContain('p_events_applied_total{sink="s",table="db.t"} 2');
    expect(text).toContain('p_batch_seconds_count{sink="s"} 1');
    expect(() => m.increment('sluice_nope_total')).toThrow(/not a declared core counter/);
    expect(() => m.increment('sluice_in_flight_events')).toThrow(/not a declared core counter/);
  });

  it('keeps frozen and mutable label sets apart per series (a reused mutable object may change)', () => {
    const m = new MetricsRegistry();
    const frozen = Object.freeze({ sink: 'a', table: 'db.t' });
    m.increment('sluice_events_applied_total', frozen, 2);
    m.increment('sluice_events_applied_total', frozen, 3);
    // The same frozen object under another metric is another series.
    m.increment('sluice_events_dead_lettered_total', frozen);
    const mutable = { sink: 'a', table: 'db.t' };
    m.increment('sluice_events_applied_total', mutable);
    mutable.table = 'db.u';
    m.increment('sluice_events_applied_total', mutable);
    expect(m.value('sluice_events_applied_total', { sink: 'a', table: 'db.t' })).toBe(6);
    expect(m.value('sluice_events_applied_total', { table: 'db.u', sink: 'a' })).toBe(1);
    expect(m.value('sluice_events_dead_lettered_total', frozen)).toBe(1);
  });

  it('records frozen label sets through prom-client (bound children) like mutable ones', async () => {
    const m = new MetricsRegistry({ prefix: 'p_' });
    const c = m.counter({ name: 'c_total', help: 'c', labelNames: ['a'] });
    const g = m.gauge({ name: 'g', help: 'g', labelNames: ['a'] });
    const h = m.histogram({ name: 'h', help: 'h', labelNames: ['a'], buckets: [1, 10] });
    const x = Object.freeze({ a: 'x' });
    c.inc(x, 2);
    c.inc(x, 3);
    c.inc({ a: 'x' });
    g.set(x, 7);
    g.set(x, 4);
    g.inc(x, 2);
    g.dec(x);
    h.observe(x, 0.5);
    h.observe(x, 5);
    h.observe({ a: 'x' }, 50);
    const text = await m.exposition();
    expect(text).toContain('p_c_total{a="x"} 6');
    expect(text).toContain('p_g{a="x"} 5');
    expect(text).toContain('p_h_bucket{le="1",a="x"} 1');
    expect(text).toContain('p_h_bucket{le="10",a="x"} 2');
    expect(text).toContain('p_h_count{a="x"} 3');
    expect(text).toContain('p_h_sum{a="x"} 55.5');
    expect(m.value('p_g', x)).toBe(5);
    // Wrong label names in a frozen set: refused by prom-client, never thrown.
    expect(() => c.inc(Object.freeze({ b: 'y' }) as unknown as { a: string })).not.toThrow();
  });

  it('never throws on wrong labels (recording is safe from any flow)', () => {
    const m = new MetricsRegistry();
    const c = m.counter({ name: 'y_total', help: 'y', labelNames: ['a'] });
    expect(() => c.inc({ b: 'x' } as unknown as { a: string })).not.toThrow();
  });

  it('keeps each runtime separate from the others and from the global registry', async () => {
    const a = new MetricsRegistry();
    const b = new MetricsRegistry();
    a.increment('events_applied_total', { sink: 's', table: 't' });
    expect(await b.exposition()).not.toContain('events_applied_total{');
  });

  it('adds process metrics when asked', async () => {
    const m = new MetricsRegistry({ processMetrics: true });
    expect(await m.exposition()).toContain('sluice_process_cpu_seconds_total');
  });

  it('declares every core instrument with help, unit and labels', () => {
    for (const [name, i] of Object.entries(CORE_INSTRUMENTS)) {
      expect(i.spec.name).toBe(name);
      expect(i.spec.help.length).toBeGreaterThan(10);
      expect(i.spec.unit).toBeTruthy();
      expect(i.spec.labelNames?.length).toBeGreaterThan(0);
      if (i.kind === 'counter') expect(name).toMatch(/_total$/);
    }
  });
});
