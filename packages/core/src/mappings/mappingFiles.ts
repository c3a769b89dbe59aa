import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { DataSourceOptions } from '@sluice/plugin-api';
import { bindNode, formatPath } from '../config/binding/bind.js';
import type { MappedTable } from '@sluice/plugin-api';
import { findNode } from '../config/binding/locate.js';
import { resolveMappingPlaceholders, type PropertyLookup } from '../config/binding/placeholders.js';
import { ProblemCollector, type ConfigProblem } from '../config/binding/problems.js';
import { closestMatches, didYouMean } from '../config/binding/relaxed.js';
import type { SinkCatalog } from './sinkCatalog.js';
import type { ConfiguredMapping, SinkRef } from '../config/application/types.js';
import { parseYamlTree } from '../config/binding/yamlTree.js';

/** A configured sink instance, with where it sits in `canalAdapters`. */
export interface AdapterRef extends SinkRef {
  readonly instance: string;
  readonly groupId: string;
}

/** What loading mapping files needs from the rest of the configuration. */
export interface MappingContext {
  /** Absolute configuration directory. */
  readonly dir: string;
  readonly catalog: SinkCatalog;
  /** Every configured sink instance. */
  readonly adapters: readonly AdapterRef[];
  readonly dataSources: Readonly<Record<string, DataSourceOptions>>;
  /** Every `srcDataSources` key, including those whose URL is invalid (already reported); default the keys of `dataSources`. */
  readonly declaredDataSourceKeys?: readonly string[];
  /** Resolves `${name}` placeholders in mapping files (environment, then application.yml). */
  readonly lookup: PropertyLookup;
  readonly mappingKeyScheme: 'tcp' | 'mq';
  /** Secret values met while binding. */
  readonly secrets: Set<string>;
}

/** The outcome of loading one mapping file. */
export interface MappingFileResult {
  /** Relative path (`rdb/mytest_user.yml`). */
  readonly file: string;
  /** The mapping, unless the file has errors. */
  readonly mapping: ConfiguredMapping | undefined;
  readonly problems: readonly ConfigProblem[];
}

/** The auto-key prefix a key-less mapping file attaches to (canal §3.3). */
export function autoKeyPrefix(
  destination: string | undefined,
  groupId: string | undefined,
): string {
  return `AUTO_GENERATED_-${destination ?? 'null'}-${groupId ?? ''}`;
}

/** canal's generated key for the `index`-th outer adapter of a group. */
export function autoAdapterKey(instance: string, groupId: string, index: number): string {
  return `AUTO_GENERATED_-${instance}-${groupId}-${index}`;
}

/** The sink instances of type `type` that own a mapping (canal §3.3). */
export function mappingOwners(
  type: string,
  outerAdapterKey: string | undefined,
  destination: string | undefined,
  groupId: string | undefined,
  adapters: readonly AdapterRef[],
): SinkRef[] {
  const owners: SinkRef[] = [];
  const seen = new Set<string>();
  for (const a of adapters) {
    if (a.name !== type) continue;
    const owns = outerAdapterKey
      ? a.key.toLowerCase() === outerAdapterKey.toLowerCase()
      : a.key.startsWith(autoKeyPrefix(destination, groupId));
    const id = `${a.name}\u0000${a.key}`;
    if (owns && !seen.has(id)) {
      seen.add(id);
      owners.push({ name: a.name, key: a.key });
    }
  }
  return owners;
}

const text = (v: unknown): string | undefined =>
  typeof v === 'string' && v !== '' ? v : undefined;

/** Validates one mapping file's text and works out its tables and owners. */
export function loadMappingText(
  type: string,
  file: string,
  source: string,
  context: MappingContext,
): MappingFileResult {
  const problems = new ProblemCollector();
  const entry = context.catalog.get(type);
  const schema = entry?.mappings?.schema;
  const parsed = parseYamlTree(source, file);
  for (const e of parsed.errors) {
    problems.add({
      severity: 'error',
      code: 'yaml-syntax',
      file,
      line: e.line,
      path: '',
      message: `not valid YAML: ${e.message}`,
    });
  }
  if (parsed.errors.length > 0) return { file, mapping: undefined, problems: problems.problems };
  if (parsed.root === undefined || parsed.root.kind !== 'map') {
    problems.add({
      severity: 'error',
      code: 'mapping-invalid',
      file,
      line: parsed.root?.line ?? 0,
      path: '',
      message:
        parsed.root === undefined
          ? 'the file is empty'
          : 'expected a mapping of keys at the top level',
    });
    return { file, mapping: undefined, problems: problems.problems };
  }
  const root = parsed.root;
  const bound = (
    schema
      ? bindNode(schema, root, [], {
          problems,
          secrets: context.secrets,
          resolveText: (t) => resolveMappingPlaceholders(t, context.lookup),
        })
      : bindNode({ type: 'any' }, root, [], {
          problems,
          secrets: context.secrets,
          resolveText: (t) => resolveMappingPlaceholders(t, context.lookup),
        })
  ) as Record<string, unknown> | undefined;
  const config = bound ?? {};
  const lineOf = (path: readonly string[]) =>
    findNode(root, path)?.line ?? findNode(root, path.slice(0, -1))?.line ?? root.line;
  // The plugin's hooks see only files that passed schema validation (MappingSpec contract); a
  // hook that throws is a plugin bug, reported against the file instead of stopping validation.
  const hook = <T>(what: string, run: () => T): T | undefined => {
    try {
      return run();
    } catch (error) {
      problems.add({
        severity: 'error',
        code: 'mapping-invalid',
        file,
        line: root.line,
        path: '',
        message: `the "${type}" sink's mapping ${what} failed on this file: ${(error as Error).message}`,
      });
      return undefined;
    }
  };
  const checked = problems.hasErrors
    ? []
    : (hook('check', () => entry?.mappings?.check?.(config)) ?? []);
  for (const p of checked) {
    problems.add({
      severity: p.severity,
      code: 'mapping-invalid',
      file,
      line: lineOf(p.path),
      path: formatPath(p.path),
      message: p.message,
      ...(p.suggestion ? { suggestion: p.suggestion } : {}),
    });
  }
  const destination = text(config['destination']);
  const groupId = text(config['groupId']);
  const outerAdapterKey = text(config['outerAdapterKey']);
  const dataSourceKey = text(config['dataSourceKey']);

  const declared = context.declaredDataSourceKeys ?? Object.keys(context.dataSources);
  if (dataSourceKey !== undefined && !declared.includes(dataSourceKey)) {
    const keys = [...declared];
    problems.add({
      severity: 'error',
      code: 'missing-data-source',
      file,
      line: lineOf(['dataSourceKey']),
      path: 'dataSourceKey',
      message: `no srcDataSources entry is named "${dataSourceKey}"`,
      expected:
        keys.length > 0
          ? `one of ${keys.join(', ')}`
          : 'a key defined under canal.conf.srcDataSources (none is)',
      ...suggest(dataSourceKey, keys),
    });
  }
  if (destination === undefined) {
    problems.add({
      severity: 'warning',
      code: 'mapping-invalid',
      file,
      line: root.line,
      path: 'destination',
      message: 'missing: the mapping matches no events',
      expected: 'a canalAdapters[].instance',
    });
  }
  const sameType = context.adapters.filter((a) => a.name === type);
  const owners = mappingOwners(type, outerAdapterKey, destination, groupId, context.adapters);
  if (sameType.length === 0) {
    problems.add({
      severity: 'warning',
      code: 'unowned-mapping',
      file,
      line: 0,
      path: '',
      message: `no "${type}" adapter is configured in canalAdapters, so this file is not used`,
    });
  } else if (outerAdapterKey !== undefined && owners.length === 0) {
    const keys = [...new Set(sameType.map((a) => a.key))];
    problems.add({
      severity: 'error',
      code: 'missing-adapter-key',
      file,
      line: lineOf(['outerAdapterKey']),
      path: 'outerAdapterKey',
      message: `no "${type}" adapter has the key "${outerAdapterKey}"`,
      expected: `one of ${keys.join(', ')}`,
      ...suggest(outerAdapterKey, keys),
    });
  } else if (owners.length === 0) {
    const explicit = sameType
      .filter((a) => !a.key.startsWith('AUTO_GENERATED_-'))
      .map((a) => a.key);
    problems.add({
      severity: 'warning',
      code: 'unowned-mapping',
      file,
      line: root.line,
      path: 'outerAdapterKey',
      message: `no "${type}" adapter owns this file: without outerAdapterKey it attaches only to adapters without a key in instance "${destination ?? ''}"${groupId ? `, group "${groupId}"` : ''}`,
      ...(explicit.length > 0 ? { suggestion: `set outerAdapterKey: ${explicit[0]}` } : {}),
    });
  }
  if (context.mappingKeyScheme === 'mq' && groupId === undefined && destination !== undefined) {
    problems.add({
      severity: 'warning',
      code: 'mapping-invalid',
      file,
      line: root.line,
      path: 'groupId',
      message:
        'missing: outside tcp mode canal selects mappings by destination and groupId, so this mapping matches no events',
      expected: 'the groups[].groupId the mapping belongs to',
    });
  }
  const tables: readonly MappedTable[] = problems.hasErrors
    ? []
    : (hook('tables', () =>
        entry?.mappings?.tables(config, {
          defaultDatabase: (key) => (key ? text(context.dataSources[key]?.database) : undefined),
        }),
      ) ?? []);
  for (const t of tables) {
    if (t.database === undefined) {
      problems.add({
        severity: 'warning',
        code: 'mapping-invalid',
        file,
        line: root.line,
        path: '',
        message: `table "${t.table}" has no database: qualify it (db.${t.table}) or give dataSourceKey a JDBC URL with a database`,
      });
    }
  }
  const found = problems.problems;
  const hasErrors = found.some((p) => p.severity === 'error');
  // A file in the directory of an adapter type that is not configured is not used (canal-adapter
  // ignores it too: its shipped rdb/ and es7/ samples sit there with srcDataSources commented
  // out): its problems are reported, as warnings.
  const collected =
    sameType.length === 0
      ? found.map((p) =>
          p.severity === 'error'
            ? { ...p, severity: 'warning' as const, message: `${p.message} (the file is not used)` }
            : p,
        )
      : found;
  if (hasErrors) return { file, mapping: undefined, problems: collected };
  const slash = file.lastIndexOf('/');
  return {
    file,
    problems: collected,
    mapping: {
      file,
      name: file.slice(slash + 1),
      type,
      config,
      destination,
      groupId,
      outerAdapterKey,
      dataSourceKey,
      tables,
      owners,
      digest: createHash('sha256').update(source).digest('hex'),
    },
  };
}

function suggest(word: string, candidates: readonly string[]): { suggestion?: string } {
  const hint = didYouMean(closestMatches(word, candidates));
  return hint ? { suggestion: hint } : {};
}

/** Reads every mapping directory the catalogue knows (`rdb/`, `es7/`, …), file by file, in name order. */
export async function loadMappingFiles(context: MappingContext): Promise<MappingFileResult[]> {
  const results: MappingFileResult[] = [];
  const dirs = [...context.catalog.mappingDirectories()].sort(([a], [b]) => a.localeCompare(b));
  for (const [dir, type] of dirs) {
    let names: string[];
    try {
      names = (await readdir(join(context.dir, dir), { withFileTypes: true }))
        .filter((d) => d.isFile())
        .map((d) => d.name)
        .sort();
    } catch {
      continue; // no such directory: nothing to load
    }
    for (const name of names) {
      const file = `${dir}/${name}`;
      if (name.endsWith('.yaml')) {
        results.push({
          file,
          mapping: undefined,
          problems: [
            {
              severity: 'warning',
              code: 'ignored-file',
              file,
              line: 0,
              path: '',
              message: 'ignored: mapping files must end in .yml (canal-adapter loads only *.yml)',
              suggestion: `rename it to ${name.replace(/\.yaml$/, '.yml')}`,
            },
          ],
        });
        continue;
      }
      if (!name.endsWith('.yml')) continue;
      let source: string;
      try {
        source = await readFile(join(context.dir, dir, name), 'utf8');
      } catch (error) {
        results.push({
          file,
          mapping: undefined,
          problems: [
            {
              severity: 'error',
              code: 'file-unreadable',
              file,
              line: 0,
              path: '',
              message: `cannot read: ${(error as Error).message}`,
            },
          ],
        });
        continue;
      }
      results.push(loadMappingText(type, file, source, context));
    }
  }
  return results;
}
