import {
  Counter as PromCounter,
  Gauge as PromGauge,
  Histogram as PromHistogram,
  Registry,
  collectDefaultMetrics,
} from 'prom-client';
import {
  ErrorCodes,
  SluiceError,
  type Counter,
  type Gauge,
  type Histogram,
  type HistogramSpec,
  type InstrumentSpec,
  type MetricLabels,
  type Metrics,
} from '@sluice/plugin-api';
import { CORE_INSTRUMENTS, type InstrumentKind } from './instruments.js';

/** What the pipeline records: the core instruments of {@link CORE_INSTRUMENTS}, by name. */
export interface CoreMetrics {
  /** Adds `value` (default 1) to a declared counter. */
  increment(name: string, labels?: MetricLabels, value?: number): void;
  /** Sets a declared gauge. */
  gauge(name: string, value: number, labels?: MetricLabels): void;
  /** Records one observation of a declared histogram. */
  observe(name: string, value: number, labels?: MetricLabels): void;
}

/** Options of {@link MetricsRegistry}. */
export interface MetricsOptions {
  /** Prepended to every name (`sluice.metrics.prefix`); default `sluice_`. */
  readonly prefix?: string;
  /** Also collect prom-client's process metrics (CPU, memory, event loop, GC). Default false. */
  readonly processMetrics?: boolean;
}

type AnyInstrument = PromCounter | PromGauge | PromHistogram;

interface Declared {
  readonly kind: InstrumentKind;
  readonly labelNames: readonly string[];
  readonly metric: AnyInstrument;
}

const NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const NO_LABELS: MetricLabels = Object.freeze({});

function seriesKey(name: string, labels: MetricLabels | undefined): string {
  const parts = Object.entries(labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${name}{${parts.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;
}

/**
 * The metrics of one runtime: a prom-client registry of its own (never prom-client's global
 * one), holding the core's declared instruments and those plugins declare through
 * `coreServices.metrics`. Prometheus text comes from {@link exposition}; {@link value} reads a
 * series synchronously (tests, `sluice status`).
 *
 * Recording is synchronous and cheap (a map lookup and prom-client's own update); safe from
 * any flow. Declaring conflicting instruments throws (a programming error, found at start-up).
 */
export class MetricsRegistry implements Metrics, CoreMetrics {
  /** The prom-client registry, for exposition (`GET /metrics`). */
  readonly registry = new Registry();
  readonly #prefix: string;
  readonly #declared = new Map<string, Declared>();
  /** Current value per series (sum for histograms), kept for synchronous reads. */
  readonly #values = new Map<string, number>();
  readonly #hooks = new Set<() => void | Promise<void>>();
  /**
   * Series keys of frozen label objects, per object and metric name: the pipeline records with
   * the same frozen labels per partition and sink, so the hot path does not sort and stringify
   * them on every call. Mutable label objects are keyed afresh each time (they may change).
   */
  readonly #frozenKeys = new WeakMap<MetricLabels, Map<string, string>>();

  constructor(options: MetricsOptions = {}) {
    this.#prefix = options.prefix ?? 'sluice_';
    if (options.processMetrics)
      collectDefaultMetrics({ register: this.registry, prefix: this.#prefix });
  }

  counter<L extends string = never>(spec: InstrumentSpec<L>): Counter<L> {
    const d = this.#declare('counter', spec);
    return {
      inc: (labels, value = 1) => this.#record(d, spec.name, labels, value, 'add'),
    };
  }

  /** Declares a gauge (the plugin API's {@link Metrics.gauge}). */
  gauge<L extends string = never>(spec: InstrumentSpec<L>): Gauge<L>;
  /** Sets a declared core gauge by name ({@link CoreMetrics.gauge}). */
  gauge(name: string, value: number, labels?: MetricLabels): void;
  gauge<L extends string = never>(
    specOrName: InstrumentSpec<L> | string,
    value?: number,
    labels?: MetricLabels,
  ): Gauge<L> | void {
    if (typeof specOrName === 'string') {
      const d = this.#core(specOrName, 'gauge');
      this.#record(d, this.#bare(specOrName), labels, value ?? 0, 'set');
      return;
    }
    const spec = specOrName;
    const d = this.#declare('gauge', spec);
    return {
      set: (labels, value) => this.#record(d, spec.name, labels, value, 'set'),
      inc: (labels, value = 1) => this.#record(d, spec.name, labels, value, 'add'),
      dec: (labels, value = 1) => this.#record(d, spec.name, labels, -value, 'add'),
    };
  }

  histogram<L extends string = never>(spec: HistogramSpec<L>): Histogram<L> {
    const d = this.#declare('histogram', spec);
    return { observe: (labels, value) => this.#record(d, spec.name, labels, value, 'add') };
  }

  increment(name: string, labels?: MetricLabels, value = 1): void {
    this.#record(this.#core(name, 'counter'), this.#bare(name), labels, value, 'add');
  }

  observe(name: string, value: number, labels?: MetricLabels): void {
    this.#record(this.#core(name, 'histogram'), this.#bare(name), labels, value, 'add');
  }

  /**
   * The current value of a series: a counter's or gauge's value, a histogram's sum; 0 when never
   * recorded. `name` with or without the prefix.
   */
  value(name: string, labels?: MetricLabels): number {
    return this.#values.get(seriesKey(this.#bare(name), labels)) ?? 0;
  }

  /**
   * Runs `hook` before every {@link exposition} (to set gauges whose value is "now"-relative,
   * such as lag, or read cheaply from elsewhere, such as the dead-letter depth). Hooks start in
   * registration order; the exposition waits for those that return a promise. A throwing or
   * rejecting hook is skipped. Returns a function that removes it.
   */
  beforeCollect(hook: () => void | Promise<void>): () => void {
    this.#hooks.add(hook);
    return () => this.#hooks.delete(hook);
  }

  /** Prometheus text exposition format of every instrument. */
  async exposition(): Promise<string> {
    const pending: Promise<void>[] = [];
    for (const hook of this.#hooks) {
      try {
        const result = hook();
        if (result) pending.push(result.catch(() => undefined));
      } catch {
        // a broken hook must not break the scrape
      }
    }
    await Promise.all(pending);
    return this.registry.metrics();
  }

  /** The `Content-Type` of {@link exposition}. */
  get contentType(): string {
    return this.registry.contentType;
  }

  #seriesKey(name: string, labels: MetricLabels): string {
    if (!Object.isFrozen(labels)) return seriesKey(name, labels);
    let byName = this.#frozenKeys.get(labels);
    if (byName === undefined) this.#frozenKeys.set(labels, (byName = new Map()));
    let key = byName.get(name);
    if (key === undefined) byName.set(name, (key = seriesKey(name, labels)));
    return key;
  }

  #bare(name: string): string {
    if (name.startsWith(this.#prefix)) return name.slice(this.#prefix.length);
    return name.startsWith('sluice_') ? name.slice('sluice_'.length) : name;
  }

  #core(name: string, kind: InstrumentKind): Declared {
    const bare = this.#bare(name);
    const found = this.#declared.get(bare);
    if (found?.kind === kind) return found;
    const core = CORE_INSTRUMENTS[bare];
    if (!core || core.kind !== kind)
      throw new SluiceError(
        ErrorCodes.fatal,
        `The metric "${name}" is not a declared core ${kind}: declare it in observability/instruments.ts.`,
      );
    return this.#declare(core.kind, core.spec);
  }

  #declare(kind: InstrumentKind, spec: InstrumentSpec | HistogramSpec): Declared {
    const labelNames = [...(spec.labelNames ?? [])];
    const existing = this.#declared.get(spec.name);
    if (existing) {
      if (existing.kind !== kind || existing.labelNames.join(',') !== labelNames.join(','))
        throw new SluiceError(
          ErrorCodes.fatal,
          `The metric "${spec.name}" is declared twice, as a ${existing.kind} with labels [${existing.labelNames.join(', ')}] and as a ${kind} with labels [${labelNames.join(', ')}].`,
        );
      return existing;
    }
    if (!NAME.test(spec.name))
      throw new SluiceError(
        ErrorCodes.fatal,
        `The metric name "${spec.name}" is not valid: use letters, digits and underscores.`,
      );
    const options = {
      name: this.#prefix + spec.name,
      help: spec.help,
      labelNames,
      registers: [this.registry],
    };
    const metric =
      kind === 'counter'
        ? new PromCounter(options)
        : kind === 'gauge'
          ? new PromGauge(options)
          : new PromHistogram({
              ...options,
              ...('buckets' in spec && spec.buckets ? { buckets: [...spec.buckets] } : {}),
            });
    const declared: Declared = { kind, labelNames, metric };
    this.#declared.set(spec.name, declared);
    return declared;
  }

  #record(
    d: Declared,
    name: string,
    labels: MetricLabels | undefined,
    value: number,
    how: 'add' | 'set',
  ): void {
    const l = labels ?? NO_LABELS;
    const key = this.#seriesKey(name, l);
    if (how === 'set') this.#values.set(key, value);
    else this.#values.set(key, (this.#values.get(key) ?? 0) + value);
    try {
      if (d.kind === 'counter') (d.metric as PromCounter).inc(l, value);
      else if (d.kind === 'gauge') {
        if (how === 'set') (d.metric as PromGauge).set(l, value);
        else (d.metric as PromGauge).inc(l, value);
      } else (d.metric as PromHistogram).observe(l, value);
    } catch {
      // Wrong label names: prom-client refuses the series. Recording never throws (the contract);
      // the synchronous value above still counts, and the declaration test pins label names.
    }
  }
}
