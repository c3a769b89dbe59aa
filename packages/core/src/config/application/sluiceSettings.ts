import type { Infer, ObjectSchema } from '@sluice/plugin-api';
import { resolvePaths, withDefaults } from '../binding/defaults.js';

/**
 * canal's `canal.conf.syncBatchSize` default (`CanalClientConfig`, canal-adapter-behaviour.md
 * §1.2): the most rows per sink call, and the default of `sluice.pipeline.batch.size`.
 */
export const DEFAULT_SYNC_BATCH_SIZE = 1000;

/**
 * Schema of the `sluice:` block of `application.yml`: the ONE declaration of Sluice's own
 * settings and their defaults. {@link SluiceSettings} is derived from it and
 * {@link sluiceSettingsDefaults} are read from it; the pipeline's defaults
 * (`pipeline/settings.ts`) come from here too.
 */
export const sluiceSettingsSchema = {
  type: 'object',
  description: "Sluice's own settings; never change the meaning of a canal key.",
  default: {},
  properties: {
    plugins: {
      type: 'array',
      items: { type: 'string' },
      default: [],
      description:
        'Plugins to load besides the built-ins: npm package names or paths (relative to the configuration directory).',
    },
    pipeline: {
      type: 'object',
      default: {},
      properties: {
        lanes: {
          type: 'integer',
          minimum: 1,
          maximum: 1024,
          default: 8,
          description: 'Parallel lanes per sink instance and partition.',
        },
        ordering: {
          type: 'string',
          enum: ['per-key', 'table', 'partition'],
          caseInsensitive: true,
          default: 'per-key',
          description:
            'per-key (rows of different keys may be reordered), table (one lane per table), partition (strictly sequential).',
        },
        batch: {
          type: 'object',
          default: {},
          properties: {
            size: {
              type: 'integer',
              minimum: 1,
              description: 'Maximum events per batch; default canal.conf.syncBatchSize.',
            },
            bytes: {
              type: 'integer',
              minimum: 1024,
              default: 4 * 1024 * 1024,
              description: 'Maximum payload bytes per batch.',
            },
            lingerMs: {
              type: 'integer',
              minimum: 0,
              default: 0,
              description: 'Wait for more events before sending a partial batch, ms.',
            },
          },
        },
        maxInFlight: {
          type: 'integer',
          minimum: 1,
          default: 10_000,
          description: 'In-flight events per partition before the source pauses.',
        },
        commitIntervalMs: {
          type: 'integer',
          minimum: 0,
          default: 1000,
          description:
            'Least time between two offset commits (acks) of a partition, ms; 0 = after every advance. A source whose unacknowledged window is nearly full (RabbitMQ prefetch) gets a commit at once.',
        },
        shutdownTimeoutMs: {
          type: 'integer',
          minimum: 0,
          default: 30_000,
          description:
            "At shutdown (SIGTERM, a revoked partition), how long in-flight batches may take to finish before they are abandoned (uncommitted, so redelivered), ms; also the bound of the sinks' parallel close. sluice start --once drains without it.",
        },
      },
    },
    deadLetter: {
      type: 'object',
      default: {},
      properties: {
        type: {
          type: 'string',
          enum: ['file', 'kafka', 'rabbitmq', 'rocketmq'],
          caseInsensitive: true,
          description:
            'Where dead letters go: file (JSONL files in dir), or the queue of a source plugin (kafka: the topic <topic>.dlq; rabbitmq: the queue <queue>.dlq). Default: rabbitmq in canal.conf.mode rabbitMQ, file otherwise.',
        },
        dir: {
          type: 'string',
          path: 'created',
          default: '.sluice/dlq',
          description:
            'Directory of the JSONL dead-letter files (type file), relative to the configuration directory.',
        },
        topicSuffix: {
          type: 'string',
          default: '.dlq',
          description:
            'DLQ topic (type kafka) or queue (type rabbitmq) = source topic or queue + this suffix (type rocketmq: default _DLQ, RocketMQ topic names cannot hold a dot).',
        },
      },
    },
    admin: {
      type: 'object',
      default: {},
      properties: {
        enabled: { type: 'boolean', default: true },
        host: {
          type: 'string',
          description:
            'Bind address; default 127.0.0.1. Any other address needs admin.token (Sluice refuses to start otherwise).',
        },
        port: {
          type: 'integer',
          minimum: 0,
          maximum: 65535,
          description: 'Default: server.port (8081).',
        },
        token: {
          type: 'string',
          secret: true,
          description: 'Bearer token every admin request must carry.',
        },
      },
    },
    zookeeper: {
      type: 'object',
      default: {},
      properties: {
        sessionTimeoutMs: {
          type: 'integer',
          minimum: 1000,
          maximum: 600_000,
          default: 6000,
          description:
            "ZooKeeper session timeout (canal.conf.zookeeperHosts: shared sync switch, distributed ETL lock), ms; canal's Curator uses 6000. A crashed process's ETL lock is released this long after it died.",
        },
      },
    },
    metrics: {
      type: 'object',
      default: {},
      properties: {
        enabled: { type: 'boolean', default: true },
        path: { type: 'string', default: '/metrics' },
        prefix: { type: 'string', default: 'sluice_' },
      },
    },
  },
} as const satisfies ObjectSchema;

type BoundSettings = Infer<typeof sluiceSettingsSchema>;

/**
 * Sluice's own settings (the `sluice:` block), as bound from {@link sluiceSettingsSchema} with
 * the defaults filled in. The four values whose defaults depend on other keys are always set:
 * `pipeline.batch.size` (canal's `syncBatchSize`), `deadLetter.type` (by `canal.conf.mode`,
 * {@link defaultDeadLetterType}), `admin.host` (127.0.0.1 unless set) and `admin.port`
 * (`server.port`). `deadLetter.dir` is absolute (resolved against the
 * configuration directory); `admin.token` is undefined when empty.
 */
export type SluiceSettings = BoundSettings & {
  readonly pipeline: { readonly batch: { readonly size: number } };
  readonly deadLetter: { readonly type: DeadLetterType };
  readonly admin: { readonly host: string; readonly port: number };
};

/** `sluice.deadLetter.type`: the dead-letter transport. */
export type DeadLetterType = 'file' | 'kafka' | 'rabbitmq' | 'rocketmq';

/**
 * The dead-letter transport when `sluice.deadLetter.type` is not set: in `canal.conf.mode:
 * rabbitMQ` the queue `<queue>.dlq` on the same broker (issue #17: "DLQ to a RabbitMQ queue
 * [...] by default"), `file` in every other mode.
 *
 * @param mode `canal.conf.mode`, any case (`tcp` when absent).
 */
export function defaultDeadLetterType(mode: string | undefined): DeadLetterType {
  return mode?.trim().toLowerCase() === 'rabbitmq' ? 'rabbitmq' : 'file';
}

/** `sluice.pipeline`. */
export type PipelineSection = SluiceSettings['pipeline'];
/** `sluice.pipeline.batch`: when a lane hands a batch to its sink. */
export type BatchSettings = PipelineSection['batch'];
/** `sluice.deadLetter`. */
export type DeadLetterSettings = SluiceSettings['deadLetter'];
/** `sluice.admin`: the admin HTTP API. */
export type AdminSettings = SluiceSettings['admin'];
/** `sluice.metrics`. */
export type MetricsSettings = SluiceSettings['metrics'];

/** The defaults of every `sluice:` key that has a static one, read from the schema. */
export const sluiceSettingsDefaults: BoundSettings = Object.freeze(
  withDefaults(sluiceSettingsSchema, undefined) as BoundSettings,
);

/**
 * The typed settings from the bound `sluice:` block: schema defaults for whatever is missing,
 * then the defaults that depend on other keys.
 *
 * @param bound the block as the binder produced it (relative paths already resolved when the
 *   binder had the configuration directory).
 * @param serverPort `server.port`, the default of `admin.port`.
 * @param syncBatchSize canal's `syncBatchSize`, the default of `pipeline.batch.size`.
 * @param configDir the configuration directory: relative paths (`deadLetter.dir`, also when it
 *   is the default) are resolved against it, never against the working directory.
 * @param mode `canal.conf.mode`, the default of `deadLetter.type` ({@link defaultDeadLetterType}).
 */
export function sluiceSettingsOf(
  bound: unknown,
  serverPort: number,
  syncBatchSize = DEFAULT_SYNC_BATCH_SIZE,
  configDir?: string,
  mode?: string,
): SluiceSettings {
  const filled = withDefaults(sluiceSettingsSchema, bound);
  const s = (
    configDir === undefined ? filled : resolvePaths(sluiceSettingsSchema, filled, configDir)
  ) as BoundSettings;
  const token = s.admin.token === '' ? undefined : s.admin.token;
  return {
    ...s,
    plugins: s.plugins.filter((p) => p !== ''),
    pipeline: {
      ...s.pipeline,
      batch: { ...s.pipeline.batch, size: s.pipeline.batch.size ?? syncBatchSize },
    },
    deadLetter: {
      ...s.deadLetter,
      type: s.deadLetter.type || defaultDeadLetterType(mode),
    },
    admin: {
      ...s.admin,
      host: s.admin.host || '127.0.0.1',
      port: s.admin.port ?? serverPort,
      token,
    },
  };
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
