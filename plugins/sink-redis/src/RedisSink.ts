/**
 * The redis sink instance: pipelined, Cluster-slot-aware application of planned commands, the
 * delayed-eviction drainer, `count`, `etl`, `healthcheck`.
 */
import {
  APPLIED,
  FatalError,
  NotConnectedError,
  PermanentEventError,
  RetryableError,
  SinkClosedError,
  failed,
  type Clock,
  type DataSources,
  type EtlRequest,
  type EtlResult,
  type Logger,
  type MappingFile,
  type SinkInstance,
  type SinkRecord,
  type WriteOutcome,
  type WriteResult,
} from '@sluice/plugin-api';
import calculateSlot from 'cluster-key-slot';
import { Cluster, type ChainableCommander, type Redis } from 'ioredis';
import { runEtl } from './etl.js';
import { globEscape, keyPattern, staticPrefix } from './keyTemplate.js';
import { compileMapping, type CompiledMapping } from './mapping.js';
import type { RedisMappingFile } from './mappingSchema.js';
import { parseScheduleMember, planEvent, type Command } from './plan.js';
import { APPLY_SCRIPT, EVICT_IF_SCRIPT } from './scripts.js';
import { VERSION_SUFFIX, versionKeyOf } from './version.js';

type Client = Redis | Cluster;

/** ioredis client with the write-mode script registered under `sluiceApply`. */
type ScriptedPipeline = ChainableCommander & {
  sluiceApply(
    valueKey: string,
    versionKey: string,
    ...args: (string | number)[]
  ): ChainableCommander;
  sluiceEvictIf(valueKey: string, versionKey: string, version: string): ChainableCommander;
};

/** Redis error replies that are transient: the whole batch is retried. */
const TRANSIENT_REPLY =
  /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN|LOADING|BUSY|MASTERDOWN|READONLY|NOREPLICAS|OOM)\b/;
/** Redis error replies meaning the credentials or permissions are wrong: retrying cannot help. */
const AUTH_REPLY = /^(WRONGPASS|NOAUTH|NOPERM)\b|invalid password|invalid username/i;

/** What the instance needs besides its client. */
export interface RedisSinkOptions {
  readonly key: string;
  readonly prefix: string;
  readonly scheduleKey: string;
  readonly pollMs: number;
  readonly createClient: () => Client;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly dataSources: DataSources | undefined;
}

interface Pending {
  readonly record: number;
  readonly command: Command;
}

/** One `outerAdapters[]` entry with `name: redis`. Safe for concurrent `write` calls. */
export class RedisSink implements SinkInstance<RedisMappingFile> {
  readonly #o: RedisSinkOptions;
  #client: Client | undefined;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  #draining: Promise<void> | undefined;

  constructor(options: RedisSinkOptions) {
    this.#o = options;
  }

  /** The connected client (for tests and tools); throws before `connect`. */
  get client(): Client {
    if (!this.#client) throw new NotConnectedError('The redis sink is not connected.');
    return this.#client;
  }

  async connect(signal: AbortSignal): Promise<void> {
    if (this.#closed) throw new SinkClosedError();
    const existing = this.#client;
    if (
      existing &&
      (existing.status === 'ready' ||
        existing.status === 'connecting' ||
        existing.status === 'reconnecting' ||
        existing.status === 'connect')
    )
      return;
    existing?.disconnect();
    const client = this.#o.createClient();
    client.defineCommand('sluiceApply', { numberOfKeys: 2, lua: APPLY_SCRIPT });
    client.defineCommand('sluiceEvictIf', { numberOfKeys: 2, lua: EVICT_IF_SCRIPT });
    client.on('error', (error: Error) =>
      this.#o.logger.warn('Redis connection error.', { error: error.message }),
    );
    this.#client = client;
    // One listener per connect, removed when it settles (connect runs again on every reconnect).
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(new NotConnectedError('Connect aborted.'));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    aborted.catch(() => undefined);
    try {
      await Promise.race([client.connect(), aborted]);
      await Promise.race([client.ping(), aborted]);
    } catch (error) {
      client.disconnect();
      this.#client = undefined;
      const message = error instanceof Error ? error.message : String(error);
      if (AUTH_REPLY.test(message))
        throw new FatalError(`Redis refused the credentials: ${message}`, { cause: error });
      throw new NotConnectedError(`Cannot connect to Redis: ${message}`, { cause: error });
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
    // Evictions that fell due while no instance ran (a crash, a stop) are done before the first write.
    await this.drainDelayedEvictions().catch((error: unknown) =>
      this.#o.logger.warn('Delayed evictions failed; retrying at the next poll.', {
        error: error instanceof Error ? error.message : String(error),
      }),
    );
    this.#startDrainer();
  }

  async write(
    batch: readonly SinkRecord<RedisMappingFile>[],
    signal: AbortSignal,
  ): Promise<WriteResult> {
    if (this.#closed) throw new SinkClosedError();
    const client = this.client;
    const outcomes: WriteOutcome[] = batch.map(() => APPLIED);
    const pending: Pending[] = [];
    const now = this.#o.clock.now();
    batch.forEach(({ event, mapping }, record) => {
      if (event.kind !== 'row') return;
      if (!mapping) {
        outcomes[record] = failed(
          new PermanentEventError('The redis sink got an event without a mapping file.'),
        );
        return;
      }
      try {
        const compiled = compileMapping(mapping.config.redisMapping);
        for (const command of planEvent(event, compiled, {
          prefix: this.#o.prefix,
          scheduleKey: this.#o.scheduleKey,
          now,
        }))
          pending.push({ record, command });
      } catch (error) {
        outcomes[record] = failed(
          error instanceof Error ? error : new PermanentEventError(String(error)),
        );
      }
    });
    if (pending.length === 0) return outcomes;
    if (signal.aborted) throw new RetryableError('Write aborted by shutdown.');
    const replies = await this.#execute(client, pending);
    replies.forEach((error, i) => {
      if (!error) return;
      const { record } = pending[i]!;
      if (outcomes[record]!.status === 'applied')
        outcomes[record] = failed(
          new PermanentEventError(`Redis rejected a command for this event: ${error.message}`, {
            cause: error,
          }),
        );
    });
    return outcomes;
  }

  /**
   * Sends the commands, one pipeline per Cluster node (in parallel) or one pipeline in total,
   * keeping their order within a node. Returns the error of each command (undefined = ok).
   *
   * @throws RetryableError / NotConnectedError when a command failed for a transient reason.
   */
  async #execute(client: Client, pending: readonly Pending[]): Promise<(Error | undefined)[]> {
    const groups = new Map<string, number[]>();
    if (client instanceof Cluster) {
      for (let i = 0; i < pending.length; i++) {
        const slot = calculateSlot(pending[i]!.command.key);
        const node = client.slots[slot]?.join(',') ?? `slot:${slot}`;
        let list = groups.get(node);
        if (!list) groups.set(node, (list = []));
        list.push(i);
      }
    } else {
      groups.set(
        '',
        pending.map((_, i) => i),
      );
    }
    const out: (Error | undefined)[] = new Array<Error | undefined>(pending.length);
    const run = async (indexes: number[]) => {
      const pipeline = client.pipeline() as ScriptedPipeline;
      for (const i of indexes) {
        const c = pending[i]!.command;
        if (c.kind === 'unlink') pipeline.unlink(c.key);
        else if (c.kind === 'schedule') pipeline.zadd(c.key, c.dueMs, c.member);
        else if (c.kind === 'evictIf') pipeline.sluiceEvictIf(c.key, c.versionKey, c.version);
        else pipeline.sluiceApply(c.key, c.versionKey, ...c.args);
      }
      let results: [Error | null, unknown][] | null;
      try {
        results = await pipeline.exec();
      } catch (error) {
        throw this.#transient(error);
      }
      if (!results) throw this.#transient(new Error('The pipeline was discarded.'));
      results.forEach(([error], j) => {
        if (!error) return;
        if (!isReplyError(error) || TRANSIENT_REPLY.test(error.message))
          throw this.#transient(error);
        out[indexes[j]!] = error;
      });
    };
    await Promise.all([...groups.values()].map(run));
    return out;
  }

  #transient(error: unknown): Error {
    const message = error instanceof Error ? error.message : String(error);
    if (this.#client && this.#client.status !== 'ready')
      return new NotConnectedError(`Redis connection lost: ${message}`, { cause: error });
    return new RetryableError(`Redis command failed transiently: ${message}`, { cause: error });
  }

  flush(): Promise<void> {
    // Every command of a resolved write was acknowledged by Redis: nothing is buffered here.
    if (this.#closed) return Promise.reject(new SinkClosedError());
    return Promise.resolve();
  }

  async close(signal: AbortSignal): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    const client = this.#client;
    this.#client = undefined;
    if (!client) return;
    if (signal.aborted) {
      client.disconnect();
      return;
    }
    const onAbort = () => client.disconnect();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await this.#draining?.catch(() => undefined);
      // What is due now is done now; later entries stay in the schedule for the next start.
      await this.#drainWith(client).catch(() => undefined);
      await client.quit();
    } catch {
      client.disconnect();
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  async healthcheck(): Promise<void> {
    await this.client.ping();
  }

  /**
   * Keys of a mapping's `keys` templates present in Redis (SCAN over every master with MATCH on
   * the templates' literal prefixes; version keys are not counted).
   */
  async count(mapping: MappingFile<RedisMappingFile>, signal: AbortSignal): Promise<number> {
    const compiled = compileMapping(mapping.config.redisMapping);
    const found = new Set<string>();
    const patterns = compiled.keys.map((t) => keyPattern(t, this.#o.prefix));
    for (const template of compiled.keys) {
      const match = `${globEscape(staticPrefix(template, this.#o.prefix))}*`;
      for await (const key of this.scan(match, signal))
        if (!key.endsWith(VERSION_SUFFIX) && patterns.some((p) => p.test(key))) found.add(key);
    }
    return found.size;
  }

  /** Every key matching a SCAN pattern, on every master. */
  async *scan(match: string, signal: AbortSignal): AsyncGenerator<string> {
    const client = this.client;
    const nodes = client instanceof Cluster ? client.nodes('master') : [client];
    for (const node of nodes) {
      let cursor = '0';
      do {
        if (signal.aborted) throw new RetryableError('Count aborted.');
        const [next, keys] = await node.scan(cursor, 'MATCH', match, 'COUNT', 1000);
        cursor = next;
        yield* keys;
      } while (cursor !== '0');
    }
  }

  async etl(request: EtlRequest<RedisMappingFile>, signal: AbortSignal): Promise<EtlResult> {
    const compiled: CompiledMapping = compileMapping(request.mapping.config.redisMapping);
    if (compiled.mode !== 'write')
      throw new FatalError(
        `${request.mapping.file}: mode evict needs no ETL (an empty cache is a correct cache).`,
      );
    if (!this.#o.dataSources)
      throw new FatalError('The redis sink has no data sources to read from.');
    const client = this.client;
    return runEtl({
      request,
      mapping: compiled,
      dataSources: this.#o.dataSources,
      prefix: this.#o.prefix,
      signal,
      apply: async (commands) => {
        const errors = await this.#execute(
          client,
          commands.map((command, record) => ({ record, command })),
        );
        return errors;
      },
    });
  }

  /**
   * Evicts the keys whose delayed eviction is due. Called by the timer every `pollMs`; safe to
   * call concurrently with writes (an UNLINK commutes with everything the sink does). Idempotent:
   * a crash between the UNLINK and the ZREM only evicts again after the restart.
   */
  async drainDelayedEvictions(limit = 1000): Promise<number> {
    return this.#drainWith(this.client, limit);
  }

  async #drainWith(client: Client, limit = 1000): Promise<number> {
    const due = await client.zrangebyscore(
      this.#o.scheduleKey,
      '-inf',
      this.#o.clock.now(),
      'LIMIT',
      0,
      limit,
    );
    if (due.length === 0) return 0;
    const commands: Command[] = [];
    for (const member of due) {
      const parsed = parseScheduleMember(member);
      if (!parsed) {
        this.#o.logger.warn('Dropped a malformed delayed-eviction entry.', { member });
        continue;
      }
      commands.push(
        parsed.version === undefined
          ? { kind: 'unlink', key: parsed.key }
          : {
              kind: 'evictIf',
              key: parsed.key,
              versionKey: versionKeyOf(parsed.key),
              version: parsed.version,
            },
      );
    }
    const errors = await this.#execute(
      client,
      commands.map((command, record) => ({ record, command })),
    );
    const firstError = errors.find((e) => e !== undefined);
    if (firstError) throw firstError;
    await client.zrem(this.#o.scheduleKey, ...due);
    return due.length;
  }

  #startDrainer(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      if (this.#draining || !this.#client || this.#client.status !== 'ready') return;
      this.#draining = this.drainDelayedEvictions()
        .then((n) => {
          if (n > 0) this.#o.logger.debug('Delayed evictions done.', { keys: n });
        })
        .catch((error: unknown) =>
          this.#o.logger.warn('Delayed evictions failed; retrying at the next poll.', {
            error: error instanceof Error ? error.message : String(error),
          }),
        )
        .finally(() => {
          this.#draining = undefined;
        });
    }, this.#o.pollMs);
    this.#timer.unref();
  }
}

function isReplyError(error: Error): boolean {
  return error.name === 'ReplyError';
}
