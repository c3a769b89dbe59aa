export { fileSource, fileSourceOptions } from './fileSource.js';
export type { FileSourceOptions } from './fileSource.js';
