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

/** Every metric family a running Sluice exposes: each core instrument recorded once, plus process metrics. */
async function exposedFamilies(): Promise<Set<string>> {
  const metrics = new MetricsRegistry({ prefix: 'sluice_', processMetrics: true });
  for (const [name, instrument] of Object.entries(CORE_INSTRUMENTS)) {
    const labels = Object.fromEntries(
      (instrument.spec.labelNames ?? []).map((l: string) => [l, 'x']),
    );
    if (instrument.kind === 'counter') metrics.increment(`sluice_${name}`, labels);
    else if (instrument.kind === 'gauge') metrics.gauge(`sluice_${name}`, 1, labels);
    else metrics.observe(`sluice_${name}`, 1, labels);
  }
  const text = await metrics.exposition();
  return new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
}

/** The metric names a PromQL expression uses (`sluice_…`), as families (no _bucket/_count/_sum). */
function familiesIn(expr: string): string[] {
  return [...expr.matchAll(/\bsluice_[a-z0-9_]+/g)].map((m) =>
    m[0].replace(/_(bucket|count|sum)$/, ''),
  );
}

describe('deploy/grafana/sluice-dashboard.json', () => {
  const dashboard = JSON.parse(
    readFileSync(join(root, 'deploy/grafana/sluice-dashboard.json'), 'utf8'),
  ) as { uid: string; panels: { title: string; targets: { expr: string }[] }[] };

  it('queries only metrics Sluice exposes, and shows throughput, lag, dead letters and the process', async () => {
    const exposed = await exposedFamilies();
    const used = dashboard.panels.flatMap((p) => p.targets.flatMap((t) => familiesIn(t.expr)));
    expect(used.length).toBeGreaterThan(10);
    expect(used.filter((name) => !exposed.has(name))).toEqual([]);
    for (const needed of [
      'sluice_events_applied_total',
      'sluice_lag_seconds',
      'sluice_apply_lag_seconds',
      'sluice_events_dead_lettered_total',
      'sluice_process_resident_memory_bytes',
    ])
      expect(used).toContain(needed);
    expect(dashboard.uid).toBe('sluice-overview');
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
      expect.arrayContaining(['SluiceLagHigh', 'SluiceDeadLetters', 'SluiceStalled']),
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
