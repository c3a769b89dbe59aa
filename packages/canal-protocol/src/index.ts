export { DecodeError } from './decodeError.js';
export { decodeFlatMessage, encodeFlatMessage, flatMessageFromJson } from './flatMessage.js';
export type { FlatMessage, FlatRow } from './flatMessage.js';
export { flatMessageToChangeEvents } from './toChangeEvents.js';
export type { MessageOrigin } from './messageOrigin.js';
export {
  EntryType,
  EventType,
  SourceType,
  decodeEntry,
  decodeRowChange,
  decodeTransactionBegin,
  decodeTransactionEnd,
  encodeColumn,
  encodeEntry,
  encodeHeader,
  encodeRowChange,
  encodeRowData,
  encodeTransactionBegin,
  encodeTransactionEnd,
  entryTypeName,
  eventTypeName,
} from './protobuf/entryProtocol.js';
export type {
  CanalColumn,
  CanalEntry,
  CanalHeader,
  CanalPair,
  CanalRowChange,
  CanalRowData,
  CanalTransactionBegin,
  CanalTransactionEnd,
} from './protobuf/entryProtocol.js';
export {
  Compression,
  PacketType,
  decodeCanalMessages,
  decodePacket,
  encodeAckPacket,
  encodeCanalMessages,
} from './protobuf/canalProtocol.js';
export type { CanalMessages, CanalPacket, PacketLayout } from './protobuf/canalProtocol.js';
export { canalMessagesToChangeEvents, decodeProtobufMessage } from './protobuf/toChangeEvents.js';
export {
  CANAL_DEFAULT_CLIENT_ID,
  FrameReader,
  TimeUnitOrdinal,
  canalPasswd,
  checkScrambledPassword,
  decodeAck,
  decodeBatchRef,
  decodeClientAuth,
  decodeGet,
  decodeHandshake,
  decodeSubscription,
  encodeClientAck,
  encodeClientAuth,
  encodeClientRollback,
  encodeGet,
  encodeHandshake,
  encodePacket,
  encodeSubscribe,
  encodeUnsubscribe,
  frame,
  messagesBatchId,
  scramblePassword,
} from './protobuf/canalTcp.js';
export type {
  CanalAck,
  CanalBatchRef,
  CanalClientAuth,
  CanalGet,
  CanalHandshake,
  CanalSubscription,
} from './protobuf/canalTcp.js';

export { flatMessageToEntry } from './protobuf/fromFlatMessage.js';
export type { EntryHeaderOptions } from './protobuf/fromFlatMessage.js';
export { detectFormat, decodeCanalPayload } from './payload.js';
export { isSystemTable } from './notices.js';
export type { DecodeNotice, StatementDmlNotice } from './notices.js';
export { unquoteName } from './names.js';
export { preview, printable } from './preview.js';
export { looksLikeCanalPacket, looksLikeText, startsLikeJson } from './sniff.js';
export type { PayloadFormat } from './payload.js';
export { parseMysqlType } from './values/mysqlType.js';
export type { MysqlColumnType, TypeFamily } from './values/mysqlType.js';
export { readColumn, typedValue } from './values/typedValue.js';
export type {
  BitValue,
  BytesValue,
  DateTimeValue,
  DateValue,
  DecimalValue,
  EnumIndexValue,
  EnumValue,
  FloatValue,
  IntegerValue,
  JsonValue,
  NullValue,
  SetMaskValue,
  SetValue,
  TextValue,
  TimeValue,
  TypedValue,
  UnknownValue,
  YearValue,
} from './values/typedValue.js';
export {
  flatMessagePartitions,
  javaStringHash,
  parsePartitionHash,
  partitionOfHash,
  rowPartition,
  ruleMatches,
} from './partitionHash.js';
export type { PartitionHashRule, PartitionOptions } from './partitionHash.js';
