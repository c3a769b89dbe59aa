import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../usageError.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** `util.parseArgs` in strict mode, with its errors turned into {@link UsageError}s. */
export function parseCommandArgs<O extends Options>(
  command: string,
  args: readonly string[],
  options: O,
  allowPositionals = false,
): ReturnType<
  typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: boolean }>
> {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals });
  } catch (error) {
    throw new UsageError(
      `sluice ${command}: ${(error as Error).message.replace(/\. To specify.*$/s, '')}`,
    );
  }
}
