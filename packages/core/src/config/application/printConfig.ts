import { SECRET_KEY_PATTERN } from '../binding/secretKeys.js';
import { redactUrl } from '@sluice/plugin-api';
import type { ResolvedConfig } from './types.js';

const MASK = '******';

function redactText(text: string, secrets: ReadonlySet<string>): string {
  let out = redactUrl(text);
  for (const secret of secrets) {
    if (secret.length >= 3 && out.includes(secret)) out = out.split(secret).join(MASK);
  }
  return out;
}

/**
 * A deep copy of `value` with secrets replaced by `******`: values under secret-looking keys
 * (password, secretKey, token, security.auth, …), every occurrence of a known secret value, and
 * credentials inside URLs.
 */
export function redactConfig(
  value: unknown,
  secrets: ReadonlySet<string> = new Set(),
  depth = 0,
): unknown {
  if (typeof value === 'string')
    return secrets.has(value) && value !== '' ? MASK : redactText(value, secrets);
  if (depth > 32 || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((v) => redactConfig(v, secrets, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] =
      SECRET_KEY_PATTERN.test(k) &&
      v !== '' &&
      v !== null &&
      v !== undefined &&
      typeof v !== 'object'
        ? MASK
        : redactConfig(v, secrets, depth + 1);
  }
  return out;
}

/** The resolved configuration as YAML-like JSON text, secrets redacted (`sluice validate --print`). */
export function printConfig(
  config: ResolvedConfig,
  secrets: ReadonlySet<string> = new Set(),
): string {
  const shown = {
    ...config,
    mappings: config.mappings.map(({ digest: _digest, ...rest }) => rest),
  };
  return JSON.stringify(redactConfig(shown, secrets), null, 2) + '\n';
}
