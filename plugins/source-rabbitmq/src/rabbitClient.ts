import { readFile } from 'node:fs/promises';
import type { ConnectionOptions } from 'node:tls';
import { connect as amqpConnect, type ChannelModel } from 'amqplib';
import { FatalError, NotConnectedError } from '@sluice/plugin-api';
import {
  RABBIT_KEYS,
  describeBroker,
  type RabbitOptions,
  type RabbitTlsOptions,
} from './options.js';

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
  if (isCertificateError(error)) return false;
  const e = error as { code?: unknown; message?: unknown } | undefined;
  if (typeof e?.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  const message = typeof e?.message === 'string' ? e.message : '';
  if (/ACCESS.REFUSED|NOT_ALLOWED|vhost|Handshake terminated|ConnectionOpenOk/i.test(message))
    return false;
  // amqplib: "Socket closed abruptly during opening handshake", "connect ETIMEDOUT", a broker
  // shutting down (320 CONNECTION_FORCED), the socket timeout of the `timeout` option.
  return /socket|closed|timeout|timed out|CONNECTION_FORCED|ECONN|EPIPE/i.test(message);
}

/**
 * The `tls.connect` options of {@link RabbitTlsOptions}: the PEM files read now.
 *
 * @throws FatalError naming the key and the file when one cannot be read.
 */
export async function tlsSocketOptions(t: RabbitTlsOptions): Promise<ConnectionOptions> {
  const read = async (key: string, path: string | undefined): Promise<Buffer | undefined> => {
    if (path === undefined) return undefined;
    try {
      return await readFile(path);
    } catch (error) {
      throw new FatalError(`${key}: cannot read ${path}: ${errorMessage(error)}`, { cause: error });
    }
  };
  const [ca, cert, key] = await Promise.all([
    read(RABBIT_KEYS.sslCa, t.caPath),
    read(RABBIT_KEYS.sslCert, t.certPath),
    read(RABBIT_KEYS.sslKey, t.keyPath),
  ]);
  return {
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(t.passphrase !== undefined ? { passphrase: t.passphrase } : {}),
    rejectUnauthorized: t.verify,
    ...(t.verify ? {} : { checkServerIdentity: () => undefined }),
  };
}

/** Node's codes for a broker certificate it does not accept (verification, host name). */
const CERTIFICATE_CODES =
  /^(?:UNABLE_TO_|SELF_SIGNED_CERT|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_|ERR_TLS_CERT_ALTNAME_INVALID)/;

/** True when `error` is a TLS certificate that was not accepted (retrying will not help). */
export function isCertificateError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && CERTIFICATE_CODES.test(code);
}

/** A broker refusal explained for an operator (no secrets). */
export function refusalMessage(o: RabbitOptions, error: unknown): string {
  const message = errorMessage(error);
  if (isCertificateError(error))
    return (
      `the broker's TLS certificate was not accepted (${String((error as { code?: unknown }).code)}): ${message}. ` +
      `Set ${RABBIT_KEYS.sslCa} to the CA that signed it (PEM); the certificate must name the host as written in ${RABBIT_KEYS.host}.`
    );
  if (/^ERR_SSL_|^EPROTO$/.test(String((error as { code?: unknown } | undefined)?.code ?? '')))
    return `the TLS handshake failed (is port ${o.port} a TLS listener?): ${message}`;
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
  const tls = o.tls ? await tlsSocketOptions(o.tls) : undefined;
  try {
    const conn = await amqpConnect(
      {
        protocol: tls ? 'amqps' : 'amqp',
        hostname: o.host,
        port: o.port,
        username: o.username,
        password: o.password,
        vhost: o.vhost,
        heartbeat: o.heartbeatSeconds,
      },
      { ...tls, timeout: o.connectTimeoutMs, clientProperties: { connection_name: name } },
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
