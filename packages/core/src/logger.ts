import type { Logger } from '@sluice/plugin-api';
import { SECRET_KEY_PATTERN } from './config/binding/secretKeys.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Replaces secret-looking fields (recursively) with `******`. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8 || typeof value !== 'object' || value === null) return value;
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] =
      SECRET_KEY_PATTERN.test(k) && v !== '' && v !== null && v !== undefined
        ? '******'
        : redact(v, depth + 1);
  }
  return out;
}

/** A logger writing one line per entry (`level message key=value…`) to a stream, stderr by default. */
export function createLogger(
  options: {
    level?: LogLevel;
    write?: (line: string) => void;
    fields?: Record<string, unknown>;
  } = {},
): Logger {
  const min = ORDER[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const base = options.fields ?? {};
  const emit = (level: LogLevel, message: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < min) return;
    const all = redact({ ...base, ...fields }) as Record<string, unknown>;
    const tail = Object.entries(all)
      .map(
        ([k, v]) =>
          `${k}=${typeof v === 'string' ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v))}`,
      )
      .join(' ');
    write(
      `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${message}${tail ? ' ' + tail : ''}`,
    );
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger({ ...options, fields: { ...base, ...fields } }),
  };
}
