export { esSink } from './esSink.js';
export type { EsMapping } from './mapping.js';
