/**
 * Keys whose values are secrets even when no schema says so (`jdbc.password`, `security.auth`,
 * `secretKey`, `sasl.jaas.config`, a bearer `token`, …). The one definition: the binder collects
 * the values under such keys so printouts can redact them, `printConfig` masks them, and the
 * logger keeps them out of log lines.
 */
export const SECRET_KEY_PATTERN = /pass(word)?|secret|token|credential|api[-_]?key|\bauth\b|jaas/i;
