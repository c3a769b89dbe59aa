import type { ObjectSchema, Schema } from '@sluice/plugin-api';
import { DEFAULT_SYNC_BATCH_SIZE, sluiceSettingsSchema } from './sluiceSettings.js';

const str = (
  description?: string,
  extra: Partial<{ secret: boolean; default: string }> = {},
): Schema => ({
  type: 'string',
  ...(description ? { description } : {}),
  ...extra,
});

/** `canal.conf` keys canal-adapter still binds but never reads (§1.2 of the behaviour reference). */
export const DEPRECATED_CANAL_CONF_KEYS = [
  'canalServerHost',
  'mqServers',
  'batchSize',
  'username',
  'password',
  'vhost',
  'resourceOwnerId',
  'enableMessageTrace',
  'accessChannel',
  'customizedTraceTopic',
  'namespace',
] as const;

/**
 * canal-adapter 1.1.4's tcp settings (top-level `canal.conf` keys, as in its shipped
 * application.yml: `canalServerHost: 127.0.0.1:11111`) and the `consumerProperties` key of
 * canal-adapter 1.1.5+'s tcp connector that replaced each. In mode tcp Sluice reads the old key
 * when the new one is not set, so both generations of canal's shipped file run unchanged.
 */
export const LEGACY_TCP_KEYS: Readonly<Record<string, string>> = {
  canalServerHost: 'canal.tcp.server.host',
  zookeeperHosts: 'canal.tcp.zookeeper.hosts',
  batchSize: 'canal.tcp.batch.size',
  username: 'canal.tcp.username',
  password: 'canal.tcp.password',
};

/**
 * The `consumerProperties` keys canal-adapter copies `canal.conf.accessKey` / `secretKey` into
 * (`AdapterProcessor`: `canal.aliyun.accessKey` / `canal.aliyun.secretKey`, read by the RocketMQ
 * connector's ACL hook and the RabbitMQ connector's Aliyun credentials;
 * `canal-adapter-behaviour.md` §1.2).
 */
export const ALIYUN_CREDENTIAL_KEYS = {
  accessKey: 'canal.aliyun.accessKey',
  secretKey: 'canal.aliyun.secretKey',
} as const;

/** The modes whose connectors read {@link ALIYUN_CREDENTIAL_KEYS} (canal-adapter §1.3). */
const ALIYUN_CREDENTIAL_MODES: ReadonlySet<string> = new Set(['rocketmq', 'rabbitmq']);

/**
 * `consumerProperties` as the source receives them: in modes rocketmq and rabbitmq, with
 * `canal.conf.accessKey` / `secretKey` copied to {@link ALIYUN_CREDENTIAL_KEYS} when set
 * (non-empty; canal's copy wins over a key of the same name in `consumerProperties`, as in
 * canal-adapter, where the copy is put after them; the rabbitmq source warns that it has no
 * Aliyun login); in mode tcp, completed with canal-adapter
 * 1.1.4's keys ({@link LEGACY_TCP_KEYS}) where the 1.1.5+ key is missing or empty, and with
 * `canal.conf.timeout` (when set) under the key `canal.conf.timeout`: canal-adapter's tcp
 * connector passes it to `getWithoutAck(batchSize, timeout, ms)` as the GET timeout (1.1.4 and
 * 1.1.5+ alike).
 */
export function sourcePropertiesOf(
  mode: string,
  conf: Readonly<Record<string, unknown>>,
  consumerProperties: Readonly<Record<string, string>>,
): Record<string, string> {
  const out = { ...consumerProperties };
  if (ALIYUN_CREDENTIAL_MODES.has(mode))
    for (const [field, key] of Object.entries(ALIYUN_CREDENTIAL_KEYS)) {
      const value = conf[field];
      if ((typeof value === 'string' || typeof value === 'number') && String(value).trim() !== '')
        out[key] = String(value);
    }
  if (mode !== 'tcp') return out;
  for (const [legacy, key] of Object.entries(LEGACY_TCP_KEYS)) {
    const value = conf[legacy];
    if ((out[key] ?? '').trim() !== '') continue;
    if (typeof value === 'string' || typeof value === 'number') {
      if (String(value).trim() !== '') out[key] = String(value);
    }
  }
  const timeout = conf['timeout'];
  if ((typeof timeout === 'string' || typeof timeout === 'number') && String(timeout).trim() !== '')
    out['canal.conf.timeout'] = String(timeout).trim();
  return out;
}

/** `canal.conf.mode` values canal-adapter knows (connector SPI names). */
export const CANAL_MODES = ['tcp', 'kafka', 'rocketmq', 'rabbitmq', 'pulsarmq'] as const;

/** Modes Sluice adds (its own source plugins). */
export const SLUICE_MODES = ['file'] as const;

/**
 * Modes Sluice's first-party source plugins provide (`@sluice/source-kafka`,
 * `@sluice/source-file`, `@sluice/source-rabbitmq`, `@sluice/source-rocketmq`,
 * `@sluice/source-tcp`).
 */
export const FIRST_PARTY_SOURCE_MODES = ['kafka', 'file', 'rabbitmq', 'rocketmq', 'tcp'] as const;

/** `outerAdapters[]`: one sink instance. */
export const outerAdapterSchema: ObjectSchema = {
  type: 'object',
  required: ['name'],
  properties: {
    name: str('Adapter (sink plugin) name: logger, rdb, es6, es7, es8, redis, or a plugin’s name.'),
    key: str(
      'Unique key of this instance; generated (AUTO_GENERATED_-<instance>-<groupId>-<index>) when empty.',
    ),
    hosts: str('Adapter-specific address list (Elasticsearch: comma separated).'),
    zkHosts: str('Bound by canal-adapter but unused by every adapter.'),
    properties: {
      type: 'map',
      values: { type: 'string' },
      description: 'Adapter-specific properties, keys verbatim.',
    },
  },
};

/** `srcDataSources.<key>`. */
export const dataSourceSchema: ObjectSchema = {
  type: 'object',
  required: ['url'],
  properties: {
    url: str('JDBC URL: jdbc:mysql://, jdbc:mariadb:// or jdbc:postgresql://'),
    username: str(),
    password: str(undefined, { secret: true }),
    driver: str('JDBC driver class; ignored by Sluice (the URL decides).', {
      default: 'com.mysql.jdbc.Driver',
    }),
    maxActive: { type: 'integer', minimum: 1, default: 3, description: 'Pool size.' },
    database: str('Bound but unused by canal-adapter.'),
    type: str('Bound but unused by canal-adapter.', { default: 'mysql' }),
  },
};

/** `canal.conf` (canal-adapter's AdapterCanalConfig). */
export const canalConfSchema: ObjectSchema = {
  type: 'object',
  properties: {
    mode: str(
      'Source: tcp, kafka, rocketMQ, rabbitMQ, pulsarMQ, or a source plugin such as file.',
      { default: 'tcp' },
    ),
    flatMessage: {
      type: 'boolean',
      default: true,
      description: 'true: FlatMessage JSON; false: protobuf.',
    },
    zookeeperHosts: str('Distributed sync switch and ETL lock (not canal server discovery).'),
    syncBatchSize: {
      type: 'integer',
      minimum: 1,
      default: DEFAULT_SYNC_BATCH_SIZE,
      description: 'Maximum rows per sink call.',
    },
    retries: {
      type: 'integer',
      minimum: -1,
      default: 0,
      description: '-1 forever, 0 one attempt, N attempts.',
    },
    timeout: { type: 'integer', minimum: 0, default: 500, description: 'Poll timeout, ms.' },
    accessKey: str('Aliyun access key (RocketMQ / RabbitMQ).'),
    secretKey: str('Aliyun secret key (RocketMQ / RabbitMQ).', { secret: true }),
    terminateOnException: { type: 'boolean', default: false },
    consumerProperties: {
      type: 'map',
      values: { type: 'string' },
      description: 'Source properties, keys verbatim.',
    },
    srcDataSources: {
      type: 'map',
      values: dataSourceSchema,
      description: 'Source databases by dataSourceKey.',
    },
    canalAdapters: {
      type: 'array',
      items: {
        type: 'object',
        required: ['instance'],
        properties: {
          instance: str('Canal destination, Kafka topic or RabbitMQ queue.'),
          groups: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                groupId: str('Consumer group.', { default: 'default' }),
                outerAdapters: { type: 'array', items: outerAdapterSchema },
              },
            },
          },
        },
      },
    },
    ...Object.fromEntries(
      DEPRECATED_CANAL_CONF_KEYS.map((k) => [
        k,
        {
          type: 'any',
          description: 'Deprecated: ignored.',
          ...(k === 'password' ? { secret: true } : {}),
        } as Schema,
      ]),
    ),
  },
};

/** Schema of `application.yml`. */
export const applicationSchema: ObjectSchema = {
  type: 'object',
  properties: {
    server: {
      type: 'object',
      properties: {
        port: {
          type: 'integer',
          minimum: 0,
          maximum: 65535,
          default: 8081,
          description: 'Admin HTTP API port.',
        },
        address: str('Spring bind address (Sluice uses sluice.admin.host).'),
      },
    },
    spring: {
      type: 'any',
      description: 'Spring Boot settings (jackson, …); read by canal-adapter only.',
    },
    logging: { type: 'any', description: 'Spring logging settings; ignored by Sluice.' },
    management: { type: 'any', description: 'Spring actuator settings; ignored by Sluice.' },
    canal: {
      type: 'object',
      properties: {
        conf: canalConfSchema,
      },
    },
    sluice: sluiceSettingsSchema,
  },
};
