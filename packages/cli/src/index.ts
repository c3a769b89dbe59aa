export { main, mainHelp } from './main.js';
export type { CliIo } from './io.js';
export { createBuiltinRegistry } from './builtins.js';
