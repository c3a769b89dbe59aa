export { formatChange } from './formatChange.js';
export { loggerSink } from './loggerSink.js';
