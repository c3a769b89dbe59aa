import { ErrorCodes, SluiceError } from '@sluice/plugin-api';

/**
 * A canal message that cannot be decoded. `path` names the offending field (e.g. `data[2]`),
 * so an operator can find it in the raw message.
 */
export class DecodeError extends SluiceError {
  readonly path: string | undefined;
  constructor(message: string, options?: { path?: string; cause?: unknown }) {
    super(ErrorCodes.decode, options?.path ? `${options.path}: ${message}` : message, options);
    this.path = options?.path;
  }
}
