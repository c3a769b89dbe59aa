export { MetricsRegistry } from './observability/metrics.js';
