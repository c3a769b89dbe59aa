import { getEventListeners } from 'node:events';
import { appendFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SourceBatch, SourceHandler, SourceInstance } from '@sluice/plugin-api';
import { PluginRegistry, createLogger, loadConfig, runSluice } from '@sluice/core';
import { EventBuilder, createMemorySinkPlugin, toFlatMessage } from '@sluice/testkit';
import { fileSource, fileSourceOptions } from '../src/index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-file-source-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ev = new EventBuilder({ database: 'shop' });
const line = (id: number, name: string) =>
  toFlatMessage(ev.insert('items', { id: String(id), name }));

function create(properties: Record<string, string>): SourceInstance {
  return fileSource.create({
    instance: 'example',
    groupId: 'g1',
    properties,
    configDir: dir,
    deps: {},
  });
}

/** A handler recording every batch; `onDeliver` runs after each. */
function recorder(
  onDeliver?: (batch: SourceBatch) => void | Promise<void>,
): SourceHandler & { batches: SourceBatch[]; assignedTo: string[] } {
  const batches: SourceBatch[] = [];
  const assignedTo: string[] = [];
  return {
    batches,
    assignedTo,
    async assigned(partitions) {
      assignedTo.push(...partitions);
    },
    async deliver(batch) {
      batches.push(batch);
      await onDeliver?.(batch);
    },
  };
}

describe('file source', () => {
  it('delivers each non-empty line as a message whose offset is its line number', async () => {
    await writeFile(join(dir, 'a.jsonl'), `${line(1, 'a')}\n\n${line(2, 'b')}\n`);
    const source = create({ 'file.path': 'a.jsonl' });
    await source.connect(new AbortController().signal);
    const handler = recorder();
    await source.run(handler, { once: true, signal: new AbortController().signal });
    expect(handler.assignedTo).toEqual(['a.jsonl']);
    expect(handler.batches.flatMap((b) => b.messages.map((m) => m.offset))).toEqual(['1', '3']);
    expect(handler.batches[0]?.partition).toBe('a.jsonl');
  });

  it('reads every .jsonl file of a directory in name order, one partition each, in batches', async () => {
    await mkdir(join(dir, 'in'));
    await writeFile(join(dir, 'in', 'b.jsonl'), `${line(3, 'c')}\n`);
    await writeFile(
      join(dir, 'in', 'a.jsonl'),
      `${line(1, 'a')}\n${line(2, 'b')}\n${line(4, 'd')}\n`,
    );
    await writeFile(join(dir, 'in', 'ignored.txt'), 'not read\n');
    const source = create({ 'file.path': 'in', 'file.batchSize': '2' });
    await source.connect(new AbortController().signal);
    const handler = recorder();
    await source.run(handler, { once: true, signal: new AbortController().signal });
    expect(handler.batches.map((b) => [b.partition, b.messages.length])).toEqual([
      [join('in', 'a.jsonl'), 2],
      [join('in', 'a.jsonl'), 1],
      [join('in', 'b.jsonl'), 1],
    ]);
  });

  it('with --once reads a last line that lacks its newline (the file is complete)', async () => {
    const [first, last] = [line(1, 'a'), line(2, 'last')];
    await writeFile(join(dir, 'a.jsonl'), `${first}\n${last}`);
    const source = create({ 'file.path': 'a.jsonl' });
    await source.connect(new AbortController().signal);
    const handler = recorder();
    await source.run(handler, { once: true, signal: new AbortController().signal });
    expect(handler.batches.flatMap((b) => b.messages.map((m) => m.offset))).toEqual(['1', '2']);
    expect(handler.batches.flatMap((b) => b.messages.map((m) => m.payload))).toEqual([first, last]);
  });

  it('when following, leaves a trailing line without its newline until the newline arrives', async () => {
    const file = join(dir, 'a.jsonl');
    await writeFile(file, `${line(1, 'a')}\n${line(2, 'half')}`);
    const source = create({ 'file.path': 'a.jsonl', 'file.pollMs': '10' });
    await source.connect(new AbortController().signal);
    const stop = new AbortController();
    const seen: string[] = [];
    const handler = recorder(async (batch) => {
      seen.push(...batch.messages.map((m) => m.offset));
      if (seen.length === 1) {
        expect(seen).toEqual(['1']); // line 2 is still being written
        await appendFile(file, `\n${line(3, 'c')}\n`);
      }
      if (seen.length === 3) stop.abort();
    });
    await source.run(handler, { once: false, signal: stop.signal });
    expect(seen).toEqual(['1', '2', '3']);
  });

  it('follows appended lines until the signal aborts', async () => {
    const file = join(dir, 'a.jsonl');
    await writeFile(file, `${line(1, 'a')}\n`);
    const source = create({ 'file.path': 'a.jsonl', 'file.pollMs': '10' });
    await source.connect(new AbortController().signal);
    const stop = new AbortController();
    const handler = recorder(async (batch) => {
      const last = batch.messages.at(-1)!.offset;
      if (last === '1') await appendFile(file, `${line(2, 'b')}\n${line(3, 'c')}\n`);
      if (last === '3') stop.abort();
    });
    await source.run(handler, { once: false, signal: stop.signal });
    expect(handler.batches.flatMap((b) => b.messages.map((m) => m.offset))).toEqual([
      '1',
      '2',
      '3',
    ]);
  });

  it('idles for many polls without piling listeners on the run signal (no leak, no MaxListenersExceededWarning)', async () => {
    await writeFile(join(dir, 'a.jsonl'), `${line(1, 'a')}\n`);
    const source = create({ 'file.path': 'a.jsonl', 'file.pollMs': '10' });
    await source.connect(new AbortController().signal);
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    const stop = new AbortController();
    const counts: number[] = [];
    const running = source.run(recorder(), { once: false, signal: stop.signal });
    try {
      // About 50 idle polls at 10 ms; the loop adds nothing to the signal that outlives a poll.
      const until = Date.now() + 500;
      while (Date.now() < until) {
        await new Promise((r) => setTimeout(r, 25));
        counts.push(getEventListeners(stop.signal, 'abort').length);
      }
    } finally {
      stop.abort();
      await running;
      process.off('warning', onWarning);
    }
    expect(
      Math.max(...counts),
      `abort listeners over time: ${counts.join(',')}`,
    ).toBeLessThanOrEqual(1);
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0);
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });

  it('resumes after the committed line when an offset store is configured', async () => {
    await writeFile(join(dir, 'a.jsonl'), `${line(1, 'a')}\n${line(2, 'b')}\n${line(3, 'c')}\n`);
    const props = { 'file.path': 'a.jsonl', 'file.offsetStore': 'state/offsets.json' };
    const first = create(props);
    await first.connect(new AbortController().signal);
    await first.commit('a.jsonl', '3');
    expect(JSON.parse(await readFile(join(dir, 'state', 'offsets.json'), 'utf8'))).toEqual({
      'a.jsonl': '3',
    });
    const second = create(props);
    await second.connect(new AbortController().signal);
    const handler = recorder();
    await second.run(handler, { once: true, signal: new AbortController().signal });
    expect(handler.batches.flatMap((b) => b.messages.map((m) => m.offset))).toEqual(['3']);
  });

  it('keeps the offset store whole when many partitions commit at once, and leaves no temporary file', async () => {
    await writeFile(join(dir, 'a.jsonl'), `${line(1, 'a')}\n`);
    const source = create({ 'file.path': 'a.jsonl', 'file.offsetStore': 'offsets.json' });
    await source.connect(new AbortController().signal);
    const commits: Promise<void>[] = [];
    for (let n = 1; n <= 200; n++) {
      for (const p of ['a.jsonl', 'b.jsonl', 'c.jsonl']) commits.push(source.commit(p, String(n)));
    }
    await Promise.all(commits);
    expect(JSON.parse(await readFile(join(dir, 'offsets.json'), 'utf8'))).toEqual({
      'a.jsonl': '200',
      'b.jsonl': '200',
      'c.jsonl': '200',
    });
    expect((await readdir(dir)).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('stops with an error when a followed file shrinks (truncated or replaced) instead of going quiet', async () => {
    const file = join(dir, 'a.jsonl');
    await writeFile(file, `${line(1, 'a')}\n${line(2, 'b')}\n`);
    const source = create({ 'file.path': 'a.jsonl', 'file.pollMs': '10' });
    await source.connect(new AbortController().signal);
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), 2000);
    const handler = recorder(async (batch) => {
      if (batch.messages.at(-1)!.offset === '2') await writeFile(file, `${line(3, 'new')}\n`);
    });
    await expect(source.run(handler, { once: false, signal: stop.signal })).rejects.toThrow(
      /a\.jsonl.*(shrank|truncated)/,
    );
    clearTimeout(timer);
  });

  it('stops with an error when the file holds fewer lines than the offset store committed', async () => {
    const props = { 'file.path': 'a.jsonl', 'file.offsetStore': 'offsets.json' };
    await writeFile(join(dir, 'a.jsonl'), `${line(1, 'a')}\n${line(2, 'b')}\n${line(3, 'c')}\n`);
    const first = create(props);
    await first.connect(new AbortController().signal);
    await first.commit('a.jsonl', '4');
    // Rotated: a new file with two lines the old offset would silently skip.
    await writeFile(join(dir, 'a.jsonl'), `${line(4, 'd')}\n${line(5, 'e')}\n`);
    const second = create(props);
    await second.connect(new AbortController().signal);
    await expect(
      second.run(recorder(), { once: true, signal: new AbortController().signal }),
    ).rejects.toThrow(/a\.jsonl.*fewer lines/);
  });

  it('refuses a path that does not exist at connect, naming it', async () => {
    const source = create({ 'file.path': 'missing.jsonl' });
    await expect(source.connect(new AbortController().signal)).rejects.toThrow(
      join(dir, 'missing.jsonl'),
    );
  });

  it('resolves relative paths against the configuration directory and has defaults', () => {
    expect(fileSourceOptions({}, '/cfg')).toEqual({
      path: '/cfg/samples',
      offsetStore: undefined,
      pollMs: 250,
      batchSize: 500,
    });
    expect(fileSourceOptions({ 'file.path': '/abs/x.jsonl' }, '/cfg').path).toBe('/abs/x.jsonl');
  });

  it('reports a bad line with its line number and dead-letters it; the other lines apply', async () => {
    const dlq = join(dir, 'dlq');
    await writeFile(
      join(dir, 'in.jsonl'),
      `${line(1, 'a')}\n{"this is": not json\n${line(2, 'b')}\n`,
    );
    await writeFile(
      join(dir, 'application.yml'),
      [
        'canal.conf:',
        '  mode: file',
        '  consumerProperties:',
        '    file.path: in.jsonl',
        '  canalAdapters:',
        '  - instance: example',
        '    groups:',
        '    - groupId: g1',
        '      outerAdapters:',
        '      - name: memory',
        'sluice:',
        '  deadLetter:',
        `    dir: ${dlq}`,
        '',
      ].join('\n'),
    );
    const registry = new PluginRegistry();
    const memory = createMemorySinkPlugin();
    registry.register(fileSource, 'built-in @sluice/source-file');
    registry.register(memory.definition, 'test');
    const lines: string[] = [];
    const logger = createLogger({ write: (l) => lines.push(l) });
    const config = await loadConfig(dir, { plugins: registry });
    await runSluice({ config, registry, logger, once: true, signal: new AbortController().signal });

    expect([...memory.target.table('shop', 'items').keys()].sort()).toEqual(['1', '2']);
    const warning = lines
      .map((l) => JSON.parse(l) as { level: string; msg: string })
      .find((e) => e.level === 'warn' && e.msg.includes('line 2 of in.jsonl'));
    expect(warning, lines.join('\n')).toBeDefined();
    const [dlqFile] = await readdir(dlq);
    const records = (await readFile(join(dlq, dlqFile!), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      partition: 'in.jsonl',
      offset: '2',
      payload: '{"this is": not json',
    });
  });
});
