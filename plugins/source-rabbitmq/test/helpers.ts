import * as net from 'node:net';
import { connect, type ChannelModel, type ConfirmChannel } from 'amqplib';
import type { Logger, SourceInstance } from '@sluice/plugin-api';
import { rabbitmqUrl, uniqueName } from '../../../test/support/testbed.js';
import { rabbitmqSource } from '../src/index.js';

/** host and port of the testbed's RabbitMQ node (never the machine's on 5672). */
export function brokerAddress(): {
  host: string;
  port: number;
  url: string;
  username: string;
  password: string;
} {
  const url = rabbitmqUrl();
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 5672),
    url,
    username: decodeURIComponent(u.username) || 'guest',
    password: decodeURIComponent(u.password) || 'guest',
  };
}

/** Log lines captured by {@link recordingLogger}. */
export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields: Record<string, unknown> | undefined;
}

/** A logger that keeps every line (and prints them when SLUICE_TEST_VERBOSE is set). */
export function recordingLogger(lines: LogLine[] = []): Logger & { lines: LogLine[] } {
  const make = (base: Record<string, unknown>): Logger => {
    const at = (level: LogLine['level']) => (message: string, fields?: Record<string, unknown>) => {
      lines.push({ level, message, fields: { ...base, ...fields } });
      if (process.env.SLUICE_TEST_VERBOSE)
        console.error(level, message, JSON.stringify({ ...base, ...fields }));
    };
    return {
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      child: (f) => make({ ...base, ...f }),
    };
  };
  return Object.assign(make({}), { lines });
}

/**
 * An admin/producer connection to a RabbitMQ node: declares durable queues as canal's producer
 * does (`queueDeclare(queue, true, false, false, null)`, canal 1.1.8 CanalRabbitMQProducer) and
 * publishes bodies persistently through the default exchange with the queue as routing key
 * (canal: `basicPublish(exchange, queueName, PERSISTENT_TEXT_PLAIN, body)`), on a confirm channel.
 */
export class TestRabbit {
  readonly queues: string[] = [];
  #conn: ChannelModel | undefined;
  #channel: ConfirmChannel | undefined;

  constructor(readonly url: string = brokerAddress().url) {}

  async start(): Promise<this> {
    this.#conn = await connect(this.url);
    this.#conn.on('error', () => {});
    this.#channel = await this.#conn.createConfirmChannel();
    return this;
  }

  get channel(): ConfirmChannel {
    if (!this.#channel) throw new Error('TestRabbit is not started.');
    return this.#channel;
  }

  async createQueue(prefix = 'q', args?: Record<string, unknown>): Promise<string> {
    const queue = uniqueName(prefix);
    await this.channel.assertQueue(queue, {
      durable: true,
      exclusive: false,
      autoDelete: false,
      ...(args ? { arguments: args } : {}),
    });
    this.queues.push(queue);
    return queue;
  }

  /** Publishes each body as canal does, waiting for the broker's confirms. */
  async publish(queue: string, bodies: readonly (string | Uint8Array)[]): Promise<void> {
    for (const body of bodies) {
      this.channel.publish('', queue, Buffer.from(body), {
        deliveryMode: 2,
        contentType: 'text/plain',
        priority: 0,
      });
    }
    await this.channel.waitForConfirms();
  }

  async count(queue: string): Promise<{ messageCount: number; consumerCount: number }> {
    return this.channel.checkQueue(queue);
  }

  /** Takes every message of a queue (acked). */
  async drain(queue: string): Promise<Buffer[]> {
    const out: Buffer[] = [];
    for (;;) {
      const m = await this.channel.get(queue, { noAck: true });
      if (m === false) return out;
      out.push(m.content);
    }
  }

  async stop(): Promise<void> {
    for (const q of this.queues) {
      await this.#channel?.deleteQueue(q).catch(() => {});
      await this.#channel?.deleteQueue(`${q}.dlq`).catch(() => {});
    }
    await this.#conn?.close().catch(() => {});
  }
}

/**
 * A TCP proxy in front of the broker, so a test can break a running source's connection
 * (`breakAll`) the way a network failure or broker restart does, without touching the broker.
 */
export class TcpProxy {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  port = 0;

  constructor(readonly target: { host: string; port: number } = brokerAddress()) {
    this.#server = net.createServer((client) => {
      const upstream = net.connect(target.port, target.host);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as net.AddressInfo).port;
    return this;
  }

  /** Drops every proxied connection (both sides). */
  breakAll(): void {
    for (const s of this.#sockets) s.destroy();
  }

  async stop(): Promise<void> {
    this.breakAll();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** A RabbitMQ source for `queue` on `host:port` (the testbed node, or a proxy in front of it). */
export function createSource(options: {
  queue: string;
  groupId?: string;
  port?: number;
  host?: string;
  properties?: Record<string, string>;
  logger?: Logger;
}): SourceInstance {
  const broker = brokerAddress();
  return rabbitmqSource.create({
    instance: options.queue,
    groupId: options.groupId ?? 'g1',
    properties: {
      'rabbitmq.host': `${options.host ?? broker.host}:${options.port ?? broker.port}`,
      'rabbitmq.virtual.host': '/',
      'rabbitmq.username': broker.username,
      'rabbitmq.password': broker.password,
      'rabbitmq.reconnect.max.ms': '500',
      ...options.properties,
    },
    configDir: process.cwd(),
    deps: { logger: options.logger ?? recordingLogger() },
  });
}
