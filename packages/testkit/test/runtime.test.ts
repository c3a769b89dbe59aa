import { describe, expect, it } from 'vitest';
import { EventBuilder, MemorySource, createMemorySinkPlugin, toFlatMessage } from '../src/index.js';
import { startTestRuntime } from '../src/runtime.js';

const ev = new EventBuilder({ database: 'shop' });

describe('startTestRuntime', () => {
  it('runs the core wiring from an in-memory source to the registered sink, following pushes', async () => {
    const memory = createMemorySinkPlugin();
    const rt = await startTestRuntime({ sinks: [memory.definition] });
    try {
      rt.source.push('0', toFlatMessage(ev.insert('items', { id: '1', name: 'a' })));
      await rt.waitFor(() => memory.target.table('shop', 'items').size === 1);
      rt.source.push(
        '0',
        toFlatMessage(ev.update('items', { id: '1', name: 'a' }, { id: '1', name: 'b' })),
      );
      await rt.waitFor(() => memory.target.table('shop', 'items').get('1')?.['name'] === 'b');
      // The core commits what the sink applied and flushed.
      await rt.waitFor(() => rt.source.committed.get('0') === '3');
    } finally {
      await rt.stop();
    }
    expect(memory.instances.at(-1)?.calls.at(-1)).toBe('close');
  });

  it('dead-letters a message the core cannot decode, with the reason, and goes on', async () => {
    const memory = createMemorySinkPlugin();
    const source = new MemorySource({
      '0': ['{"not": json', toFlatMessage(ev.insert('items', { id: '2', name: 'b' }))],
    });
    const rt = await startTestRuntime({ sinks: [memory.definition], source, once: true });
    await rt.done;
    const letters = await rt.deadLetters();
    await rt.stop();
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ partition: '0', offset: '1', payload: '{"not": json' });
    expect([...memory.target.table('shop', 'items').keys()]).toEqual(['2']);
  });

  it('refuses an invalid configuration before starting anything', async () => {
    const memory = createMemorySinkPlugin();
    await expect(
      startTestRuntime({
        sinks: [memory.definition],
        applicationYml: 'canal.conf:\n  mode: nosuchmode\n',
      }),
    ).rejects.toThrow(/nosuchmode/);
  });
});
