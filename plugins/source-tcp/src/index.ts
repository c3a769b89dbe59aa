export { TcpSource, tcpSource } from './tcpSource.js';
export { TcpOptionsError, parseServers, tcpPropertiesSchema, tcpSourceOptions } from './options.js';
export type { HostPort, TcpSourceOptions } from './options.js';
export { CanalAuthError, CanalConnectionError, CanalSession } from './connection.js';
export type { CanalBatch, SessionOptions } from './connection.js';
export { CanalZooKeeper, ZooKeeperError, canalPaths } from './zookeeper.js';
