/*
 * Errors the Sluice core understands. A plugin throws (or reports per event) one of these; the
 * core decides what happens next. Anything else a plugin throws is treated as retryable.
 *
 * Every error carries a stable `code` from {@link ErrorCodes}.
 */

/**
 * The catalogue of error codes, `SLUICE_ERR_<AREA>_<WHAT>`. Codes are stable: match on them,
 * never on messages.
 *
 * - `retryable`, `notConnected`, `permanent`, `fatal`, `closed`: what a plugin reports (see the
 *   classes below).
 * - `decode`: a source message that is not a canal message (dead-lettered).
 * - `config`: the configuration is invalid.
 * - `plugin*`: loading and wiring plugins: not found, duplicate name, incompatible
 *   `apiVersion`, not a branded definition, the module failed to load, an undeclared or unknown
 *   core service.
 * - `sourceConnect` / `sinkConnect`: the core gave up connecting a source or a sink (a fatal
 *   connect error, or canal's `retries` attempts used up); `sourceFailed`: a running source
 *   stopped for good. Raised by the core, not by plugins.
 * - `pipelineStopped`: a pipeline stopped on a fatal condition the core found (a crashed
 *   applier, a plugin contract violation); `replay`: `sluice dlq replay` cannot go on.
 */
export const ErrorCodes = {
  retryable: 'SLUICE_ERR_SINK_RETRYABLE',
  notConnected: 'SLUICE_ERR_SINK_NOT_CONNECTED',
  permanent: 'SLUICE_ERR_EVENT_PERMANENT',
  fatal: 'SLUICE_ERR_FATAL',
  closed: 'SLUICE_ERR_SINK_CLOSED',
  decode: 'SLUICE_ERR_DECODE',
  config: 'SLUICE_ERR_CONFIG_INVALID',
  pluginNotFound: 'SLUICE_ERR_PLUGIN_NOT_FOUND',
  pluginDuplicate: 'SLUICE_ERR_PLUGIN_DUPLICATE',
  pluginVersion: 'SLUICE_ERR_PLUGIN_VERSION_MISMATCH',
  pluginInvalid: 'SLUICE_ERR_PLUGIN_INVALID',
  pluginLoad: 'SLUICE_ERR_PLUGIN_LOAD',
  pluginDependency: 'SLUICE_ERR_PLUGIN_DEPENDENCY_MISSING',
  sourceConnect: 'SLUICE_ERR_SOURCE_CONNECT',
  sourceFailed: 'SLUICE_ERR_SOURCE_FAILED',
  sinkConnect: 'SLUICE_ERR_SINK_CONNECT',
  pipelineStopped: 'SLUICE_ERR_PIPELINE_STOPPED',
  replay: 'SLUICE_ERR_REPLAY',
} as const;

/** One of the codes in {@link ErrorCodes}. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Base class of every error Sluice defines. */
export class SluiceError extends Error {
  /** The stable code; what {@link classifyError} looks at. */
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * A transient failure (network, timeout, deadlock, HTTP 429/503). The core backs off
 * exponentially (at least `waitMs` when given) and retries the same batch.
 *
 * By default each such failure uses up one of canal's `retries` attempts; when they run out the
 * batch's records go to the dead-letter queue (a failure that persists may be caused by the
 * data). Set `countsAsAttempt: false` for failures that say nothing about the data — lock
 * contention (a deadlock, a lock wait timeout, a serialization failure) or back-pressure (HTTP
 * 429) — so they are retried, with the same backoff, until they pass: good data is never
 * dead-lettered because the target was busy.
 */
export class RetryableError extends SluiceError {
  /** The least time to wait before the retry (e.g. from a `Retry-After` header), ms. */
  readonly waitMs: number | undefined;
  /** False: this failure does not use up an attempt of canal's `retries` (see above). */
  readonly countsAsAttempt: boolean;
  constructor(
    message: string,
    options?: { cause?: unknown; waitMs?: number; countsAsAttempt?: boolean },
  ) {
    super(ErrorCodes.retryable, message, options);
    this.waitMs = options?.waitMs;
    this.countsAsAttempt = options?.countsAsAttempt ?? true;
  }
}

/** The connection is gone. The core calls `connect` again (with backoff), then retries. */
export class NotConnectedError extends SluiceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.notConnected, message, options);
  }
}

/**
 * This one event can never be applied (constraint violation, rejected document, mapping error).
 * Report it in the event's outcome: the core sends that event to the dead-letter queue and the
 * rest of the batch goes on.
 */
export class PermanentEventError extends SluiceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.permanent, message, options);
  }
}

/** Nothing can go on (bad credentials, missing target, misconfiguration). The core stops cleanly. */
export class FatalError extends SluiceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.fatal, message, options);
  }
}

/** `write` or `flush` was called after `close`. */
export class SinkClosedError extends SluiceError {
  constructor(message = 'The sink is closed.') {
    super(ErrorCodes.closed, message);
  }
}

/** True for any error defined by Sluice, including ones from another copy of this package. */
export function isSluiceError(error: unknown): error is SluiceError {
  if (error instanceof SluiceError) return true;
  if (!(error instanceof Error)) return false;
  const code: unknown = (error as Error & { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('SLUICE_ERR_');
}

/** How the core treats a failure. */
export type FailureClass = 'retryable' | 'notConnected' | 'permanent' | 'fatal';

/** Classifies any thrown value; unknown errors are retryable. Works across package copies. */
export function classifyError(error: unknown): FailureClass {
  if (!isSluiceError(error)) return 'retryable';
  switch (error.code) {
    case ErrorCodes.notConnected:
      return 'notConnected';
    case ErrorCodes.permanent:
    case ErrorCodes.decode:
      return 'permanent';
    case ErrorCodes.fatal:
    case ErrorCodes.closed:
    case ErrorCodes.config:
    case ErrorCodes.pluginNotFound:
    case ErrorCodes.pluginDuplicate:
    case ErrorCodes.pluginVersion:
    case ErrorCodes.pluginInvalid:
    case ErrorCodes.pluginLoad:
    case ErrorCodes.pluginDependency:
    case ErrorCodes.sourceConnect:
    case ErrorCodes.sourceFailed:
    case ErrorCodes.sinkConnect:
    case ErrorCodes.pipelineStopped:
    case ErrorCodes.replay:
      return 'fatal';
    default:
      return 'retryable';
  }
}
