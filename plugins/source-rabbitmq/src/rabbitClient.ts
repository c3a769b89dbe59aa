import { connect as amqpConnect, type ChannelModel } from 'amqplib';
import { FatalError, NotConnectedError } from '@sluice/plugin-api';
import { describeBroker, type RabbitOptions } from './options.js';

/** The message of an error, with its cause's message in parentheses. */
export function errorMessage(error: unknown): string {
  const e = error as { message?: unknown; cause?: unknown } | undefined;
  let message = typeof e?.message === 'string' ? e.message : String(error);
  if (e?.cause && typeof e.cause === 'object' && 'message' in e.cause)
    message += ` (${String((e.cause as Error).message)})`;
  return message;
}

/** The AMQP reply code of a channel or connection error (404 NOT_FOUND, 403 ACCESS_REFUSED…). */
export function amqpCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** Socket-level failures: the broker is not (yet) there. Everything else is the broker's answer. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
]);

/**
 * True when `error` means the broker could not be reached or dropped us (retry later), false
 * when the broker refused us (credentials, vhost: retrying will not help).
 */
export function isConnectionFailure(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | undefined;
  if (typeof e?.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  const message = typeof e?.message === 'string' ? e.message : '';
  if (/ACCESS.REFUSED|NOT_ALLOWED|vhost|Handshake terminated|ConnectionOpenOk/i.test(message))
    return false;
  // amqplib: "Socket closed abruptly during opening handshake", "connect ETIMEDOUT", a broker
  // shutting down (320 CONNECTION_FORCED), the socket timeout of the `timeout` option.
  return /socket|closed|timeout|timed out|CONNECTION_FORCED|ECONN|EPIPE/i.test(message);
}

/** A broker refusal explained for an operator (no secrets). */
export function refusalMessage(o: RabbitOptions, error: unknown): string {
  const message = errorMessage(error);
  if (/ACCESS.REFUSED/i.test(message) && /login|auth|PLAIN/i.test(message))
    return `the broker refused user "${o.username}" (rabbitmq.username / rabbitmq.password): ${message}`;
  // RabbitMQ closes the connection instead of opening it for a vhost that does not exist or the
  // user may not use (amqplib: "Expected ConnectionOpenOk; got <ConnectionClose …>").
  if (/vhost|ConnectionOpenOk/i.test(message))
    return `virtual host "${o.vhost}" does not exist or user "${o.username}" may not use it (rabbitmq.virtual.host): ${message}`;
  return message;
}

/**
 * Opens an AMQP 0-9-1 connection with the source's settings, named for the broker's connection
 * list (`sluice <queue>`).
 *
 * @throws NotConnectedError when the broker cannot be reached; FatalError when it refuses us.
 */
export async function openConnection(o: RabbitOptions, name: string): Promise<ChannelModel> {
  try {
    const conn = await amqpConnect(
      {
        protocol: 'amqp',
        hostname: o.host,
        port: o.port,
        username: o.username,
        password: o.password,
        vhost: o.vhost,
        heartbeat: o.heartbeatSeconds,
      },
      { timeout: o.connectTimeoutMs, clientProperties: { connection_name: name } },
    );
    // An 'error' without a listener would crash the process; the 'close' that follows is handled.
    conn.on('error', () => {});
    return conn;
  } catch (error) {
    const message = `Cannot connect to ${describeBroker(o)}: ${refusalMessage(o, error)}`;
    throw isConnectionFailure(error)
      ? new NotConnectedError(message, { cause: error })
      : new FatalError(message, { cause: error });
  }
}

/** Resolves with `promise`, or as soon as `signal` aborts (leaving `promise` to settle alone). */
export function untilAborted<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
): Promise<T | void> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.resolve();
  return new Promise<T | void>((resolve, reject) => {
    const onAbort = () => resolve();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** Waits `ms`, or less when `signal` aborts. Adds no lasting listener. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
