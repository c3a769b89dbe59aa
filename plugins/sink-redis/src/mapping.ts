/**
 * What the sink makes of one validated mapping file: parsed key templates, the projection, the
 * UPDATE condition. Plus the `tables` and `check` hooks of the plugin's `MappingSpec`.
 */
import type { MappedTable, MappingCheckProblem } from '@sluice/plugin-api';
import { KeyTemplateError, hashTag, parseKeyTemplate, type KeyTemplate } from './keyTemplate.js';
import type { RedisMapping, RedisMappingFile } from './mappingSchema.js';

/** A mapping file ready to apply events. Built once per file (cached by object identity). */
export interface CompiledMapping {
  readonly mode: 'evict' | 'write';
  /** `keys`: evicted in evict mode, written in write mode. */
  readonly keys: readonly KeyTemplate[];
  /** `evictKeys`: always evicted. */
  readonly evictKeys: readonly KeyTemplate[];
  readonly format: 'json' | 'hash';
  /** field → source column; `undefined` = every column of the row under its own name. */
  readonly fields: ReadonlyArray<readonly [field: string, column: string]> | undefined;
  /** Expiry of written values, ms; 0 = none. */
  readonly ttlMs: number;
  /** Lifetime of a deleted value's version, ms. */
  readonly tombstoneTtlMs: number;
  /** Second eviction delay, ms; 0 = off. */
  readonly delayMs: number;
  /** UPDATE acts only when one of these changed (empty = any). */
  readonly changedColumns: ReadonlySet<string>;
  /** UPDATE is skipped when it changed only these. */
  readonly ignoredColumns: ReadonlySet<string>;
  /** Every column a key template reads: a change to one always acts. */
  readonly keyColumns: ReadonlySet<string>;
  /** ETL. */
  readonly etlCondition: string | undefined;
  readonly readBatch: number;
}

const compiled = new WeakMap<object, CompiledMapping>();

/**
 * Compiles (once per object) a validated mapping block.
 *
 * @throws KeyTemplateError when a key template is malformed (`check` reports that at startup).
 */
export function compileMapping(mapping: RedisMapping): CompiledMapping {
  const cached = compiled.get(mapping);
  if (cached) return cached;
  const keys = (mapping.keys ?? []).map(parseKeyTemplate);
  const evictKeys = (mapping.evictKeys ?? []).map(parseKeyTemplate);
  const fields = mapping.columns
    ? Object.entries(mapping.columns).map(
        ([field, column]) => [field, column === '' || column == null ? field : column] as const,
      )
    : undefined;
  const out: CompiledMapping = {
    mode: mapping.mode.toLowerCase() === 'write' ? 'write' : 'evict',
    keys,
    evictKeys,
    format: mapping.format.toLowerCase() === 'hash' ? 'hash' : 'json',
    fields,
    ttlMs: mapping.ttl * 1000,
    tombstoneTtlMs: mapping.tombstoneTtl * 1000,
    delayMs: mapping.delayedEviction,
    changedColumns: new Set(mapping.condition?.changedColumns ?? []),
    ignoredColumns: new Set(mapping.condition?.ignoredColumns ?? []),
    keyColumns: new Set([...keys, ...evictKeys].flatMap((t) => t.columns)),
    etlCondition: mapping.etlCondition || undefined,
    readBatch: mapping.readBatch,
  };
  compiled.set(mapping, out);
  return out;
}

/** `MappingSpec.tables`: the one table a file names. */
export function redisTables(file: RedisMappingFile): readonly MappedTable[] {
  const { database, table } = file.redisMapping ?? {};
  return table ? [{ database: database || undefined, table }] : [];
}

/** `MappingSpec.check`: templates parse, keys vary by row, write-mode options make sense. */
export function checkRedisMapping(file: RedisMappingFile): readonly MappingCheckProblem[] {
  // Defensive: the core may call this with values its schema validation rejected (left unset).
  const m: Partial<RedisMapping> = file.redisMapping ?? {};
  const out: MappingCheckProblem[] = [];
  const mode = (m.mode ?? 'evict').toLowerCase();
  const templates = (list: readonly string[] | undefined, name: 'keys' | 'evictKeys') =>
    (list ?? []).forEach((source, i) => {
      const path = ['redisMapping', name, String(i)];
      let t: KeyTemplate;
      try {
        t = parseKeyTemplate(source);
      } catch (error) {
        if (!(error instanceof KeyTemplateError)) throw error;
        out.push({ severity: 'error', path, message: error.message });
        return;
      }
      if (t.columns.length === 0)
        out.push({
          severity: name === 'keys' ? 'error' : 'warning',
          path,
          message: `"${source}" has no {column} placeholder: every row maps to the same key.`,
          suggestion: 'add a placeholder such as {id}',
        });
      const literal = t.parts.map((p) => (p.kind === 'text' ? p.text : 'x')).join('');
      if (/[{}]/.test(literal) && hashTag(literal.replace(/x/g, 'v')) === undefined)
        out.push({
          severity: 'warning',
          path,
          message: `"${source}" has literal braces but no valid hash tag; in Redis Cluster its keys are hashed whole.`,
        });
    });
  templates(m.keys, 'keys');
  templates(m.evictKeys, 'evictKeys');
  if (mode === 'evict') {
    for (const key of ['columns', 'etlCondition'] as const)
      if (m[key] !== undefined)
        out.push({
          severity: 'warning',
          path: ['redisMapping', key],
          message: `"${key}" applies to mode: write only; evict mode ignores it.`,
        });
    if ((m.ttl ?? 0) > 0)
      out.push({
        severity: 'warning',
        path: ['redisMapping', 'ttl'],
        message: '"ttl" applies to mode: write only; evict mode ignores it.',
      });
  }
  const changed = m.condition?.changedColumns ?? [];
  const ignored = m.condition?.ignoredColumns ?? [];
  if (changed.length > 0 && ignored.length > 0)
    out.push({
      severity: 'error',
      path: ['redisMapping', 'condition'],
      message: 'Set changedColumns or ignoredColumns, not both.',
    });
  return out;
}
