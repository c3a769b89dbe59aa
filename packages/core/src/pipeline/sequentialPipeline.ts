import {
  FatalError,
  classifyError,
  type ChangeEvent,
  type Logger,
  type Metrics,
  type SinkInstance,
  type SinkRecord,
  type SourceBatch,
  type SourceHandler,
  type SourceInstance,
  type WriteResult,
} from '@sluice/plugin-api';
import type { DeadLetterQueue } from '../deadLetter.js';
import { encodePayload } from '../deadLetter.js';
import { backoffDelay, maxAttempts, sleep } from './backoff.js';
import { decodeMessage, type MessageFormat } from './decodeMessage.js';

/** A sink instance of a group, connected by the runtime. */
export interface PipelineSink {
  readonly key: string;
  readonly name: string;
  readonly instance: SinkInstance;
}

export interface PipelineOptions {
  readonly destination: string;
  readonly groupId: string;
  readonly format: MessageFormat;
  readonly source: SourceInstance & { locate?(partition: string, offset: string): string };
  readonly sinks: readonly PipelineSink[];
  readonly deadLetter: DeadLetterQueue;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly batchSize: number;
  /** canal `retries`. */
  readonly retries: number;
  readonly signal: AbortSignal;
}

interface Pending {
  readonly offset: string;
  readonly payload: Uint8Array | string;
  readonly events: ChangeEvent[];
}

/**
 * Applies each delivered batch to every sink of the group, in order, then commits. Undecodable
 * messages and events a sink rejects permanently go to the dead-letter queue first: the commit
 * never passes anything that was neither applied nor dead-lettered.
 */
export class SequentialPipeline implements SourceHandler {
  readonly #o: PipelineOptions;

  constructor(options: PipelineOptions) {
    this.#o = options;
  }

  async deliver(batch: SourceBatch): Promise<void> {
    const o = this.#o;
    const pending: Pending[] = [];
    for (const message of batch.messages) {
      try {
        const events = decodeMessage(message.payload, o.format, {
          destination: o.destination,
          partition: batch.partition,
          offset: message.offset,
        });
        pending.push({ offset: message.offset, payload: message.payload, events });
        o.metrics.increment('sluice_events_consumed_total', { destination: o.destination }, events.length);
      } catch (error) {
        const where = o.source.locate?.(batch.partition, message.offset) ?? `partition ${batch.partition} offset ${message.offset}`;
        const reason = (error as Error).message;
        await o.deadLetter.write({
          at: new Date().toISOString(),
          destination: o.destination,
          groupId: o.groupId,
          partition: batch.partition,
          offset: message.offset,
          reason: `undecodable message: ${reason}`,
          attempts: 1,
          ...encodePayload(message.payload),
        });
        o.metrics.increment('sluice_messages_undecodable_total', { destination: o.destination });
        o.logger.warn(`Skipped ${where}: not a canal message (${reason}); sent to the dead-letter queue.`, {
          deadLetter: o.deadLetter.location,
        });
      }
    }
    for (const sink of o.sinks) {
      const records = pending.flatMap((p) => p.events.map((event) => ({ record: { event, mapping: undefined } as SinkRecord, p })));
      for (let i = 0; i < records.length; i += o.batchSize) {
        const chunk = records.slice(i, i + o.batchSize);
        const { result, attempts } = await this.#writeWithRetry(sink, chunk.map((c) => c.record));
        for (const [j, outcome] of result.entries()) {
          const { record, p } = chunk[j]!;
          if (outcome.status === 'applied') {
            o.metrics.increment('sluice_events_applied_total', { sink: sink.key, table: `${record.event.database}.${record.event.table}` });
            continue;
          }
          await o.deadLetter.write({
            at: new Date().toISOString(),
            destination: o.destination,
            groupId: o.groupId,
            partition: batch.partition,
            offset: p.offset,
            index: record.event.position.index,
            sink: sink.key,
            reason: outcome.error.message,
            attempts,
            ...encodePayload(p.payload),
          });
          o.metrics.increment('sluice_events_dead_lettered_total', { sink: sink.key });
          o.logger.warn(`Sink "${sink.key}" rejected an event; sent to the dead-letter queue.`, {
            partition: batch.partition,
            offset: p.offset,
            reason: outcome.error.message,
          });
        }
      }
    }
    const last = batch.messages.at(-1);
    if (last) await o.source.commit(batch.partition, (BigInt(last.offset) + 1n).toString());
  }

  async #writeWithRetry(sink: PipelineSink, batch: SinkRecord[]): Promise<{ result: WriteResult; attempts: number }> {
    const o = this.#o;
    const limit = maxAttempts(o.retries);
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await sink.instance.write(batch, o.signal);
        if (result.length !== batch.length) {
          throw new Error(`Sink "${sink.key}" returned ${result.length} outcomes for ${batch.length} events.`);
        }
        return { result, attempts: attempt };
      } catch (error) {
        const kind = classifyError(error);
        if (kind === 'fatal' || attempt >= limit || o.signal.aborted) {
          throw new FatalError(`Sink "${sink.key}" failed after ${attempt} attempt(s): ${(error as Error).message}`, { cause: error });
        }
        o.logger.warn(`Sink "${sink.key}" write failed; retrying.`, { attempt, error: (error as Error).message });
        await sleep(backoffDelay(attempt), o.signal);
        if (kind === 'notConnected') await sink.instance.connect(o.signal);
      }
    }
  }
}
