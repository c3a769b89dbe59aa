import { ErrorCodes, SluiceError } from '@sluice/plugin-api';

/** The message of any thrown value. */
export const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/**
 * The errors the core raises, one factory per code with its message template next to it
 * (Fastify's `lib/errors` pattern, architecture review §8.B): a throw site supplies values,
 * never prose. Every error is a {@link SluiceError} with a code from `ErrorCodes`, so the CLI
 * prints `[CODE]` and `classifyError` sees a fatal error (a plain `Error` would count as
 * retryable). Each factory keeps the underlying failure as `cause`.
 */
export const coreErrors = {
  /** A source's `connect` failed fatally, or every attempt allowed by canal's `retries` failed. */
  sourceConnect: (source: string, attempts: number, cause: unknown) =>
    new SluiceError(
      ErrorCodes.sourceConnect,
      `Source ${source} could not connect (${attempts} attempt(s)): ${messageOf(cause)}`,
      { cause },
    ),
  /** A source's `run` rejected: it stopped delivering for good. */
  sourceFailed: (source: string, cause: unknown) =>
    new SluiceError(ErrorCodes.sourceFailed, `Source ${source} failed: ${messageOf(cause)}`, {
      cause,
    }),
  /** A sink's `connect` failed fatally, or every attempt allowed failed. */
  sinkConnect: (sink: string, attempts: number, cause: unknown) =>
    new SluiceError(
      ErrorCodes.sinkConnect,
      `Sink "${sink}" could not connect (${attempts} attempt(s)): ${messageOf(cause)}`,
      { cause },
    ),
  /** A sink's `write` failed fatally. */
  sinkFailed: (sink: string, cause: unknown) =>
    new SluiceError(ErrorCodes.fatal, `Sink "${sink}" failed: ${messageOf(cause)}`, { cause }),
  /** After the last attempt with `terminateOnException: true`. */
  sinkTerminated: (sink: string, attempts: number, cause: unknown) =>
    new SluiceError(
      ErrorCodes.fatal,
      `Sink "${sink}" failed after ${attempts} attempt(s) and terminateOnException is true; stopped without committing the failed batch: ${messageOf(cause)}`,
      { cause },
    ),
  /** A sink broke the plugin contract (e.g. a result of the wrong length) on every attempt. */
  sinkContract: (sink: string, detail: string, attempts: number) =>
    new SluiceError(
      ErrorCodes.pipelineStopped,
      `Sink "${sink}" ${detail} (a plugin bug; stopped after ${attempts} attempt(s))`,
    ),
  /** An applier lane threw (a core bug or a plugin that broke an invariant). */
  applierCrashed: (sink: string, cause: unknown) =>
    new SluiceError(
      ErrorCodes.pipelineStopped,
      `Applier of sink "${sink}" crashed: ${messageOf(cause)}`,
      { cause },
    ),
  /** A configuration problem found only at run time. */
  config: (message: string, cause?: unknown) =>
    new SluiceError(ErrorCodes.config, message, cause === undefined ? undefined : { cause }),
  /** `sluice dlq replay` cannot go on. */
  replay: (message: string, cause?: unknown) =>
    new SluiceError(ErrorCodes.replay, message, cause === undefined ? undefined : { cause }),
} as const;
