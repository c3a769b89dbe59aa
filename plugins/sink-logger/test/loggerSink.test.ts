import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SinkInstance } from '@sluice/plugin-api';
import { EventBuilder } from '@sluice/testkit';
import { loggerSink } from '../src/index.js';

const ev = new EventBuilder({ database: 'mytest' });
const signal = new AbortController().signal;

function create(
  properties: { output?: 'stdout' | 'stderr' } = {},
  pipeline: { destination?: string; groupId?: string; pipelineCount?: number } = {},
): SinkInstance {
  return loggerSink.create({
    key: 'log-1',
    name: 'logger',
    hosts: undefined,
    properties: { output: 'stdout', ...properties },
    configDir: '/cfg',
    deps: {},
    ...pipeline,
  });
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('logger sink', () => {
  it('prints one line per record to stdout and applies every record', async () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const sink = create();
    await sink.connect(signal);
    const batch = [
      ev.insert('user', { id: '1', name: 'a' }),
      ev.ddl('user', 'TRUNCATE user', 'TRUNCATE'),
      ev.delete('user', { id: '1' }),
    ].map((event) => ({ event, mapping: undefined }));
    const result = await sink.write(batch, signal);
    expect(result).toEqual([{ status: 'applied' }, { status: 'applied' }, { status: 'applied' }]);
    expect(out).toHaveBeenCalledTimes(1);
    expect(out.mock.calls[0]?.[0]).toBe(
      'mytest.user INSERT [id=1] name="a"\nmytest.user TRUNCATE TRUNCATE user\nmytest.user DELETE [id=1]\n',
    );
    await sink.close(signal);
  });

  it('prints to stderr with output: stderr', async () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const sink = create({ output: 'stderr' });
    await sink.write([{ event: ev.insert('user', { id: '2' }), mapping: undefined }], signal);
    expect(err).toHaveBeenCalledWith('mytest.user INSERT [id=2]\n');
    expect(out).not.toHaveBeenCalled();
  });

  it('writes nothing for an empty batch', async () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    expect(await create().write([], signal)).toEqual([]);
    expect(out).not.toHaveBeenCalled();
  });

  it('names the pipeline on every line when several pipelines print, and not with one', async () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const batch = [{ event: ev.insert('user', { id: '3' }), mapping: undefined }];
    await create({}, { destination: 'example', groupId: 'g2', pipelineCount: 2 }).write(
      batch,
      signal,
    );
    await create({}, { destination: 'example', groupId: 'g1', pipelineCount: 1 }).write(
      batch,
      signal,
    );
    expect(out.mock.calls.map((c) => c[0])).toEqual([
      '[example/g2] mytest.user INSERT [id=3]\n',
      'mytest.user INSERT [id=3]\n',
    ]);
  });
});
