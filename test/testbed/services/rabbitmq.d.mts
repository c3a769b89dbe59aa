// Types of the parts of rabbitmq.mjs that tests use (a node of their own for a broker restart).
export interface RabbitNode {
  /** Directory of the node's HOME (cookie), mnesia, logs and config files. */
  home: string;
  /** Erlang node name, e.g. `sluice-testbed@localhost`. */
  nodename: string;
  /** AMQP port. */
  port: number;
  /** Erlang distribution port. */
  distPort: number;
  /** TLS (amqps) port, when the node has a TLS listener. */
  tlsPort?: number;
}
/** PEM files of a node's TLS listener. */
export interface RabbitTlsFiles {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}
export const RABBITMQ_PORT: number;
export const RABBITMQ_TLS_PORT: number;
export const RABBITMQ_DIST_PORT: number;
export const RABBITMQ_NODENAME: string;
/** The testbed's own node (not the machine's). */
export const NODE: RabbitNode;
export function rabbitNodeEnv(node: RabbitNode): NodeJS.ProcessEnv;
export function prepareRabbitNode(node: RabbitNode): void;
/** Starts the node's foreground script detached; returns its pid. */
export function startRabbitNode(node: RabbitNode): number;
/** Runs rabbitmqctl against the node; resolves with its output. */
export function rabbitmqctl(node: RabbitNode, args: string[]): Promise<string>;
/** Resolves with `rabbitmq <version>` once an AMQP connection opens. */
export function probeRabbit(url: string): Promise<string>;
export function rabbitTlsFiles(node: Pick<RabbitNode, 'home'>): RabbitTlsFiles;
/** Generates the node's CA, server and client certificates unless valid ones exist. */
export function ensureRabbitTls(node: Pick<RabbitNode, 'home'>): Promise<RabbitTlsFiles>;
/** Starts the TLS listener in a running node that has none. */
export function ensureRabbitTlsListener(node: RabbitNode): Promise<void>;
