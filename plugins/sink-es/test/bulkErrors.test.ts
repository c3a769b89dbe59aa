// How bulk-level outcomes Elasticsearch cannot be made to produce on demand (429 items, 5xx,
// a missing index without auto-creation) are classified. A tiny HTTP server answers like
// Elasticsearch; everything else is tested against the real testbed.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '@sluice/plugin-api';
import { EventBuilder } from '@sluice/testkit';
import { createSink, mappingFile } from './helpers.js';

let reply: { status: number; body: unknown } = { status: 200, body: {} };
let server: Server;
let hosts = '';
const signal = new AbortController().signal;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const health = req.url?.startsWith('/_cluster/health');
      res.writeHead(health ? 200 : reply.status, {
        'content-type': 'application/json',
        'x-elastic-product': 'Elasticsearch',
      });
      res.end(JSON.stringify(health ? { status: 'green' } : reply.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  hosts = `127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const mapping = mappingFile({ _index: 'x', _id: '_id', sql: 'select a.id as _id, a.n from t a' });
const ev = new EventBuilder({ destination: 'd', database: 'db' });
const batch = [
  { event: ev.insert('t', { id: '1', n: 'a' }), mapping },
  { event: ev.insert('t', { id: '2', n: 'b' }), mapping },
];
const item = (status: number, type?: string) => ({
  index: { _index: 'x', _id: '1', status, ...(type ? { error: { type, reason: 'r' } } : {}) },
});

async function writeWith(body: unknown, status = 200): Promise<unknown> {
  reply = { status, body };
  const sink = createSink({}, hosts);
  await sink.connect(signal);
  try {
    return await sink.write(batch, signal).then(
      (r) => r.map((o) => o.status),
      (e: unknown) => e,
    );
  } finally {
    await sink.close(signal);
  }
}

describe('bulk outcomes', () => {
  it('a 429 or 5xx item makes the whole batch retryable', async () => {
    for (const status of [429, 503]) {
      const e = await writeWith({ errors: true, items: [item(201), item(status, 'x')] });
      expect((e as { code?: string }).code).toBe(ErrorCodes.retryable);
    }
  });

  it('back-pressure (429 items, es_rejected_execution_exception) does not use up an attempt; 5xx does', async () => {
    const counts = async (body: unknown, status = 200) => {
      const e = (await writeWith(body, status)) as { code?: string; countsAsAttempt?: boolean };
      expect(e.code).toBe(ErrorCodes.retryable);
      return e.countsAsAttempt;
    };
    expect(
      await counts({
        errors: true,
        items: [item(201), item(429, 'es_rejected_execution_exception')],
      }),
    ).toBe(false);
    expect(
      await counts({ errors: true, items: [item(429, 'circuit_breaking_exception'), item(201)] }),
    ).toBe(false);
    // The type says back-pressure whatever the status a proxy put on the item.
    expect(
      await counts({
        errors: true,
        items: [item(503, 'es_rejected_execution_exception'), item(201)],
      }),
    ).toBe(false);
    expect(
      await counts({ errors: true, items: [item(503, 'unavailable_shards_exception'), item(201)] }),
    ).toBe(true);
    // One 5xx item among 429 ones: the batch counts (a persistent 5xx may be the data's fault).
    expect(
      await counts({
        errors: true,
        items: [item(429, 'es_rejected_execution_exception'), item(500, 'x')],
      }),
    ).toBe(true);
    // A whole-request 429 (every write thread busy, a tripped breaker) is back-pressure too.
    expect(
      await counts(
        { error: { type: 'es_rejected_execution_exception', reason: 'r' }, status: 429 },
        429,
      ),
    ).toBe(false);
    expect(await counts({ error: { type: 'x', reason: 'r' }, status: 502 }, 502)).toBe(true);
  });

  it('a 429 or 5xx response or a short answer is retryable, 413 splits the batch, 400 is fatal', async () => {
    const e429 = await writeWith({ error: { type: 'es_rejected_execution_exception' } }, 429);
    expect((e429 as { code?: string }).code).toBe(ErrorCodes.retryable);
    const e502 = await writeWith({ error: 'bad gateway' }, 502);
    expect((e502 as { code?: string }).code).toBe(ErrorCodes.retryable);
    const e413 = await writeWith({ error: 'too large' }, 413);
    expect((e413 as { code?: string }).code).toBe(ErrorCodes.permanent);
    const short = await writeWith({ errors: false, items: [item(201)] });
    expect((short as Error).message).toMatch(/1 bulk items for 2 actions/);
    const e400 = await writeWith({ error: { type: 'parse_exception' } }, 400);
    expect((e400 as { code?: string }).code).toBe(ErrorCodes.fatal);
  });

  it('a missing index (auto-creation disabled) stops with a fatal error naming it', async () => {
    const e = await writeWith({
      errors: true,
      items: [item(404, 'index_not_found_exception'), item(404, 'index_not_found_exception')],
    });
    expect((e as { code?: string }).code).toBe(ErrorCodes.fatal);
    expect((e as Error).message).toMatch(/index "x" does not exist/);
  });

  it('a 409 without a version is a failure of that record, not a success', async () => {
    const upserts = mappingFile({
      _index: 'x',
      _id: '_id',
      upsert: true,
      sql: 'select a.id as _id, a.n from t a',
    });
    reply = {
      status: 200,
      body: { errors: true, items: [item(409, 'version_conflict_engine_exception')] },
    };
    const sink = createSink({}, hosts);
    await sink.connect(signal);
    const r = await sink.write(
      [{ event: ev.insert('t', { id: '1', n: 'a' }), mapping: upserts }],
      signal,
    );
    await sink.close(signal);
    expect(r.map((o) => o.status)).toEqual(['failed']);
  });
});

describe('row images', () => {
  it('a selected column missing from the row image fails that record with the reason', async () => {
    reply = { status: 200, body: { errors: false, items: [item(201)] } };
    const sink = createSink({}, hosts);
    await sink.connect(signal);
    const r = await sink.write(
      [
        { event: ev.update('t', { id: '1' }, { id: '1' }), mapping },
        { event: ev.insert('t', { id: '2', n: 'b' }), mapping },
      ],
      signal,
    );
    await sink.close(signal);
    expect(r[0]).toMatchObject({
      status: 'failed',
      error: { message: expect.stringMatching(/column "n" .* is not in the after image .*FULL/) },
    });
    expect(r[1]?.status).toBe('applied');
  });
});
