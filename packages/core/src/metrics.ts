import type { MetricLabels, Metrics } from '@sluice/plugin-api';

interface Series {
  readonly name: string;
  readonly labels: MetricLabels;
  kind: 'counter' | 'gauge' | 'histogram';
  value: number;
  count: number;
}

function seriesKey(name: string, labels: MetricLabels | undefined): string {
  const parts = Object.entries(labels ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return `${name}{${parts.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;
}

/** In-process metrics (counters, gauges, histogram sums/counts), read by the admin API. */
export class MetricsRegistry implements Metrics {
  readonly #series = new Map<string, Series>();

  #get(name: string, labels: MetricLabels | undefined, kind: Series['kind']): Series {
    const key = seriesKey(name, labels);
    let s = this.#series.get(key);
    if (!s) {
      s = { name, labels: { ...labels }, kind, value: 0, count: 0 };
      this.#series.set(key, s);
    }
    return s;
  }

  increment(name: string, labels?: MetricLabels, value = 1): void {
    this.#get(name, labels, 'counter').value += value;
  }

  gauge(name: string, value: number, labels?: MetricLabels): void {
    this.#get(name, labels, 'gauge').value = value;
  }

  observe(name: string, value: number, labels?: MetricLabels): void {
    const s = this.#get(name, labels, 'histogram');
    s.value += value;
    s.count += 1;
  }

  /** The current value of a counter or gauge (sum for a histogram); 0 when never set. */
  value(name: string, labels?: MetricLabels): number {
    return this.#series.get(seriesKey(name, labels))?.value ?? 0;
  }

  /** Every series, for exposition. */
  snapshot(): readonly Readonly<Series>[] {
    return [...this.#series.values()];
  }
}
