import { ErrorCodes, SluiceError } from '@sluice/plugin-api';
import { printable } from './preview.js';

/**
 * A canal message that cannot be decoded. `path` names the offending field (e.g. `data[2].id`
 * or `messages[0].storeValue.rowDatas[1].afterColumns[3].value`), so an operator can find it in
 * the raw message; `reason` is the message without the path.
 */
export class DecodeError extends SluiceError {
  /** The offending field, when known. */
  readonly path: string | undefined;
  /** What is wrong, without the path. */
  readonly reason: string;
  constructor(message: string, options?: { path?: string; cause?: unknown }) {
    const path = options?.path === undefined ? undefined : printable(options.path, 300);
    const reason = printable(message, 2000);
    super(ErrorCodes.decode, path ? `${path}: ${reason}` : reason, options);
    this.path = path;
    this.reason = reason;
  }
}

/**
 * Rethrows `error` with `prefix` put in front of its path (`prefix.path` or `prefix[i]...`),
 * so nested decoders can report the full path without building it on the happy path.
 * Anything that is not a {@link DecodeError} is wrapped into one.
 */
export function withPathPrefix(error: unknown, prefix: string): DecodeError {
  if (error instanceof DecodeError) {
    const inner = error.path;
    const path =
      inner === undefined
        ? prefix
        : inner.startsWith('[')
          ? `${prefix}${inner}`
          : `${prefix}.${inner}`;
    return new DecodeError(error.reason, { path, cause: error.cause });
  }
  return new DecodeError(error instanceof Error ? error.message : String(error), {
    path: prefix,
    cause: error,
  });
}
