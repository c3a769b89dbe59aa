import { resolve } from 'node:path';
import { environmentName } from '../binding/placeholders.js';
import { ProblemCollector, type ConfigProblem } from '../binding/problems.js';
import type { AdapterRef, MappingContext } from '../../mappings/mappingFiles.js';
import { SinkCatalog, type PluginSchemaSource } from '../../mappings/sinkCatalog.js';
import { bindApplication } from './passes/bindApplication.js';
import { checkAdapters } from './passes/checkAdapters.js';
import { checkInstances } from './passes/checkInstances.js';
import { checkMode } from './passes/checkMode.js';
import { checkRenamedKeys } from './passes/checkRenamedKeys.js';
import { checkSluiceSettings } from './passes/checkSluiceSettings.js';
import { loadMappings, mappingKeySchemeOf } from './passes/loadMappings.js';
import { parseDataSources } from './passes/parseDataSources.js';
import { readApplication } from './passes/readApplication.js';
import {
  bool,
  num,
  str,
  stringRecord,
  type Environment,
  type ValidateOptions,
  type ValidationPass,
  type ValidationState,
} from './passes/state.js';
import { sluiceSettingsOf } from './sluiceSettings.js';
import { sourcePropertiesOf } from './canalSchemas.js';
import type { ResolvedConfig } from './types.js';

export type { Environment, ValidateOptions } from './passes/state.js';

/** What {@link validateConfigDir} found. */
export interface ValidationResult {
  /** The resolved configuration; undefined when `application.yml` could not be read or parsed. */
  readonly config: ResolvedConfig | undefined;
  /** Every problem found, errors and warnings. */
  readonly problems: readonly ConfigProblem[];
  /** True when there is no error. */
  readonly ok: boolean;
  /** Secret values (passwords, tokens, keys) met while reading; printouts replace them with `******`. */
  readonly secrets: ReadonlySet<string>;
}

/**
 * The validation, in order: each pass reads what the earlier ones found and adds its problems
 * to one report (the OpenTelemetry configuration-factory pattern, architecture review §8.E).
 */
export const VALIDATION_PASSES: readonly ValidationPass[] = [
  readApplication,
  bindApplication,
  checkRenamedKeys,
  checkMode,
  parseDataSources,
  checkAdapters,
  checkSluiceSettings,
  loadMappings,
  checkInstances,
];

/**
 * Reads and validates a canal-adapter configuration directory: `application.yml` (canal's keys,
 * Spring's binding rules, Sluice's `sluice:` block), every mapping file under the adapters'
 * directories and, given the plugin registry, what each plugin's `create` checks. Collects every
 * problem instead of stopping at the first. `sluice validate` and `sluice start` run exactly
 * this (start then runs the result).
 */
export async function validateConfigDir(
  dir: string,
  options: ValidateOptions = {},
): Promise<ValidationResult> {
  const state: ValidationState = {
    dir: resolve(dir),
    env: options.env ?? process.env,
    options,
    problems: new ProblemCollector(),
    secrets: new Set(),
    catalog: new SinkCatalog(options.plugins),
    stop: false,
    file: 'application.yml',
    root: undefined,
    lookup: () => undefined,
    bound: {},
    conf: {},
    serverPort: 8081,
    mode: 'tcp',
    modeConfigured: false,
    modeUsable: false,
    srcDataSources: {},
    canalAdapters: [],
    adapters: [],
    adapterOrigins: new Map(),
    adaptersWithErrors: new Set(),
    sourcePropertiesInvalid: false,
    sluice: undefined,
    mappings: [],
  };
  const passes =
    options.mappings === false
      ? VALIDATION_PASSES.slice(0, VALIDATION_PASSES.indexOf(loadMappings))
      : VALIDATION_PASSES;
  for (const pass of passes) {
    await pass(state);
    if (state.stop) break;
  }
  const problems = withoutSuperseded(state.problems.problems);
  const ok = !problems.some((p) => p.severity === 'error');
  return {
    config: state.stop ? undefined : resolvedConfigOf(state),
    problems,
    ok,
    secrets: state.secrets,
  };
}

/** Drops the generic "unknown key" warning where a more precise problem names the same key. */
function withoutSuperseded(problems: readonly ConfigProblem[]): ConfigProblem[] {
  const precise = new Set(
    problems.filter((p) => p.code === 'legacy-key').map((p) => `${p.file}:${p.line}:${p.path}`),
  );
  return problems.filter(
    (p) => !(p.code === 'unknown-key' && precise.has(`${p.file}:${p.line}:${p.path}`)),
  );
}

function resolvedConfigOf(state: ValidationState): ResolvedConfig {
  const conf = state.conf;
  return {
    dir: state.dir,
    serverPort: state.serverPort,
    server: { port: state.serverPort },
    canal: {
      mode: state.mode,
      mappingKeyScheme: mappingKeySchemeOf(state),
      flatMessage: bool(conf['flatMessage'], true),
      zookeeperHosts: str(conf['zookeeperHosts']),
      syncBatchSize: num(conf['syncBatchSize'], 1000),
      retries: num(conf['retries'], 0),
      timeout: num(conf['timeout'], 500),
      accessKey: str(conf['accessKey']),
      secretKey: str(conf['secretKey']),
      terminateOnException: bool(conf['terminateOnException'], false),
      consumerProperties: sourcePropertiesOf(
        state.mode,
        conf,
        stringRecord(conf['consumerProperties']),
      ),
      srcDataSources: state.srcDataSources,
      canalAdapters: state.canalAdapters,
    },
    // Set by checkSluiceSettings, which runs whenever application.yml was bound.
    sluice:
      state.sluice ??
      sluiceSettingsOf(undefined, state.serverPort, undefined, undefined, state.mode),
    mappings: state.mappings,
  };
}

/** The {@link MappingContext} of a resolved configuration, for reloading its mapping files. */
export function mappingContextOf(
  config: ResolvedConfig,
  options: { env?: Environment; plugins?: PluginSchemaSource; secrets?: Set<string> } = {},
): MappingContext {
  const env = options.env ?? process.env;
  const adapters: AdapterRef[] = config.canal.canalAdapters.flatMap((a) =>
    a.groups.flatMap((g) =>
      g.outerAdapters
        .filter((o) => o.name !== '')
        .map((o) => ({ name: o.name, key: o.key, instance: a.instance, groupId: g.groupId })),
    ),
  );
  return {
    dir: config.dir,
    catalog: new SinkCatalog(options.plugins),
    adapters,
    dataSources: config.canal.srcDataSources,
    lookup: (name) => env[name] ?? env[environmentName(name)],
    mappingKeyScheme: config.canal.mappingKeyScheme,
    secrets: options.secrets ?? new Set(),
  };
}
