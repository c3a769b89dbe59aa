import { Kafka, logLevel, type LogEntry, type SASLOptions } from 'kafkajs';
import type { Logger } from '@sluice/plugin-api';
import type { KafkaSourceOptions } from './options.js';

/** Kafka error types that mean "the group is rebalancing" (same list as kafkajs' isRebalancing). */
const REBALANCING = new Set([
  'REBALANCE_IN_PROGRESS',
  'NOT_COORDINATOR_FOR_GROUP',
  'ILLEGAL_GENERATION',
]);

/** True for a kafkajs error saying the consumer group is rebalancing. */
export const isRebalancing = (error: unknown): boolean =>
  typeof error === 'object' &&
  error !== null &&
  REBALANCING.has(String((error as { type?: unknown }).type));

/** The message of a kafkajs error, with its cause's message in parentheses. */
export const errorMessage = (error: unknown): string => {
  const e = error as { message?: string; cause?: unknown } | undefined;
  let message = e?.message ?? String(error);
  if (e?.cause && typeof e.cause === 'object' && 'message' in e.cause)
    message += ` (${String((e.cause as Error).message)})`;
  return message;
};

/** The Kafka error type (`UNKNOWN_TOPIC_OR_PARTITION`, …) of a kafkajs error or its causes. */
export function kafkaErrorType(error: unknown): string | undefined {
  for (
    let e = error as { type?: unknown; cause?: unknown } | undefined, depth = 0;
    e && depth < 8;
    e = e.cause as typeof e, depth++
  ) {
    if (typeof e.type === 'string') return e.type;
  }
  return undefined;
}

/** True when Kafka refused the credentials (SASL authentication failed). */
export function isAuthenticationFailure(error: unknown): boolean {
  for (
    let e = error as { name?: string; type?: unknown; cause?: unknown } | undefined, depth = 0;
    e && depth < 8;
    e = e.cause as typeof e, depth++
  ) {
    if (e.name === 'KafkaJSSASLAuthenticationError') return true;
    if (e.type === 'SASL_AUTHENTICATION_FAILED' || e.type === 'ILLEGAL_SASL_STATE') return true;
  }
  return false;
}

/** kafkajs errors that mean the brokers could not be reached (as opposed to refused us). */
export const isConnectionFailure = (error: unknown): boolean => {
  for (
    let e = error as { name?: string; cause?: unknown } | undefined;
    e;
    e = e.cause as typeof e
  ) {
    if (e.name === 'KafkaJSSASLAuthenticationError' || e.name === 'KafkaJSProtocolError')
      return false;
    if (e.name === 'KafkaJSConnectionError' || e.name === 'KafkaJSBrokerNotFound') return true;
  }
  return /ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|Connection (error|timeout)/i.test(
    errorMessage(error),
  );
};

/** Maps kafkajs log lines onto the plugin logger (kafkajs INFO is chatty: it becomes debug). */
function kafkajsLogCreator(logger: Logger) {
  return () =>
    ({ level, log }: LogEntry): void => {
      const { message, timestamp: _t, logger: _l, ...fields } = log;
      const line = `kafkajs: ${message}`;
      const routine = /rebalancing|rejoin/i.test(`${message} ${String(fields.error ?? '')}`); // handled: we revoke and rejoin
      if ((level === logLevel.ERROR || level === logLevel.WARN) && !routine)
        logger.warn(line, fields);
      else if (routine) logger.debug(line, fields);
      else if (level === logLevel.INFO) logger.debug(line, fields);
    };
}

/**
 * The kafkajs client for `options`: brokers, client id, TLS, SASL, timeouts and retry backoff as
 * parsed from `consumerProperties`. The consumer, the dead-letter writer and the `dlq replay`
 * reader all connect through this, so security settings apply to each of them. No I/O.
 *
 * @param logger kafkajs log lines go here; without one they are dropped.
 * @param clientIdSuffix appended to the client id (`-dlq`) so broker logs tell the clients apart.
 */
export function createKafka(
  options: KafkaSourceOptions,
  logger?: Logger,
  clientIdSuffix = '',
): Kafka {
  return new Kafka({
    clientId: `${options.clientId}${clientIdSuffix}`,
    brokers: [...options.brokers],
    ssl: options.ssl === false ? false : options.ssl,
    ...(options.sasl ? { sasl: { ...options.sasl } as SASLOptions } : {}),
    connectionTimeout: options.connectionTimeout,
    requestTimeout: options.requestTimeout,
    retry: { initialRetryTime: options.retryBackoff, retries: 5 },
    logLevel: logger ? logLevel.INFO : logLevel.NOTHING,
    ...(logger ? { logCreator: kafkajsLogCreator(logger) } : {}),
  });
}

/** `Kafka at host:port[,…]` plus the SASL user when there is one (never the password). */
export function describeKafka(options: KafkaSourceOptions): string {
  const user = options.sasl ? ` as SASL user "${options.sasl.username}"` : '';
  return `Kafka at ${options.brokers.join(',')}${user}`;
}

/**
 * What to tell the user about a topic that does not exist: Sluice never creates source topics
 * (auto-creation would silently consume an empty, misspelt topic forever).
 */
export function missingTopicMessage(topic: string, options: KafkaSourceOptions): string {
  return (
    `The topic "${topic}" does not exist on ${describeKafka(options)}. Topics must exist before ` +
    'Sluice consumes them (canalAdapters[].instance names the topic; Sluice does not create it): ' +
    `create it, e.g. \`kafka-topics.sh --bootstrap-server ${options.brokers[0]} --create --topic ${topic} ` +
    '--partitions <as many as canal.mq.partitionsNum>`, or fix the name.'
  );
}

/**
 * Why Kafka refused us, when it refused the SASL credentials (no password in it); to follow
 * `… from Kafka at <brokers>: `.
 */
export function authenticationMessage(options: KafkaSourceOptions, error: unknown): string {
  const user = options.sasl ? ` of SASL user "${options.sasl.username}"` : '';
  return (
    `the credentials${user} were refused (check kafka.security.protocol, kafka.sasl.mechanism ` +
    `and kafka.sasl.jaas.config): ${errorMessage(error)}`
  );
}

/** `promise`, or resolves early (undefined) when `signal` aborts. */
export function untilAborted(
  promise: Promise<void>,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => resolve();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
