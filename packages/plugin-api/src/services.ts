/*
 * Core services a plugin may ask for. A plugin declares what it needs in `deps` with the refs of
 * {@link coreServices}; the core resolves them and hands the instances to `create` under the
 * same keys. Only declared services are provided.
 */

/**
 * Structured logger (`coreServices.logger`), already scoped to the plugin instance. A capitalised
 * message ending with a period, plus fields. Synchronous, never throws, safe from any flow.
 * Secret-looking fields (password, token, …) are redacted.
 */
export interface Logger {
  /** Detail for troubleshooting; off by default. */
  debug(message: string, fields?: Record<string, unknown>): void;
  /** Normal operation worth a line (started, connected). */
  info(message: string, fields?: Record<string, unknown>): void;
  /** Something went wrong but the pipeline copes (a retry, a dead-lettered event). */
  warn(message: string, fields?: Record<string, unknown>): void;
  /** Data loss or operator action needed. */
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every line. */
  child(fields: Record<string, unknown>): Logger;
}

/** Labels of one metric series: label name → value. */
export type MetricLabels = Readonly<Record<string, string>>;

/**
 * Declaration of one metric instrument. Declare each instrument once (at `create`, not per
 * event) and keep the handle.
 */
export interface InstrumentSpec<L extends string = string> {
  /**
   * Snake-case name without the runtime's prefix, e.g. `rdb_statements_total` (counters end in
   * `_total`; a unit suffix such as `_seconds` or `_bytes` follows Prometheus conventions). The
   * core prepends `sluice.metrics.prefix` (default `sluice_`).
   */
  readonly name: string;
  /** One sentence for the `# HELP` line. */
  readonly help: string;
  /** Unit of the values (`seconds`, `bytes`, `rows`, …); also the name's suffix. Documentation only. */
  readonly unit?: string;
  /** Label names every observation must give values for. Keep their cardinality bounded. */
  readonly labelNames?: readonly L[];
}

/** Declaration of a histogram: an {@link InstrumentSpec} with bucket upper bounds. */
export interface HistogramSpec<L extends string = string> extends InstrumentSpec<L> {
  /** Upper bounds of the buckets, increasing (seconds for durations). Default: Prometheus' defaults. */
  readonly buckets?: readonly number[];
}

/** A monotonically increasing count. Synchronous, never throws. */
export interface Counter<L extends string = string> {
  /** Adds `value` (default 1, must be ≥ 0) to the series of `labels`. */
  inc(labels?: Readonly<Record<L, string>>, value?: number): void;
}

/** A value that goes up and down. Synchronous, never throws. */
export interface Gauge<L extends string = string> {
  /** Sets the series of `labels` to `value`. */
  set(labels: Readonly<Record<L, string>>, value: number): void;
  /** Adds `value` (default 1). */
  inc(labels?: Readonly<Record<L, string>>, value?: number): void;
  /** Subtracts `value` (default 1). */
  dec(labels?: Readonly<Record<L, string>>, value?: number): void;
}

/** A distribution of observations. Synchronous, never throws. */
export interface Histogram<L extends string = string> {
  /** Records one observation in the series of `labels`. */
  observe(labels: Readonly<Record<L, string>>, value: number): void;
}

/**
 * Metrics (`coreServices.metrics`), exposed by the admin API's `GET /metrics` in Prometheus text
 * format (one registry per runtime, with process metrics). Declaring returns a handle; declaring
 * the same name again with the same type and labels returns the same instrument (every sink
 * instance of a plugin may declare its instruments), with another type or other label names it
 * throws a {@link FatalError}-class error at `create` time naming the instrument.
 */
export interface Metrics {
  /** Declares (or returns the already declared) counter. */
  counter<L extends string = never>(spec: InstrumentSpec<L>): Counter<L>;
  /** Declares (or returns the already declared) gauge. */
  gauge<L extends string = never>(spec: InstrumentSpec<L>): Gauge<L>;
  /** Declares (or returns the already declared) histogram. */
  histogram<L extends string = never>(spec: HistogramSpec<L>): Histogram<L>;
}

/** Wall clock (`coreServices.clock`), replaceable in tests. Synchronous, never throws. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** Connection options of one `srcDataSources` entry, parsed from its JDBC URL. */
export interface DataSourceOptions {
  /** The `srcDataSources` key (what mappings name in `dataSourceKey`). */
  readonly key: string;
  /** The database product, from the JDBC URL scheme. */
  readonly kind: 'mysql' | 'mariadb' | 'postgresql';
  /** Host name or address. */
  readonly host: string;
  /** TCP port. */
  readonly port: number;
  /** Database (schema) name from the URL path. */
  readonly database: string;
  /** `username`. */
  readonly user: string;
  /** `password`; a secret: never log it. */
  readonly password: string;
  /** JDBC URL parameters (`useUnicode`, `characterEncoding`, …). */
  readonly params: Readonly<Record<string, string>>;
  /** Pool size (canal `maxActive`, default 3). */
  readonly maxActive: number;
}

/**
 * The `srcDataSources` of `application.yml`, by key (`coreServices.dataSources`). Options only:
 * the plugin opens (and closes) its own connections in `connect`/`close`/`etl`.
 */
export interface DataSources {
  /** The options of one data source, or `undefined` when no entry has that key. */
  get(key: string): DataSourceOptions | undefined;
  /** Every configured key. */
  keys(): readonly string[];
}

/**
 * A typed reference to a core service. Plugins list refs in `deps`; the core resolves each one
 * by its `id` in the runtime's container and hands the instance to `create` under the same key.
 */
export interface ServiceRef<T> {
  /** The service's identifier, `core.<name>`. */
  readonly id: string;
  /** Phantom field carrying the service type; never set at run time. */
  readonly __type?: T;
}

function serviceRef<T>(id: string): ServiceRef<T> {
  return Object.freeze({ id });
}

/**
 * The services the core provides. Declare what you need:
 * `deps: { logger: coreServices.logger, clock: coreServices.clock }`.
 */
export const coreServices = Object.freeze({
  logger: serviceRef<Logger>('core.logger'),
  metrics: serviceRef<Metrics>('core.metrics'),
  clock: serviceRef<Clock>('core.clock'),
  dataSources: serviceRef<DataSources>('core.dataSources'),
});

/** A map of declared dependencies: local name → service ref. */
export type ServiceDeps = Readonly<Record<string, ServiceRef<unknown>>>;

/** The resolved instances of a {@link ServiceDeps} map, under the same keys. */
export type ResolvedDeps<D extends ServiceDeps> = {
  readonly [K in keyof D]: D[K] extends ServiceRef<infer T> ? T : never;
};
