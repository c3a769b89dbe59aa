import { createLogger } from '@sluice/core';
import type { Logger } from '@sluice/plugin-api';
/** Where a command writes; replaced in tests. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /**
   * True when stderr is a terminal: progress is redrawn in place (`\r`). Otherwise (a log file,
   * a pipe, CI) progress is printed as whole lines, at most every 10 s. Default false.
   */
  readonly stderrIsTTY?: boolean;
}

/**
 * The reader of stdout went away (`sluice inspect … | head`): stop quietly, as Unix tools do,
 * instead of crashing on an unhandled EPIPE with a stack trace.
 */
function exitOnBrokenPipe(error: NodeJS.ErrnoException): void {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
}
let guarded = false;
/** Installs the broken-pipe handling on stdout (idempotent); the binary calls it at start. */
export function exitQuietlyOnBrokenPipe(): void {
  guard();
}
function guard(): void {
  if (guarded) return;
  guarded = true;
  process.stdout.on('error', exitOnBrokenPipe);
}

export const processIo: CliIo = {
  stdout: (text) => {
    guard();
    process.stdout.write(text);
  },
  stderr: (text) => process.stderr.write(text),
  get stderrIsTTY() {
    return process.stderr.isTTY === true;
  },
};

/**
 * The logger of a command: one line per entry on `io.stderr`, readable when stderr is a
 * terminal (`SLUICE_LOG_FORMAT` decides otherwise).
 */
export function commandLogger(io: CliIo): Logger {
  return createLogger({
    write: (line) => io.stderr(line + '\n'),
    terminal: io.stderrIsTTY === true,
  });
}
