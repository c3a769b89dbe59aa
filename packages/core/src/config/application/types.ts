/** The resolved configuration of one Sluice process (canal-adapter's `application.yml` and mapping files). */
import type { DataSourceOptions } from '@sluice/plugin-api';
import type { MappedTable } from '@sluice/plugin-api';
import type { SluiceSettings } from './sluiceSettings.js';

/** `canalAdapters[].groups[].outerAdapters[]`: one sink instance. */
export interface OuterAdapterConfig {
  readonly name: string;
  /** The configured key, or canal's generated one (`AUTO_GENERATED_-<instance>-<groupId>-<index>`). */
  readonly key: string;
  /** True when `key` was generated because the file had none. */
  readonly keyGenerated: boolean;
  readonly hosts: string | undefined;
  /** `properties`, keys verbatim (nested YAML flattened to dotted keys, as Spring does), values as text. */
  readonly properties: Readonly<Record<string, string>>;
}

/** `canalAdapters[].groups[]`. */
export interface AdapterGroupConfig {
  readonly groupId: string;
  readonly outerAdapters: readonly OuterAdapterConfig[];
}

/** `canalAdapters[]`: one topic / destination / queue / file label. */
export interface CanalAdapterConfig {
  readonly instance: string;
  readonly groups: readonly AdapterGroupConfig[];
}

/** `canal.conf.*`. */
export interface CanalConf {
  /** Lower-cased source name (`tcp`, `kafka`, `file`, …). */
  readonly mode: string;
  /**
   * Which mapping key canal builds (§3.4): `tcp` only when `mode` is explicitly tcp; any other
   * mode — including an absent one — uses the MQ scheme with the groupId.
   */
  readonly mappingKeyScheme: 'tcp' | 'mq';
  readonly flatMessage: boolean;
  readonly zookeeperHosts: string;
  readonly syncBatchSize: number;
  /** canal semantics: -1 = forever, 0 = one attempt, N = N attempts. */
  readonly retries: number;
  readonly timeout: number;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly terminateOnException: boolean;
  readonly consumerProperties: Readonly<Record<string, string>>;
  /** `srcDataSources`, with their JDBC URLs parsed. */
  readonly srcDataSources: Readonly<Record<string, DataSourceOptions>>;
  readonly canalAdapters: readonly CanalAdapterConfig[];
}

/** `server.*`. */
export interface ServerConfig {
  readonly port: number;
}

/** A sink instance, by adapter name and key. */
export interface SinkRef {
  readonly name: string;
  readonly key: string;
}

/** One validated mapping file. */
export interface ConfiguredMapping {
  /** Path relative to the configuration directory, `/`-separated (`rdb/mytest_user.yml`). */
  readonly file: string;
  /** File name: canal's task name (`mytest_user.yml`). */
  readonly name: string;
  /** The adapter name whose directory holds it (`rdb`, `es7`, …). */
  readonly type: string;
  /** The content, bound to the sink's mapping schema (defaults filled in). */
  readonly config: Readonly<Record<string, unknown>>;
  readonly destination: string | undefined;
  readonly groupId: string | undefined;
  readonly outerAdapterKey: string | undefined;
  readonly dataSourceKey: string | undefined;
  /** The source tables it covers. */
  readonly tables: readonly MappedTable[];
  /** The sink instances that own it (canal §3.3). */
  readonly owners: readonly SinkRef[];
  /** Hash of the file's text, to tell a real change from a touch. */
  readonly digest: string;
}

/** Everything Sluice reads from a configuration directory. */
export interface ResolvedConfig {
  /** Absolute path of the configuration directory. */
  readonly dir: string;
  /** `server.port` (kept for callers of the first cut; same as `server.port`). */
  readonly serverPort: number;
  readonly server: ServerConfig;
  readonly canal: CanalConf;
  readonly sluice: SluiceSettings;
  /** Every valid mapping file, whether or not a sink instance owns it. */
  readonly mappings: readonly ConfiguredMapping[];
}
