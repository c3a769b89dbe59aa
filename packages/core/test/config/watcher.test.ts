import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  MappingWatcher,
  diffMappings,
  mappingContextOf,
  reloadMappings,
  validateConfigDir,
  type MappingReload,
} from '@sluice/core';
import { application, writeConf, writeFiles } from './support.js';
import { builtinSchemas } from './plugins.js';

const app = application(`      - name: rdb
        key: t1
        properties:
          jdbc.url: jdbc:mysql://127.0.0.1/t
      - name: rdb
        key: t2
        properties:
          jdbc.url: jdbc:mysql://127.0.0.1/t`);

const mapping = (table: string, key = 't1') => `dataSourceKey: defaultDS
destination: example
groupId: g1
outerAdapterKey: ${key}
dbMapping:
  database: mytest
  table: ${table}
  targetTable: ${table}
  targetPk:
    id: id
  mapAll: true
`;

async function setup(files: Record<string, string>) {
  const dir = await writeConf({ 'application.yml': app, ...files });
  const { config } = await validateConfigDir(dir, { env: {}, plugins: builtinSchemas() });
  if (!config) throw new Error('no config');
  return { dir, config };
}

const names = (r: MappingReload) =>
  r.changes.map((c) => ({
    sink: c.sink.key,
    added: c.added.map((m) => m.name),
    changed: c.changed.map((m) => m.name),
    removed: c.removed.map((m) => m.name),
  }));

describe('mapping reload', () => {
  it('reports added, changed and removed files per sink instance', async () => {
    const { dir, config } = await setup({
      'rdb/a.yml': mapping('user'),
      'rdb/b.yml': mapping('role'),
      'rdb/c.yml': mapping('x'),
    });
    const context = mappingContextOf(config, { env: {}, plugins: builtinSchemas() });
    const unchanged = await reloadMappings(config.mappings, context);
    expect(unchanged.changes).toEqual([]);

    await writeFiles(dir, {
      'rdb/a.yml': mapping('person'),
      'rdb/d.yml': mapping('log'),
      'rdb/c.yml': mapping('x', 't2'),
    });
    await rm(join(dir, 'rdb/b.yml'));
    const reload = await reloadMappings(config.mappings, context);
    expect(names(reload)).toEqual([
      { sink: 't1', added: ['d.yml'], changed: ['a.yml'], removed: ['b.yml', 'c.yml'] },
      { sink: 't2', added: ['c.yml'], changed: [], removed: [] },
    ]);
    expect(reload.rejected).toEqual([]);
    expect(reload.mappings.map((m) => m.name)).toEqual(['a.yml', 'c.yml', 'd.yml']);
  });

  it('rejects an invalid change with its report and keeps the old mapping running', async () => {
    const { dir, config } = await setup({ 'rdb/a.yml': mapping('user') });
    const context = mappingContextOf(config, { env: {}, plugins: builtinSchemas() });
    await writeFiles(dir, {
      'rdb/a.yml': 'dbMapping:\n  database: [unclosed\n',
      'rdb/new.yml': mapping('role', 'nope'),
    });
    const reload = await reloadMappings(config.mappings, context);
    expect(reload.changes).toEqual([]);
    expect([...reload.rejected].sort()).toEqual(['rdb/a.yml', 'rdb/new.yml']);
    expect(reload.mappings.map((m) => `${m.name}:${m.tables[0]?.table}`)).toEqual(['a.yml:user']);
    expect(
      reload.problems
        .filter((p) => p.severity === 'error')
        .map((p) => `${p.file}:${p.code}`)
        .sort(),
    ).toEqual(['rdb/a.yml:yaml-syntax', 'rdb/new.yml:missing-adapter-key']);
  });

  it('diffs a touched but identical file as no change', async () => {
    const { config } = await setup({ 'rdb/a.yml': mapping('user') });
    expect(diffMappings(config.mappings, config.mappings)).toEqual([]);
  });
});

describe('MappingWatcher', () => {
  let watcher: MappingWatcher | undefined;
  afterEach(() => watcher?.close());

  it.each([
    ['fs.watch', {}],
    ['polling', { pollMs: 50 }],
  ])('notices a new mapping file (%s) and reports it once', async (_mode, extra) => {
    const { dir, config } = await setup({ 'rdb/a.yml': mapping('user') });
    const reloads: MappingReload[] = [];
    let resolveSeen: () => void = () => {};
    const seen = new Promise<void>((r) => (resolveSeen = r));
    watcher = new MappingWatcher(config, {
      env: {},
      plugins: builtinSchemas(),
      debounceMs: 50,
      ...extra,
      onReload: (r) => {
        reloads.push(r);
        resolveSeen();
      },
    });
    watcher.start();
    await writeFile(join(dir, 'rdb/b.yml'), mapping('role'));
    await Promise.race([
      seen,
      new Promise((_, reject) => setTimeout(() => reject(new Error('no reload seen')), 5000)),
    ]);
    expect(names(reloads[0]!)).toEqual([
      { sink: 't1', added: ['b.yml'], changed: [], removed: [] },
    ]);
    expect(watcher.mappings.map((m) => m.name)).toEqual(['a.yml', 'b.yml']);
    // Nothing changes afterwards: no further reports.
    await watcher.reload();
    expect(reloads).toHaveLength(1);
  });
});
