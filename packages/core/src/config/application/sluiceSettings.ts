import type { ObjectSchema } from '@sluice/plugin-api';

/** How events of one partition may be reordered by the applier (DESIGN §3). */
export type OrderingMode = 'per-key' | 'table' | 'partition';

/** `sluice.pipeline.batch`: when a lane hands a batch to its sink. */
export interface BatchSettings {
  /** Maximum events per batch; default canal's `syncBatchSize`. */
  readonly size: number;
  /** Maximum payload bytes per batch. */
  readonly bytes: number;
  /** How long a lane waits for more events before sending a partial batch, ms; default 0. */
  readonly lingerMs: number;
}

/** `sluice.pipeline`. */
export interface PipelineSettings {
  /** Parallel lanes per sink instance and partition. */
  readonly lanes: number;
  readonly ordering: OrderingMode;
  readonly batch: BatchSettings;
  /** In-flight events per partition before the source is paused. */
  readonly maxInFlight: number;
}

/** `sluice.deadLetter`. */
export interface DeadLetterSettings {
  readonly type: 'file' | 'kafka';
  /** Directory of the JSONL files (type file), relative to the working directory. */
  readonly dir: string;
  /** Appended to the source topic to name the DLQ topic (type kafka). */
  readonly topicSuffix: string;
}

/** `sluice.admin`: the admin HTTP API. */
export interface AdminSettings {
  readonly enabled: boolean;
  /** Bind address: 127.0.0.1 unless a token is set (then 0.0.0.0), when not configured. */
  readonly host: string;
  /** Defaults to `server.port` (canal-adapter's 8081). */
  readonly port: number;
  /** Bearer token required by every admin request; undefined = none (loopback only). */
  readonly token: string | undefined;
}

/** `sluice.metrics`. */
export interface MetricsSettings {
  readonly enabled: boolean;
  /** Path of the Prometheus endpoint on the admin API. */
  readonly path: string;
  /** Prefix of every metric name. */
  readonly prefix: string;
}

/** Sluice's own settings under the top-level `sluice:` key of `application.yml`. */
export interface SluiceSettings {
  /** Plugins to load besides the built-ins: npm package names or paths (relative to the configuration directory). */
  readonly plugins: readonly string[];
  readonly pipeline: PipelineSettings;
  readonly deadLetter: DeadLetterSettings;
  readonly admin: AdminSettings;
  readonly metrics: MetricsSettings;
}

/** Schema (and defaults) of the `sluice:` block. */
export const sluiceSettingsSchema: ObjectSchema = {
  type: 'object',
  description: "Sluice's own settings; never change the meaning of a canal key.",
  properties: {
    plugins: {
      type: 'array',
      items: { type: 'string' },
      default: [],
      description: 'Plugins to load besides the built-ins: npm package names or paths.',
    },
    pipeline: {
      type: 'object',
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
      },
    },
    deadLetter: {
      type: 'object',
      properties: {
        type: { type: 'string', enum: ['file', 'kafka'], caseInsensitive: true, default: 'file' },
        dir: {
          type: 'string',
          default: '.sluice/dlq',
          description: 'Directory of the JSONL dead-letter files (type file).',
        },
        topicSuffix: {
          type: 'string',
          default: '.dlq',
          description: 'DLQ topic = source topic + this suffix (type kafka).',
        },
      },
    },
    admin: {
      type: 'object',
      properties: {
        enabled: { type: 'boolean', default: true },
        host: {
          type: 'string',
          description: 'Bind address; default 127.0.0.1, or 0.0.0.0 when a token is set.',
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
    metrics: {
      type: 'object',
      properties: {
        enabled: { type: 'boolean', default: true },
        path: { type: 'string', default: '/metrics' },
        prefix: { type: 'string', default: 'sluice_' },
      },
    },
  },
};

type Bag = Readonly<Record<string, unknown>>;
const bag = (v: unknown): Bag =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Bag) : {};
const num = (v: unknown, d: number) => (typeof v === 'number' ? v : d);
const str = (v: unknown, d: string) => (typeof v === 'string' && v !== '' ? v : d);
const bool = (v: unknown, d: boolean) => (typeof v === 'boolean' ? v : d);

/** Typed settings from the bound `sluice:` block (defaults for whatever is missing). */
export function toSluiceSettings(
  bound: unknown,
  serverPort: number,
  syncBatchSize = 1000,
): SluiceSettings {
  const root = bag(bound);
  const pipeline = bag(root['pipeline']);
  const batch = bag(pipeline['batch']);
  const dlq = bag(root['deadLetter']);
  const admin = bag(root['admin']);
  const metrics = bag(root['metrics']);
  const token =
    typeof admin['token'] === 'string' && admin['token'] !== '' ? admin['token'] : undefined;
  return {
    plugins: Array.isArray(root['plugins'])
      ? root['plugins'].filter((p): p is string => typeof p === 'string' && p !== '')
      : [],
    pipeline: {
      lanes: num(pipeline['lanes'], 8),
      ordering: str(pipeline['ordering'], 'per-key') as OrderingMode,
      batch: {
        size: num(batch['size'], syncBatchSize),
        bytes: num(batch['bytes'], 4 * 1024 * 1024),
        lingerMs: num(batch['lingerMs'], 0),
      },
      maxInFlight: num(pipeline['maxInFlight'], 10_000),
    },
    deadLetter: {
      type: str(dlq['type'], 'file') === 'kafka' ? 'kafka' : 'file',
      dir: str(dlq['dir'], '.sluice/dlq'),
      topicSuffix: str(dlq['topicSuffix'], '.dlq'),
    },
    admin: {
      enabled: bool(admin['enabled'], true),
      host: str(admin['host'], token ? '0.0.0.0' : '127.0.0.1'),
      port: num(admin['port'], serverPort),
      token,
    },
    metrics: {
      enabled: bool(metrics['enabled'], true),
      path: str(metrics['path'], '/metrics'),
      prefix: str(metrics['prefix'], 'sluice_'),
    },
  };
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
