/**
 * Issue 13, back-pressure: `sluice start --once` (file source, es8 sink, canal's default
 * `retries: 0`, i.e. one attempt) against a server that answers every `_bulk` item with 429
 * `es_rejected_execution_exception` three times before it accepts them — what a busy
 * Elasticsearch does. Nothing may be dead-lettered: back-pressure is retried until it passes
 * without using up an attempt. (Before the fix the first 429 dead-lettered both documents.)
 * Elasticsearch cannot be made to reject on demand, so a small HTTP server answers like it.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readdirSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { requireBuiltCli, sluiceBin } from './support/sluice.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-es-429-'));
let server: Server;
let port = 0;
let bulks = 0;
const indexed = new Map<string, unknown>();

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const headers = { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' };
      if (!req.url?.includes('_bulk')) {
        res.writeHead(200, headers);
        res.end(JSON.stringify({ status: 'green' }));
        return;
      }
      bulks += 1;
      const lines = body.split('\n').filter((l) => l !== '');
      const items: unknown[] = [];
      for (let i = 0; i < lines.length; i += 2) {
        const meta = JSON.parse(lines[i]!) as { index: { _index: string; _id: string } };
        if (bulks <= 3)
          items.push({
            index: {
              ...meta.index,
              status: 429,
              error: {
                type: 'es_rejected_execution_exception',
                reason: 'rejected execution of coordinating operation',
              },
            },
          });
        else {
          indexed.set(meta.index._id, JSON.parse(lines[i + 1]!));
          items.push({ index: { ...meta.index, status: 201, result: 'created' } });
        }
      }
      res.writeHead(200, headers);
      res.end(JSON.stringify({ took: 1, errors: bulks <= 3, items }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

it('429 es_rejected_execution_exception items are retried until accepted, with retries 0, and nothing is dead-lettered', async () => {
  requireBuiltCli();
  const message = (id: number, type: string, rows: Record<string, string>[]) =>
    JSON.stringify({
      data: rows,
      database: 'mytest',
      es: 1_700_000_000_000 + id,
      gtid: '',
      id,
      isDdl: false,
      mysqlType: { id: 'bigint(20)', name: 'varchar(64)' },
      old: null,
      pkNames: ['id'],
      sql: '',
      sqlType: { id: -5, name: 12 },
      table: 'user',
      ts: 1_700_000_000_100 + id,
      type,
    });
  writeFileSync(
    join(dir, 'messages.jsonl'),
    [
      message(1, 'INSERT', [
        { id: '1', name: 'a' },
        { id: '2', name: 'b 😀' },
      ]),
    ].join('\n') + '\n',
  );
  mkdirSync(join(dir, 'es8'));
  writeFileSync(
    join(dir, 'application.yml'),
    `canal.conf:
  mode: file
  consumerProperties:
    file.path: ${JSON.stringify(join(dir, 'messages.jsonl'))}
  srcDataSources:
    defaultDS:
      url: jdbc:mysql://127.0.0.1:1/mytest
      username: root
      password:
  canalAdapters:
  - instance: example
    groups:
    - groupId: g1
      outerAdapters:
      - name: es8
        key: es1
        hosts: http://127.0.0.1:${port}
sluice:
  deadLetter:
    type: file
    dir: ${JSON.stringify(join(dir, 'dlq'))}
`,
  );
  writeFileSync(
    join(dir, 'es8', 'user.yml'),
    `dataSourceKey: defaultDS
destination: example
groupId: g1
outerAdapterKey: es1
esMapping:
  _index: es-ops-user
  _id: _id
  sql: "select a.id as _id, a.name from user a"
`,
  );
  // Asynchronously: the fake server answers from this process's event loop.
  const child = spawn(process.execPath, [sluiceBin, 'start', '--once', '--config', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
  const status = await new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  expect(status, output).toBe(0);
  const dead = (() => {
    try {
      return readdirSync(join(dir, 'dlq'));
    } catch {
      return [];
    }
  })();
  expect(dead, 'nothing dead-lettered').toEqual([]);
  expect(bulks).toBeGreaterThanOrEqual(4);
  expect(Object.fromEntries(indexed)).toEqual({ '1': { name: 'a' }, '2': { name: 'b 😀' } });
}, 150_000);
