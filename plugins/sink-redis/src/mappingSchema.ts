/**
 * The schema of one `redis/*.yml` mapping file (Sluice's own format; canal-adapter has no Redis
 * adapter). Declared once: it is both the validator the core runs and, through `Infer`, the type
 * of a validated file ({@link RedisMappingFile}).
 */
import type { Infer } from '@sluice/plugin-api';

const text = (description: string) => ({ type: 'string', description }) as const;
const columnList = (description: string) =>
  ({ type: 'array', items: { type: 'string' }, description }) as const;

/** `redis/*.yml`: canal's header keys plus a `redisMapping` block. */
export const redisMappingSchema = {
  type: 'object',
  required: ['redisMapping'],
  properties: {
    dataSourceKey: text('Key of srcDataSources (ETL in write mode).'),
    destination: text('canalAdapters[].instance this mapping listens to.'),
    groupId: text('groups[].groupId (ignored for selection in tcp mode).'),
    outerAdapterKey: text(
      'Key of the owning outerAdapters entry; without it the file attaches to auto-keyed adapters.',
    ),
    redisMapping: {
      type: 'object',
      required: ['database', 'table', 'keys'],
      properties: {
        database: text('Source schema.'),
        table: text('Source table.'),
        mode: {
          type: 'string',
          enum: ['evict', 'write'],
          caseInsensitive: true,
          default: 'evict',
          description:
            'evict: delete the keys on every change (cache-aside); write: write the row to the keys (versioned).',
        },
        keys: columnList(
          'Key templates built from column values: user:{id}; {{ and }} are literal braces ({{user:{id}}}:profile).',
        ),
        evictKeys: columnList(
          'Keys of derived caches, always evicted (never written), e.g. orders:by_user:{user_id}.',
        ),
        format: {
          type: 'string',
          enum: ['json', 'hash'],
          caseInsensitive: true,
          default: 'json',
          description: 'write mode: the row as one JSON string, or a hash of fields.',
        },
        columns: {
          type: 'map',
          values: { type: 'string' },
          description:
            'write mode: field → source column (empty = same name); absent = every column of the row.',
        },
        ttl: {
          type: 'integer',
          minimum: 0,
          default: 0,
          description: 'write mode: expiry of a written value, seconds; 0 = none.',
        },
        tombstoneTtl: {
          type: 'integer',
          minimum: 1,
          default: 86_400,
          description:
            'write mode: how long the version of a deleted value is kept (so an older replayed write cannot resurrect it), seconds.',
        },
        delayedEviction: {
          type: 'integer',
          minimum: 0,
          default: 0,
          description:
            'Evict the same keys again this many ms after the first eviction (durable schedule in Redis); 0 = off.',
        },
        condition: {
          type: 'object',
          description: 'Which UPDATEs touch the cache; INSERT and DELETE always do.',
          properties: {
            changedColumns: columnList('Act on an UPDATE only when one of these columns changed.'),
            ignoredColumns: columnList(
              'Skip an UPDATE that changed only these columns (e.g. updated_at).',
            ),
          },
        },
        etlCondition: text('write mode ETL: WHERE fragment with {} placeholders for params.'),
        readBatch: {
          type: 'integer',
          minimum: 1,
          default: 1000,
          description: 'write mode ETL: rows per SELECT (keyset pagination).',
        },
      },
    },
  },
} as const;

/** A validated `redis/*.yml` file. */
export type RedisMappingFile = Infer<typeof redisMappingSchema>;
/** Its `redisMapping` block. */
export type RedisMapping = RedisMappingFile['redisMapping'];
