/**
 * Issue 15: the Grafana dashboard and the Prometheus alert rules in deploy/ only use metrics
 * Sluice really exposes (a renamed instrument breaks this test, not a dashboard in production).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { CORE_INSTRUMENTS, MetricsRegistry } from '@sluice/core';

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Every metric family a running Sluice exposes: each core instrument recorded once, plus process
 * metrics, under `prefix` (`sluice.metrics.prefix`).
 */
async function exposedFamilies(prefix = 'sluice_'): Promise<Set<string>> {
  const metrics = new MetricsRegistry({ prefix, processMetrics: true });
  for (const [name, instrument] of Object.entries(CORE_INSTRUMENTS)) {
    const labels = Object.fromEntries(
      (instrument.spec.labelNames ?? []).map((l: string) => [l, 'x']),
    );
    if (instrument.kind === 'counter') metrics.increment(`${prefix}${name}`, labels);
    else if (instrument.kind === 'gauge') metrics.gauge(`${prefix}${name}`, 1, labels);
    else metrics.observe(`${prefix}${name}`, 1, labels);
  }
  const text = await metrics.exposition();
  return new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
}

/** The metric names a PromQL expression uses (`<prefix>…`), as families (no _bucket/_count/_sum). */
function familiesIn(expr: string, prefix = 'sluice_'): string[] {
  return [...expr.matchAll(new RegExp(`\\b${prefix}[a-z0-9_]+`, 'g'))].map((m) =>
    m[0].replace(/_(bucket|count|sum)$/, ''),
  );
}

/** Grafana's interpolation of the dashboard's `$prefix` / `${prefix}` variable. */
const withPrefix = (expr: string, prefix: string) =>
  expr.replace(/\$\{prefix\}|\$prefix\b/g, prefix);

describe('deploy/grafana/sluice-dashboard.json', () => {
  const dashboard = JSON.parse(
    readFileSync(join(root, 'deploy/grafana/sluice-dashboard.json'), 'utf8'),
  ) as {
    uid: string;
    templating: { list: { name: string; query: string; current?: { value: string } }[] };
    panels: { title: string; targets: { expr: string }[] }[];
  };
  const variable = (name: string) => dashboard.templating.list.find((v) => v.name === name);
  const queries = () => [
    ...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)),
    variable('job')!.query,
  ];

  it('queries only metrics Sluice exposes, and shows throughput, lag, dead letters and the process', async () => {
    const exposed = await exposedFamilies();
    const used = queries().flatMap((q) => familiesIn(withPrefix(q, 'sluice_')));
    expect(used.length).toBeGreaterThan(10);
    expect(used.filter((name) => !exposed.has(name))).toEqual([]);
    for (const needed of [
      'sluice_events_applied_total',
      'sluice_lag_seconds',
      'sluice_apply_lag_seconds',
      'sluice_events_dead_lettered_total',
      'sluice_dead_letter_depth',
      'sluice_process_resident_memory_bytes',
    ])
      expect(used).toContain(needed);
    expect(dashboard.uid).toBe('sluice-overview');
  });

  it('takes the metric prefix from a variable (sluice.metrics.prefix is configurable)', async () => {
    expect(variable('prefix')).toMatchObject({ query: 'sluice_', current: { value: 'sluice_' } });
    // No query names a metric with the prefix written out.
    expect(queries().filter((q) => /\bsluice_/.test(q))).toEqual([]);
    // With another prefix every query still finds what that Sluice exposes.
    const exposed = await exposedFamilies('acme_cdc_');
    const used = queries().flatMap((q) => familiesIn(withPrefix(q, 'acme_cdc_'), 'acme_cdc_'));
    expect(used.length).toBeGreaterThan(10);
    expect(used.filter((name) => !exposed.has(name))).toEqual([]);
  });

  it('catches a metric that does not exist (the check can fail)', async () => {
    const exposed = await exposedFamilies();
    expect(
      familiesIn('rate(sluice_events_aplied_total[1m])').filter((n) => !exposed.has(n)),
    ).toEqual(['sluice_events_aplied_total']);
  });
});

describe('deploy/prometheus/sluice-alerts.yml', () => {
  const rules = parse(readFileSync(join(root, 'deploy/prometheus/sluice-alerts.yml'), 'utf8')) as {
    groups: {
      name: string;
      rules: { alert: string; expr: string; labels: { severity: string } }[];
    }[];
  };

  it('alerts on lag and dead letters with metrics Sluice exposes', async () => {
    const exposed = await exposedFamilies();
    const all = rules.groups.flatMap((g) => g.rules);
    expect(all.map((r) => r.alert)).toEqual(
      expect.arrayContaining([
        'SluiceLagHigh',
        'SluiceDeadLetters',
        'SluiceDeadLetterQueueNotEmpty',
        'SluiceStalled',
      ]),
    );
    for (const rule of all) {
      expect(['warning', 'critical'], rule.alert).toContain(rule.labels.severity);
      expect(
        familiesIn(rule.expr).filter((n) => !exposed.has(n)),
        rule.alert,
      ).toEqual([]);
    }
  });
});
