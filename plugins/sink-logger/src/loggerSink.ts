import { SinkClosedError, allApplied, defineSink, type SinkInstance } from '@sluice/plugin-api';
import { formatChange } from './formatChange.js';

/**
 * canal-adapter's `logger` adapter: prints every change as one line to stdout (or stderr with
 * `properties.output: stderr`). Needs no mapping files and no server.
 */
export const loggerSink = defineSink({
  name: 'logger',
  description: 'Prints each change as one readable line.',
  coalescing: false,
  // Lines are for reading: print in consumption order, like canal-adapter's logger.
  ordering: 'partition',
  propertiesSchema: {
    type: 'object',
    properties: {
      output: {
        type: 'string',
        enum: ['stdout', 'stderr'],
        default: 'stdout',
        description: 'Where lines go.',
      },
    },
  },
  create(ctx): SinkInstance {
    const stream = ctx.properties.output === 'stderr' ? process.stderr : process.stdout;
    // When several pipelines print into one stream, each line says which one it comes from.
    const prefix =
      (ctx.pipelineCount ?? 1) > 1 && ctx.destination !== undefined
        ? `[${ctx.destination}/${ctx.groupId ?? ''}] `
        : '';
    let closed = false;
    return {
      async connect() {},
      async write(batch) {
        if (closed) throw new SinkClosedError();
        const text = batch.map((r) => prefix + formatChange(r.event)).join('\n');
        if (text) stream.write(text + '\n');
        return allApplied(batch);
      },
      async flush() {
        if (closed) throw new SinkClosedError();
      },
      async close() {
        closed = true;
      },
    };
  },
});
