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

/** Labels of one metric series. */
export type MetricLabels = Readonly<Record<string, string>>;

/**
 * Metrics registry (`coreServices.metrics`), exposed by the admin API as Prometheus text.
 * Synchronous, never throws, safe from any flow. Names are `sluice_<plugin>_<what>[_total]`.
 */
export interface Metrics {
  /** Adds `value` (default 1) to a counter. */
  increment(name: string, labels?: MetricLabels, value?: number): void;
  /** Sets a gauge. */
  gauge(name: string, value: number, labels?: MetricLabels): void;
  /** Records one observation of a histogram (seconds for durations). */
  observe(name: string, value: number, labels?: MetricLabels): void;
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
