// Field case 15 end to end: `sluice start --once` with the case's own configuration (file
// source, es8 adapter with a pk-mode mapping) on the testbed's Elasticsearch. A DELETE must
// delete the document located by the pk (canal-adapter nulls its fields and leaves a ghost).
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { esUrl, uniqueName } from '../support/testbed.js';
import { repoRoot, requireBuiltCli, sluiceBin } from './support/sluice.js';

const caseDir = join(repoRoot, 'plugins/sink-es/test/fixtures/15-es-pk-mode-delete');
const index = uniqueName('user_idx');
const dir = mkdtempSync(join(tmpdir(), 'sluice-es15-'));

async function es(method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${esUrl()}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return res.json();
}

afterAll(async () => {
  await es('DELETE', `/${index}?ignore_unavailable=true`);
  rmSync(dir, { recursive: true, force: true });
});

describe('field case 15 (es pk mode delete) through sluice start --once', () => {
  it('deletes the document of c_id 1 and keeps c_id 2', async () => {
    requireBuiltCli();
    // The case's configuration, with this run's index and an absolute messages path.
    cpSync(join(caseDir, 'conf'), dir, { recursive: true });
    const app = join(dir, 'application.yml');
    writeFileSync(
      app,
      readFileSync(app, 'utf8').replace('../messages.jsonl', join(caseDir, 'messages.jsonl')),
    );
    const mapping = join(dir, 'es8/user.yml');
    writeFileSync(
      mapping,
      readFileSync(mapping, 'utf8').replace('_index: user_idx', `_index: ${index}`),
    );
    const target = JSON.parse(readFileSync(join(caseDir, 'target.json'), 'utf8')) as {
      mappings: unknown;
      seed_docs_before_run: { _id: string }[];
    };
    await es('PUT', `/${index}`, { mappings: target.mappings });
    for (const { _id, ...doc } of target.seed_docs_before_run)
      await es('PUT', `/${index}/_doc/${_id}?refresh=true`, doc);

    const run = spawnSync(process.execPath, [sluiceBin, 'start', '--once', '--config', dir], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);

    await es('POST', `/${index}/_refresh`);
    const all = (await es('POST', `/${index}/_search`, { query: { match_all: {} } })) as {
      hits: { hits: { _id: string; _source: unknown }[] };
    };
    expect(all.hits.hits.map((h) => [h._id, h._source])).toEqual([
      ['auto-2', { c_id: 2, name: 'n2' }],
    ]);
  }, 150_000);
});
