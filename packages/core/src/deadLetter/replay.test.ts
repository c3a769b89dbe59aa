import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allApplied, defineSink, type SinkRecord } from '@sluice/plugin-api';
import { loadConfig } from '../config/application/loadConfig.js';
import type { DeadLetterQueue } from './queue.js';
import type { DeadLetterRecord } from './record.js';
import { replayDeadLetters } from './replay.js';
import { PluginRegistry } from '../registry.js';
import { quietLogger } from '../../test/support/pipeline.js';

const good = (id: string) =>
  JSON.stringify({
    data: [{ id, name: 'a' }],
    database: 'db',
    es: 1,
    id: 1,
    isDdl: false,
    mysqlType: { id: 'int', name: 'varchar(10)' },
    old: null,
    pkNames: ['id'],
    sql: '',
    sqlType: { id: 4, name: 12 },
    table: 't',
    ts: 2,
    type: 'INSERT',
  });

const letter = (id: string, sink: string | undefined): DeadLetterRecord => ({
  at: 'x',
  destination: 'example',
  groupId: 'g1',
  partition: '0',
  offset: id,
  ...(sink !== undefined ? { sink, index: 0 } : {}),
  reason: 'r',
  attempts: 1,
  payload: good(id),
  payloadEncoding: 'utf8',
});

async function setup(write: (batch: readonly SinkRecord[]) => Promise<void>) {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-replay-'));
  await writeFile(
    join(dir, 'application.yml'),
    `canal.conf:
  mode: file
  flatMessage: true
  canalAdapters:
  - instance: example
    groups:
    - groupId: g1
      outerAdapters:
      - name: logger
        key: log1
sluice:
  pipeline:
    maxInFlight: 10
`,
  );
  const config = await loadConfig(dir);
  const registry = new PluginRegistry();
  registry.register(
    defineSink({
      name: 'logger',
      create: () => ({
        connect: async () => {},
        write: async (batch) => {
          await write(batch);
          return allApplied(batch);
        },
        flush: async () => {},
        close: async () => {},
      }),
    }),
    'test',
  );
  const written: DeadLetterRecord[] = [];
  const deadLetter: DeadLetterQueue = {
    location: 'memory',
    write: async (r) => void written.push(r),
    close: async () => {},
  };
  return { config, registry, deadLetter, written };
}

describe('replayDeadLetters', () => {
  it('does not report success when it was stopped before every dead letter was applied', async () => {
    const controller = new AbortController();
    const applied: string[] = [];
    const { config, registry, deadLetter } = await setup(async (batch) => {
      for (const r of batch) applied.push(String(r.event.kind === 'row' && r.event.after?.['id']));
      controller.abort(new Error('SIGINT')); // the operator presses Ctrl-C during the replay
    });
    const records = Array.from({ length: 250 }, (_, i) => letter(String(i + 1), 'log1'));
    const replay = replayDeadLetters({
      config,
      registry,
      logger: quietLogger(),
      records,
      deadLetter,
      signal: controller.signal,
    });
    // The caller commits the dead-letter topic's progress when this resolves: it must not.
    await expect(replay).rejects.toThrow(/stopped before/);
    expect(applied.length).toBeLessThan(records.length);
  });

  it('a dead letter of a sink instance no longer in the group goes back to the queue', async () => {
    const { config, registry, deadLetter, written } = await setup(async () => {});
    const summary = await replayDeadLetters({
      config,
      registry,
      logger: quietLogger(),
      records: [letter('1', 'log1'), letter('2', 'renamed')],
      deadLetter,
      signal: new AbortController().signal,
    });
    expect(summary.deadLetteredAgain).toBe(1);
    expect(written).toHaveLength(1);
    expect(written[0]).toMatchObject({ offset: '2', sink: 'renamed', payload: good('2') });
  });
});
