import type { DataSourceOptions } from '@sluice/plugin-api';
import type { PathSegment } from '../../binding/bind.js';
import { originOf } from '../../binding/locate.js';
import type { PropertyLookup } from '../../binding/placeholders.js';
import type { ProblemCollector } from '../../binding/problems.js';
import type { Origin, YNode } from '../../binding/yamlTree.js';
import type { AdapterRef } from '../../../mappings/mappingFiles.js';
import type { PluginSchemaSource, SinkCatalog } from '../../../mappings/sinkCatalog.js';
import type { SluiceSettings } from '../sluiceSettings.js';
import type { CanalAdapterConfig, ConfiguredMapping } from '../types.js';

/** Environment variables, as in `process.env`. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** Options of `validateConfigDir`. */
export interface ValidateOptions {
  /** Environment for `${VAR}` placeholders and Spring-style overrides; default `process.env`. */
  readonly env?: Environment;
  /**
   * The registered plugins (the {@link PluginRegistry}): their schemas override canal's built-in
   * ones, their sources decide which modes work, and when they can build instances (`scope`)
   * every configured sink and source is created once (no I/O) so the checks each plugin's
   * `create` makes are reported too, exactly as `sluice start` would meet them.
   */
  readonly plugins?: PluginSchemaSource;
  /**
   * Treat an adapter name or mode without a registered plugin as an error. `sluice validate` and
   * `sluice start` both set it (they run the same checks); default false, for tools and tests
   * that check a configuration without the plugins that will run it (then a warning).
   */
  readonly requirePlugins?: boolean;
  /**
   * Read and check the mapping files (and create the configured instances); default true. False
   * reads `application.yml` alone: what a caller needs to know which plugins a configuration
   * names before it loads them (`sluice start` does, then validates everything with them).
   */
  readonly mappings?: boolean;
}

/** `Readonly<Record<string, unknown>>`, the shape of a bound YAML mapping. */
export type Bag = Readonly<Record<string, unknown>>;

/** `v` if it is a bound mapping, else `{}`. */
export const bag = (v: unknown): Bag =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Bag) : {};
/** `v` if it is a list, else `[]`. */
export const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
/** Non-empty text, else `d`. */
export const str = (v: unknown, d = ''): string => (typeof v === 'string' && v !== '' ? v : d);
/** A number, else `d`. */
export const num = (v: unknown, d: number): number => (typeof v === 'number' ? v : d);
/** A boolean, else `d`. */
export const bool = (v: unknown, d: boolean): boolean => (typeof v === 'boolean' ? v : d);
/** A bound map with every value as text (null → ''). */
export const stringRecord = (v: unknown): Record<string, string> =>
  Object.fromEntries(
    Object.entries(bag(v)).map(([k, val]) => [
      k,
      val === undefined || val === null ? '' : String(val),
    ]),
  );

/** `canal.conf` as a key path. */
export const CONF_PATH: readonly PathSegment[] = ['canal', 'conf'];

/**
 * What the validation passes share. Each pass reads what earlier passes set, adds its own
 * findings to `problems` and fills its part; a pass sets `stop` when nothing after it can run
 * (no `application.yml`, invalid YAML). One state per `validateConfigDir` call.
 */
export interface ValidationState {
  /** Absolute configuration directory. */
  readonly dir: string;
  readonly env: Environment;
  readonly options: ValidateOptions;
  readonly problems: ProblemCollector;
  /** Secret values met while reading; printouts replace them with `******`. */
  readonly secrets: Set<string>;
  readonly catalog: SinkCatalog;
  stop: boolean;
  /** `application.yml` or `application.yaml`, once read. */
  file: string;
  root: YNode | undefined;
  /** Resolves `${name}` in application.yml: environment, Spring's environment form, the file. */
  lookup: PropertyLookup;
  /** The whole bound `application.yml`. */
  bound: Bag;
  /** The bound `canal.conf`. */
  conf: Bag;
  serverPort: number;
  /** Lower-cased `canal.conf.mode` (`tcp` when not set). */
  mode: string;
  /** True when `mode` is written in the file or the environment (canal's mapping-key rule). */
  modeConfigured: boolean;
  /** True when a registered source provides `mode`. */
  modeUsable: boolean;
  srcDataSources: Record<string, DataSourceOptions>;
  canalAdapters: CanalAdapterConfig[];
  /** Every configured sink instance (named outer adapters). */
  adapters: AdapterRef[];
  /** Where each configured sink instance is named (`name:` line), by `name\0key`. */
  adapterOrigins: Map<string, { origin: Origin; path: readonly PathSegment[] }>;
  /** Sink instances whose `properties` had errors (their `create` is not tried). */
  adaptersWithErrors: Set<string>;
  /** True when the source properties had errors (the source's `create` is not tried). */
  sourcePropertiesInvalid: boolean;
  sluice: SluiceSettings | undefined;
  mappings: ConfiguredMapping[];
}

/** One validation pass (see {@link ValidationState}). */
export type ValidationPass = (state: ValidationState) => void | Promise<void>;

/** The origin of the node at `path` in application.yml, else of its nearest ancestor. */
export function originIn(state: ValidationState, path: readonly PathSegment[]): Origin {
  return originOf(state.root, path, state.file);
}
