export { jsonlSink, jsonlSink as default } from './plugin.js';
export type { JsonlSinkProperties } from './plugin.js';
