export { esSink } from './esSink.js';
export { EsSink } from './esSinkInstance.js';
export type { EsSinkOptions } from './esSinkInstance.js';
export type { EsMapping } from './mapping.js';
export { esPropertiesSchema } from './properties.js';
export type { EsSinkProperties } from './properties.js';
export { externalVersion } from './version.js';
