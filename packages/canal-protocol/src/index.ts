export { DecodeError } from './decodeError.js';
export { decodeFlatMessage, encodeFlatMessage } from './flatMessage.js';
export type { FlatMessage, FlatRow } from './flatMessage.js';
export { flatMessageToChangeEvents } from './toChangeEvents.js';
export type { MessageOrigin } from './toChangeEvents.js';
