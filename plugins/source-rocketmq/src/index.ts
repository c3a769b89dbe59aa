export {
  RocketMQSource,
  allocateAveragely,
  partitionOf,
  rocketmqSource,
} from './rocketmqSource.js';
export {
  RocketMQDeadLetterQueue,
  RocketMQDeadLetterReader,
  deadLetterReplayGroup,
  deadLetterTopic,
} from './deadLetters.js';
export { RocketMQOptionsError, rocketmqSourceOptions, wrapNamespace } from './options.js';
export type { RocketMQSourceOptions } from './options.js';
export {
  RocketMQClient,
  RocketMQResponseError,
  aclSignature,
  javaStringHash,
  tagsOf,
} from './client.js';
export type {
  AclCredentials,
  MessageQueue,
  PullResult,
  RocketMQClientOptions,
  TopicRoute,
} from './client.js';
export {
  MessageFormatError,
  decodeMessages,
  decodeProperties,
  encodeProperties,
} from './message.js';
export type { StoredMessage } from './message.js';
export {
  FrameDecoder,
  RemotingConnection,
  RemotingTransportError,
  RequestCode,
  ResponseCode,
  encodeCommand,
} from './remoting.js';
export type { RemotingCommand, ServerRequestHandler } from './remoting.js';
