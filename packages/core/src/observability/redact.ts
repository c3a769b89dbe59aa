import { SECRET_KEY_PATTERN } from '../config/binding/secretKeys.js';

/** What replaces a secret value. */
export const REDACTED = '******';

/**
 * A copy of `value` with secret-looking fields (by key, recursively, up to 8 levels) replaced by
 * {@link REDACTED}; an `Error` becomes `{ name, message, code? }`. Pure; never throws.
 */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8 || typeof value !== 'object' || value === null) return value;
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { name: value.name, message: value.message, ...(code !== undefined ? { code } : {}) };
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] =
      SECRET_KEY_PATTERN.test(k) && v !== '' && v !== null && v !== undefined
        ? REDACTED
        : redact(v, depth + 1);
  }
  return out;
}
