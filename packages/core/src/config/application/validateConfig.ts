import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { DataSourceOptions } from '@sluice/plugin-api';
import { bindNode, flattenEntries, formatPath, type PathSegment } from '../binding/bind.js';
import {
  applicationSchema,
  CANAL_MODES,
  DEPRECATED_CANAL_CONF_KEYS,
  SLUICE_MODES,
} from './canalSchemas.js';
import { JDBC_URL_FORMS, parseJdbcUrl } from './jdbcUrl.js';
import { ADAPTER_NAME_HINTS } from './knownAdapters.js';
import { findNode, originOf } from '../binding/locate.js';
import {
  autoAdapterKey,
  loadMappingFiles,
  type AdapterRef,
  type MappingContext,
} from '../../mappings/mappingFiles.js';
import {
  environmentName,
  resolveSpringPlaceholders,
  springLookup,
  type PropertyLookup,
} from '../binding/placeholders.js';
import { ProblemCollector, type ConfigProblem } from '../binding/problems.js';
import { closestMatches, didYouMean } from '../binding/relaxed.js';
import { SinkCatalog, type PluginSchemaSource } from '../../mappings/sinkCatalog.js';
import { isLoopback, toSluiceSettings } from './sluiceSettings.js';
import type {
  AdapterGroupConfig,
  CanalAdapterConfig,
  OuterAdapterConfig,
  ResolvedConfig,
} from './types.js';
import { parseYamlTree, syntheticScalar, type YMap, type YNode } from '../binding/yamlTree.js';

/** Environment variables, as in `process.env`. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** Options of {@link validateConfigDir}. */
export interface ValidateOptions {
  /** Environment for `${VAR}` placeholders and Spring-style overrides; default `process.env`. */
  readonly env?: Environment;
  /** Registered plugins (e.g. the {@link PluginRegistry}); their schemas override canal's built-in ones. */
  readonly plugins?: PluginSchemaSource;
  /**
   * Treat an adapter name or mode without a registered plugin as an error (what `sluice start`
   * needs). Default false: `sluice validate` reports it as a warning.
   */
  readonly requirePlugins?: boolean;
}

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

/** The names Sluice reads `application.yml` from, in order. */
const APPLICATION_FILES = ['application.yml', 'application.yaml'];

type Bag = Readonly<Record<string, unknown>>;
const bag = (v: unknown): Bag =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Bag) : {};
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown, d = ''): string => (typeof v === 'string' && v !== '' ? v : d);
const num = (v: unknown, d: number): number => (typeof v === 'number' ? v : d);
const bool = (v: unknown, d: boolean): boolean => (typeof v === 'boolean' ? v : d);
const stringRecord = (v: unknown): Record<string, string> =>
  Object.fromEntries(
    Object.entries(bag(v)).map(([k, val]) => [
      k,
      val === undefined || val === null ? '' : String(val),
    ]),
  );

async function readApplication(dir: string): Promise<{ file: string; text: string } | undefined> {
  for (const file of APPLICATION_FILES) {
    try {
      return { file, text: await readFile(resolve(dir, file), 'utf8') };
    } catch {
      // try the next name
    }
  }
  return undefined;
}

/**
 * Reads and validates a canal-adapter configuration directory: `application.yml` (canal's keys,
 * Spring's binding rules, Sluice's `sluice:` block) and every mapping file under the adapters'
 * directories. Collects every problem instead of stopping at the first.
 */
export async function validateConfigDir(
  dir: string,
  options: ValidateOptions = {},
): Promise<ValidationResult> {
  const absDir = resolve(dir);
  const env = options.env ?? process.env;
  const problems = new ProblemCollector();
  const secrets = new Set<string>();
  const done = (config: ResolvedConfig | undefined): ValidationResult => ({
    config,
    problems: problems.problems,
    ok: !problems.hasErrors,
    secrets,
  });

  const app = await readApplication(absDir);
  if (!app) {
    problems.add({
      severity: 'error',
      code: 'file-unreadable',
      file: 'application.yml',
      line: 0,
      path: '',
      message: `cannot read ${resolve(absDir, 'application.yml')}`,
      expected: 'a canal-adapter configuration directory (conf/) holding application.yml',
    });
    return done(undefined);
  }
  const parsed = parseYamlTree(app.text, app.file);
  for (const e of parsed.errors) {
    problems.add({
      severity: 'error',
      code: 'yaml-syntax',
      file: app.file,
      line: e.line,
      path: '',
      message: `not valid YAML: ${e.message}`,
    });
  }
  if (parsed.errors.length > 0) return done(undefined);
  const root: YNode = parsed.root ?? { kind: 'map', file: app.file, line: 1, entries: [] };
  const lookup = springLookup(env, root);

  const bound = bag(
    bindNode(
      applicationSchema,
      root,
      [],
      {
        problems,
        secrets,
        resolveText: (text, node, path) => {
          const r = resolveSpringPlaceholders(text, lookup);
          for (const name of r.missing) {
            problems.add({
              severity: 'error',
              code: 'placeholder-unresolved',
              file: node.file,
              line: node.line,
              path: formatPath(path),
              message: `the placeholder \${${name}} has no value and no default`,
              suggestion: `set the environment variable ${/^[A-Z0-9_]+$/.test(name) ? name : environmentName(name)} or write \${${name}:default}`,
            });
          }
          // An unresolved value counts as empty (its default applies), so it is reported once.
          return r.missing.length > 0 ? '' : r.text;
        },
        hasOverridesUnder: (path) => {
          const prefix = `${environmentName(path.join('.'))}_`;
          return Object.keys(env).some((name) => name.startsWith(prefix));
        },
        override: (path) => {
          const name = environmentName(path.join('.'));
          const value = env[name];
          return value === undefined
            ? undefined
            : syntheticScalar(value, { file: `environment variable ${name}`, line: 0 });
        },
      },
      [],
    ),
  );

  const at = (path: readonly PathSegment[]) => originOf(root, path, app.file);
  const confPath = ['canal', 'conf'];
  const conf = bag(bag(bound['canal'])['conf']);
  const server = bag(bound['server']);
  const serverPort = num(server['port'], 8081);
  const catalog = new SinkCatalog(options.plugins);

  // Deprecated keys: bound by canal-adapter, read by nothing.
  for (const key of DEPRECATED_CANAL_CONF_KEYS) {
    const value = conf[key];
    if (value !== undefined && value !== null && value !== '') {
      problems.add({
        severity: 'warning',
        code: 'deprecated-key',
        ...at([...confPath, key]),
        path: formatPath([...confPath, key]),
        message: 'deprecated: canal-adapter ignores it',
        suggestion:
          'move it to canal.conf.consumerProperties (e.g. kafka.bootstrap.servers, canal.tcp.server.host)',
      });
    }
  }

  // mode → a source plugin.
  const modeRaw = str(conf['mode'], 'tcp');
  const mode = modeRaw.toLowerCase();
  const modeConfigured =
    findNode(root, [...confPath, 'mode']) !== undefined ||
    env[environmentName('canal.conf.mode')] !== undefined;
  const sources = options.plugins?.sourceNames?.() ?? [];
  if (!sources.includes(mode)) {
    const canalMode = ([...CANAL_MODES, ...SLUICE_MODES] as readonly string[]).includes(mode);
    const origin =
      env['CANAL_CONF_MODE'] !== undefined
        ? { file: 'environment variable CANAL_CONF_MODE', line: 0 }
        : at([...confPath, 'mode']);
    problems.add({
      severity: canalMode && !options.requirePlugins ? 'warning' : 'error',
      code: canalMode ? 'plugin-missing' : 'unknown-mode',
      ...origin,
      path: 'canal.conf.mode',
      message: canalMode
        ? `no source plugin for mode "${modeRaw}" is loaded`
        : `unknown mode "${modeRaw}"`,
      expected: `one of ${[...new Set([...sources, ...CANAL_MODES, ...SLUICE_MODES])].join(', ')}`,
      ...(canalMode
        ? { suggestion: `add the plugin providing "${mode}" to sluice.plugins` }
        : suggestion(modeRaw, [...sources, ...CANAL_MODES, ...SLUICE_MODES])),
    });
  }

  // srcDataSources: parse the JDBC URLs.
  const srcDataSources: Record<string, DataSourceOptions> = {};
  for (const [key, rawDs] of Object.entries(bag(conf['srcDataSources']))) {
    const ds = bag(rawDs);
    const url = str(ds['url']);
    if (url === '') continue; // reported as required
    const parsedUrl = parseJdbcUrl(url);
    const urlPath = [...confPath, 'srcDataSources', key, 'url'];
    if (!parsedUrl.ok) {
      problems.add({
        severity: 'error',
        code: 'jdbc-url',
        ...at(urlPath),
        path: formatPath(urlPath),
        message: parsedUrl.message,
        expected: JDBC_URL_FORMS,
      });
      continue;
    }
    const u = parsedUrl.url;
    const password = str(ds['password'], u.password ?? '');
    if (password) secrets.add(password);
    srcDataSources[key] = {
      key,
      kind: u.kind,
      host: u.host,
      port: u.port,
      database: u.database,
      user: str(ds['username'], u.user ?? ''),
      password,
      params: u.params,
      maxActive: num(ds['maxActive'], 3),
    };
  }

  // canalAdapters: names, keys, properties.
  const adapters: AdapterRef[] = [];
  const seenGroups = new Map<string, string>();
  const seenAdapters = new Map<string, string>();
  const canalAdapters: CanalAdapterConfig[] = list(conf['canalAdapters']).map((rawAdapter, ai) => {
    const adapter = bag(rawAdapter);
    const instance = str(adapter['instance']).trim();
    const groups: AdapterGroupConfig[] = list(adapter['groups']).map((rawGroup, gi) => {
      const group = bag(rawGroup);
      const groupId = str(group['groupId'], 'default');
      const groupPath = [...confPath, 'canalAdapters', ai, 'groups', gi];
      const groupKey = `${instance}\u0000${groupId}`;
      const previous = seenGroups.get(groupKey);
      if (previous !== undefined) {
        problems.add({
          severity: 'error',
          code: 'duplicate-adapter',
          ...at([...groupPath, 'groupId']),
          path: formatPath([...groupPath, 'groupId']),
          message: `instance "${instance}" has group "${groupId}" twice (also at ${previous}); canal-adapter would never feed the second one`,
          suggestion: 'merge the two outerAdapters lists into one group',
        });
      } else seenGroups.set(groupKey, formatPath(groupPath));
      const outerAdapters: OuterAdapterConfig[] = list(group['outerAdapters']).map(
        (rawOuter, oi) => {
          const outer = bag(rawOuter);
          const outerPath = [...groupPath, 'outerAdapters', oi];
          const name = str(outer['name']);
          const configuredKey = str(outer['key']);
          const key = configuredKey || autoAdapterKey(instance, groupId, oi);
          const propertiesNode = findNode(root, [...outerPath, 'properties']);
          const properties = stringRecord(outer['properties']);
          if (name !== '') {
            checkAdapterName(name, outerPath);
            const id = `${name}\u0000${key}`;
            const prior = seenAdapters.get(id);
            if (prior !== undefined && configuredKey) {
              problems.add({
                severity: 'warning',
                code: 'duplicate-adapter',
                ...at([...outerPath, 'key']),
                path: formatPath([...outerPath, 'key']),
                message: `"${name}" with key "${key}" is also defined at ${prior}: both entries share one sink instance`,
              });
            } else seenAdapters.set(id, formatPath(outerPath));
            checkProperties(name, propertiesNode, outerPath, properties);
            adapters.push({ name, key, instance, groupId });
          }
          return {
            name,
            key,
            keyGenerated: configuredKey === '',
            hosts: str(outer['hosts']) || undefined,
            properties,
          };
        },
      );
      return { groupId, outerAdapters };
    });
    return { instance, groups };
  });

  function checkAdapterName(name: string, outerPath: readonly PathSegment[]): void {
    const entry = catalog.get(name);
    const path = [...outerPath, 'name'];
    if (entry === undefined) {
      const usable = catalog.usableNames();
      const hint = ADAPTER_NAME_HINTS[name.toLowerCase()];
      const exactCase = catalog.names().find((n) => n.toLowerCase() === name.toLowerCase());
      const options = hint ?? (exactCase ? [exactCase] : closestMatches(name, usable));
      problems.add({
        severity: 'error',
        code: 'unknown-adapter',
        ...at(path),
        path: formatPath(path),
        message: `unknown adapter "${name}"`,
        expected: `one of ${usable.join(', ')}`,
        ...(didYouMean(options) ? { suggestion: didYouMean(options) } : {}),
      });
      return;
    }
    if (!entry.registered) {
      problems.add({
        severity: options.requirePlugins ? 'error' : 'warning',
        code: 'plugin-missing',
        ...at(path),
        path: formatPath(path),
        message: entry.sluice
          ? `no plugin providing the "${name}" sink is loaded`
          : `canal-adapter's "${name}" adapter has no Sluice implementation`,
        suggestion: `add a plugin named "${name}" to sluice.plugins`,
      });
    }
  }

  function checkProperties(
    name: string,
    node: YNode | undefined,
    outerPath: readonly PathSegment[],
    properties: Record<string, string>,
  ): void {
    const schema = catalog.get(name)?.propertiesSchema;
    if (!schema) return;
    const path = [...outerPath, 'properties'];
    const origin = node ?? { ...at(outerPath), kind: 'scalar' as const, text: null };
    const flat: YMap =
      node?.kind === 'map'
        ? { kind: 'map', file: node.file, line: node.line, entries: flattenEntries(node) }
        : { kind: 'map', file: origin.file, line: origin.line, entries: [] };
    if (
      node !== undefined &&
      node.kind !== 'map' &&
      !(node.kind === 'scalar' && (node.text ?? '') === '')
    )
      return; // type error already reported
    // Values are already resolved (placeholders) in `properties`; bind the text as is.
    const resolved: YMap = {
      ...flat,
      entries: flat.entries.map((e) => ({
        ...e,
        value:
          e.value.kind === 'scalar'
            ? { ...e.value, text: properties[e.key] ?? e.value.text }
            : e.value,
      })),
    };
    bindNode(schema, resolved, path, { problems, secrets, exactKeys: true, resolveText: (t) => t });
  }

  const sluice = toSluiceSettings(bound['sluice'], serverPort, num(conf['syncBatchSize'], 1000));
  if (sluice.admin.enabled && sluice.admin.token === undefined && !isLoopback(sluice.admin.host)) {
    problems.add({
      severity: 'error',
      code: 'invalid-value',
      ...at(['sluice', 'admin', 'host']),
      path: 'sluice.admin.host',
      message: `the admin API would listen on "${sluice.admin.host}" without a token`,
      expected: 'a loopback address, or sluice.admin.token set',
      suggestion: 'set sluice.admin.token (e.g. from ${SLUICE_ADMIN_TOKEN})',
    });
  }

  const mappingKeyScheme = modeConfigured && mode === 'tcp' ? 'tcp' : 'mq';
  const mappingLookup: PropertyLookup = (name) => env[name] ?? lookup(name);
  const context: MappingContext = {
    dir: absDir,
    catalog,
    adapters,
    dataSources: srcDataSources,
    declaredDataSourceKeys: Object.keys(bag(conf['srcDataSources'])),
    lookup: mappingLookup,
    mappingKeyScheme,
    secrets,
  };
  const mappingResults = await loadMappingFiles(context);
  for (const r of mappingResults) for (const p of r.problems) problems.add(p);

  const config: ResolvedConfig = {
    dir: absDir,
    serverPort,
    server: { port: serverPort },
    canal: {
      mode,
      mappingKeyScheme,
      flatMessage: bool(conf['flatMessage'], true),
      zookeeperHosts: str(conf['zookeeperHosts']),
      syncBatchSize: num(conf['syncBatchSize'], 1000),
      retries: num(conf['retries'], 0),
      timeout: num(conf['timeout'], 500),
      accessKey: str(conf['accessKey']),
      secretKey: str(conf['secretKey']),
      terminateOnException: bool(conf['terminateOnException'], false),
      consumerProperties: stringRecord(conf['consumerProperties']),
      srcDataSources,
      canalAdapters,
    },
    sluice,
    mappings: mappingResults.flatMap((r) => (r.mapping ? [r.mapping] : [])),
  };
  return done(config);
}

function suggestion(word: string, candidates: readonly string[]): { suggestion?: string } {
  const hint = didYouMean(closestMatches(word, candidates));
  return hint ? { suggestion: hint } : {};
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
