/** The resolved configuration of one Sluice process (canal-adapter's `application.yml`). */

/** `canalAdapters[].groups[].outerAdapters[]`: one sink instance. */
export interface OuterAdapterConfig {
  readonly name: string;
  /** The configured key, or the generated one (`<instance>-<groupId>-<name>-<n>`). */
  readonly key: string;
  /** True when `key` was generated because the file had none. */
  readonly keyGenerated: boolean;
  readonly hosts: string | undefined;
  readonly properties: Readonly<Record<string, string>>;
}

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
  readonly mode: string;
  readonly flatMessage: boolean;
  readonly syncBatchSize: number;
  /** canal semantics: -1 = forever, 0 or absent = one attempt, N = N attempts. */
  readonly retries: number;
  readonly timeout: number;
  readonly terminateOnException: boolean;
  readonly consumerProperties: Readonly<Record<string, string>>;
  readonly canalAdapters: readonly CanalAdapterConfig[];
}

/** Sluice's own settings under the top-level `sluice:` key. */
export interface SluiceSettings {
  readonly deadLetter: { readonly type: 'file' | 'kafka'; readonly dir: string; readonly topicSuffix: string };
}

export interface ResolvedConfig {
  /** Absolute path of the configuration directory. */
  readonly dir: string;
  readonly serverPort: number;
  readonly canal: CanalConf;
  readonly sluice: SluiceSettings;
}
