import type { Infer, MappedTable, MappingCheckProblem, MappingSpec } from '@sluice/plugin-api';

/**
 * The schema of one `jsonl/*.yml` mapping file: canal's header keys (the core reads them to
 * attach the file to an adapter instance) and the jsonl sink's own keys, which the core knows
 * nothing about.
 *
 * ```yaml
 * dataSourceKey: defaultDS        # optional, canal header keys
 * destination: example
 * groupId: g1
 * outerAdapterKey: jsonl-out
 * database: mytest                # the source table this file routes
 * table: user
 * targetFile: users.jsonl         # the file under `properties.dir` its rows go to
 * ```
 */
export const jsonlMappingSchema = {
  type: 'object',
  description: 'One source table routed to one JSON-lines file.',
  properties: {
    dataSourceKey: { type: 'string', description: 'canal header: srcDataSources key.' },
    destination: { type: 'string', description: 'canal header: canalAdapters[].instance.' },
    groupId: { type: 'string', description: 'canal header: groups[].groupId.' },
    outerAdapterKey: { type: 'string', description: 'canal header: outerAdapters[].key.' },
    database: { type: 'string', description: 'Source database of the table.' },
    table: { type: 'string', description: 'Source table.' },
    targetFile: {
      type: 'string',
      description: 'File name (under the sink directory) that keeps the rows, ending in .jsonl.',
    },
  },
  required: ['database', 'table', 'targetFile'],
} as const;

/** One validated mapping file: its type is inferred from the schema, declared once. */
export type JsonlMapping = Infer<typeof jsonlMappingSchema>;

/**
 * The jsonl sink's mapping format: `jsonl/*.yml` under the configuration directory, one source
 * table per file. `sluice validate` reports problems of these files with file and line; the core
 * routes each table's events to the instance that owns the file, and the sink writes them to the
 * file's `targetFile`.
 */
export const jsonlMappings = {
  directories: ['jsonl'],
  schema: jsonlMappingSchema,
  tables(mapping: JsonlMapping): readonly MappedTable[] {
    return [{ database: mapping.database, table: mapping.table }];
  },
  check(mapping: JsonlMapping): readonly MappingCheckProblem[] {
    const problems: MappingCheckProblem[] = [];
    if (mapping.table === '*')
      problems.push({
        severity: 'error',
        path: ['table'],
        message: 'The jsonl sink keeps one table per file, so the table must be named, not "*".',
      });
    const file = mapping.targetFile;
    if (!/^[A-Za-z0-9_.-]+\.jsonl$/.test(file) || file.startsWith('.'))
      problems.push({
        severity: 'error',
        path: ['targetFile'],
        message: `targetFile "${file}" must be a plain file name ending in .jsonl (no directories, not hidden).`,
        ...(mapping.table === '*'
          ? {}
          : { suggestion: `targetFile: ${mapping.database}.${mapping.table}.jsonl` }),
      });
    return problems;
  },
} satisfies MappingSpec<JsonlMapping>;
