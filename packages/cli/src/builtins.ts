import { PluginRegistry } from '@sluice/core';
import { esSink } from '@sluice/sink-es';
import { loggerSink } from '@sluice/sink-logger';
import { rdbSink } from '@sluice/sink-rdb';
import { redisSink } from '@sluice/sink-redis';
import { fileSource } from '@sluice/source-file';
import { kafkaSource } from '@sluice/source-kafka';
import { rabbitmqSource } from '@sluice/source-rabbitmq';
import { rocketmqSource } from '@sluice/source-rocketmq';
import { tcpSource } from '@sluice/source-tcp';

/**
 * A new registry holding the plugins that ship with Sluice. Called once per runtime (each call
 * returns a fresh registry with its own container); plugins from `sluice.plugins` are added to it
 * by `loadConfiguredPlugins`.
 */
export function createBuiltinRegistry(): PluginRegistry {
  const registry = new PluginRegistry();
  registry.register(fileSource, 'built-in @sluice/source-file');
  registry.register(loggerSink, 'built-in @sluice/sink-logger');
  registry.register(esSink, 'built-in @sluice/sink-es');
  registry.register(rdbSink, 'built-in @sluice/sink-rdb');
  registry.register(redisSink, 'built-in @sluice/sink-redis');
  registry.register(kafkaSource, 'built-in @sluice/source-kafka');
  registry.register(rabbitmqSource, 'built-in @sluice/source-rabbitmq');
  registry.register(rocketmqSource, 'built-in @sluice/source-rocketmq');
  registry.register(tcpSource, 'built-in @sluice/source-tcp');
  return registry;
}
