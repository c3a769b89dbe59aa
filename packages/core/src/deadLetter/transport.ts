import { isAbsolute, resolve } from 'node:path';
import { SluiceError, ErrorCodes } from '@sluice/plugin-api';
import type { ResolvedConfig } from '../config/application/types.js';
import type { PluginRegistry } from '../registry.js';
import { FileDeadLetterQueue, FileDeadLetterReader } from './fileQueue.js';
import type { DeadLetterContext, DeadLetterQueue, DeadLetterReader } from './queue.js';
import type { DeadLetterRecord } from './record.js';

/** The dead-letter directory of `sluice.deadLetter.dir`, absolute (relative: to the config dir). */
export function deadLetterDir(config: ResolvedConfig): string {
  const dir = config.sluice.deadLetter.dir;
  return isAbsolute(dir) ? dir : resolve(config.dir, dir);
}

/**
 * The dead-letter transport `sluice.deadLetter.type` selects:
 * - `file`: the core's JSONL directory ({@link FileDeadLetterQueue}, {@link deadLetterDir});
 * - any other value names a source plugin (normally `canal.conf.mode`, e.g. `kafka`) whose
 *   definition brings a `deadLetters` capability; its queue and reader get the
 *   `canal.conf.consumerProperties` as properties, so the source's TLS/SASL settings apply.
 */
export interface DeadLetterTransport {
  /** `file` or the source plugin's name. */
  readonly type: string;
  /** Where the dead letters of one `canalAdapters[].instance` live (for messages, no secrets). */
  locationOf(instance: string): string;
  /** The queue of one instance (no I/O until the first write). */
  queue(instance: string): DeadLetterQueue;
  /** A reader of one instance's dead letters (no I/O until `read`). */
  reader(instance: string): DeadLetterReader;
  /**
   * A reader of a queue named explicitly (`sluice dlq --topic`), or `undefined` for the `file`
   * transport (its files are named with `--from`).
   */
  readerNamed(name: string): DeadLetterReader | undefined;
}

function capabilityContext(config: ResolvedConfig, instance: string): DeadLetterContext {
  const suffix = config.sluice.deadLetter.topicSuffix;
  return {
    instance,
    name: suffix === '.dlq' ? undefined : `${instance}${suffix}`,
    properties: config.canal.consumerProperties,
    configDir: config.dir,
  };
}

/**
 * The transport of `sluice.deadLetter` (see {@link DeadLetterTransport}).
 *
 * @throws SluiceError (config) when the type names a source without a dead-letter capability.
 */
export function deadLetterTransportOf(
  config: ResolvedConfig,
  registry: PluginRegistry,
): DeadLetterTransport {
  const type = config.sluice.deadLetter.type;
  if (type === 'file') {
    const dir = deadLetterDir(config);
    const queue = new FileDeadLetterQueue(dir);
    return {
      type,
      locationOf: (instance) => queue.fileFor(instance),
      queue: () => queue,
      reader: (instance) =>
        new FileDeadLetterReader(queue.fileFor(instance), async () => [queue.fileFor(instance)]),
      readerNamed: () => undefined,
    };
  }
  const source = registry.source(type, 'sluice.deadLetter.type');
  const capability = source.deadLetters;
  if (!capability)
    throw new SluiceError(
      ErrorCodes.config,
      `sluice.deadLetter.type is "${type}", but source plugin "${type}" has no dead-letter queue of its own; use type file.`,
    );
  return {
    type,
    locationOf: (instance) => capability.reader(capabilityContext(config, instance)).location,
    queue: (instance) => capability.queue(capabilityContext(config, instance)),
    reader: (instance) => capability.reader(capabilityContext(config, instance)),
    readerNamed: (name) =>
      capability.reader({ ...capabilityContext(config, name), instance: name, name }),
  };
}

/**
 * One {@link DeadLetterQueue} for a whole run: routes each record to the queue of its
 * `destination` (created on first use) and closes them all. Its `location` names every
 * configured instance's location.
 */
export class RoutingDeadLetterQueue implements DeadLetterQueue {
  readonly location: string;
  readonly #transport: DeadLetterTransport;
  readonly #queues = new Map<string, DeadLetterQueue>();
  readonly #prepared = new Map<string, Promise<void>>();

  constructor(transport: DeadLetterTransport, instances: readonly string[]) {
    this.#transport = transport;
    this.location = [...new Set(instances)].map((i) => transport.locationOf(i)).join(', ');
  }

  /** The queue of one destination. */
  queueFor(destination: string): DeadLetterQueue {
    let queue = this.#queues.get(destination);
    if (!queue) {
      queue = this.#transport.queue(destination);
      this.#queues.set(destination, queue);
    }
    return queue;
  }

  write(record: DeadLetterRecord, signal: AbortSignal): Promise<void> {
    return this.queueFor(record.destination).write(record, signal);
  }

  /**
   * The start-up check of one destination's queue ({@link DeadLetterQueue.prepare}), once per
   * destination while it succeeds. Rejects with what the queue's `prepare` threw.
   */
  prepareFor(destination: string, signal: AbortSignal): Promise<void> {
    let prepared = this.#prepared.get(destination);
    if (!prepared) {
      const queue = this.queueFor(destination);
      prepared = queue.prepare ? queue.prepare(signal) : Promise.resolve();
      this.#prepared.set(destination, prepared);
      prepared.catch(() => this.#prepared.delete(destination));
    }
    return prepared;
  }

  async close(signal: AbortSignal): Promise<void> {
    const queues = [...new Set(this.#queues.values())];
    this.#queues.clear();
    await Promise.all(queues.map((q) => q.close(signal).catch(() => undefined)));
  }
}

/** The dead-letter queue of a run: `sluice.deadLetter` routed per destination. */
export function deadLetterQueueOf(
  config: ResolvedConfig,
  registry: PluginRegistry,
): RoutingDeadLetterQueue {
  return new RoutingDeadLetterQueue(
    deadLetterTransportOf(config, registry),
    config.canal.canalAdapters.map((a) => a.instance),
  );
}
