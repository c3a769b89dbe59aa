import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import type { Logger } from '@sluice/plugin-api';
import { runSinkContractSuite } from '@sluice/testkit';
import { LOCK_FILE } from '../src/JsonlSink.js';
import jsonlSink from '../src/index.js';

const root = await mkdtemp(join(tmpdir(), 'sluice-jsonl-contract-'));
afterAll(() => rm(root, { recursive: true, force: true }));

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };
const dir = join(root, 'out');

runSinkContractSuite({
  name: 'jsonl sink contract',
  target: {
    // Every record carries the mapping that routed it, as the core sends them.
    mapping: {
      file: 'jsonl/contract.yml',
      name: 'contract.yml',
      config: { database: 'sluice_contract', table: 'items', targetFile: 'contract-items.jsonl' },
    },
    createSink: () =>
      jsonlSink.create({
        key: 'contract',
        name: 'jsonl',
        hosts: undefined,
        properties: { dir: 'out' },
        configDir: root,
        deps: { logger: quiet },
      }),
    reset: () => rm(dir, { recursive: true, force: true }),
    async readState() {
      const text = await readFile(join(dir, 'contract-items.jsonl'), 'utf8').catch(() => '');
      const lines = text.split('\n').filter((l) => l !== '');
      return new Map(
        lines
          .map((l) => JSON.parse(l) as { key: string[]; row: Record<string, string | null> })
          .map((r) => [r.key.join(','), r.row]),
      );
    },
    // A row without a primary key cannot be stored by key: the sink rejects it permanently.
    poison: (event) => ({ ...event, pkNames: [] }),
    // Another process takes the directory's lock away: the next write must fail NotConnected.
    disconnect: () => rm(join(dir, LOCK_FILE), { force: true }),
  },
});
