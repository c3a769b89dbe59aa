/**
 * Core services a plugin may ask for. A plugin declares what it needs in `deps` with the refs of
 * {@link coreServices}; the core resolves them and hands the instances to `create` under the
 * same keys. Only declared services are provided.
 */

/** Structured logger. Fields first, then a capitalised message ending with a period. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every line. */
  child(fields: Record<string, unknown>): Logger;
}

/** Labels of one metric series. */
export type MetricLabels = Readonly<Record<string, string>>;

/** Metrics registry (exposed by the admin API as Prometheus text). */
export interface Metrics {
  /** Adds `value` (default 1) to a counter. */
  increment(name: string, labels?: MetricLabels, value?: number): void;
  /** Sets a gauge. */
  gauge(name: string, value: number, labels?: MetricLabels): void;
  /** Records one observation of a histogram (seconds for durations). */
  observe(name: string, value: number, labels?: MetricLabels): void;
}

/** Wall clock, replaceable in tests. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** Connection options of one `srcDataSources` entry, parsed from its JDBC URL. */
export interface DataSourceOptions {
  readonly key: string;
  readonly kind: 'mysql' | 'mariadb' | 'postgresql';
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password: string;
  /** JDBC URL parameters (`useUnicode`, `characterEncoding`, …). */
  readonly params: Readonly<Record<string, string>>;
  /** Pool size (canal `maxActive`, default 3). */
  readonly maxActive: number;
}

/** The `srcDataSources` of `application.yml`, by key. */
export interface DataSources {
  get(key: string): DataSourceOptions | undefined;
  keys(): readonly string[];
}

/** A typed reference to a core service. */
export interface ServiceRef<T> {
  readonly id: string;
  /** Phantom field carrying the service type; never set at run time. */
  readonly __type?: T;
}

function serviceRef<T>(id: string): ServiceRef<T> {
  return Object.freeze({ id });
}

/** The services the core provides. */
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
