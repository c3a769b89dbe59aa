export { createLogger } from './observability/logger.js';
export type { LogFormat, LogLevel, LoggerOptions } from './observability/logger.js';
export { redact } from './observability/redact.js';
