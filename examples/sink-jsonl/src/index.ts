export { jsonlSink, jsonlSink as default } from './plugin.js';
export type { JsonlSinkProperties } from './plugin.js';
export { jsonlMappingSchema, jsonlMappings } from './mapping.js';
export type { JsonlMapping } from './mapping.js';
