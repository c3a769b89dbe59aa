import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { runSourceContractSuite } from '@sluice/testkit';
import { fileSource } from '../src/index.js';

const root = await mkdtemp(join(tmpdir(), 'sluice-file-contract-'));
afterAll(() => rm(root, { recursive: true, force: true }));

let dir = root;
let run = 0;

// A file has no connection to break and no consumer group (breakConnection, sharedGroup: those
// tests are reported as skipped); its offsets are line numbers, which never restart.
runSourceContractSuite({
  name: 'file source contract',
  target: {
    createSource: () =>
      fileSource.create({
        instance: 'contract',
        groupId: 'g1',
        properties: {
          'file.path': 'in.jsonl',
          'file.offsetStore': 'offsets.json',
          'file.pollMs': '10',
          'file.batchSize': '4',
        },
        configDir: dir,
        deps: {},
      }),
    async reset() {
      dir = join(root, String(++run));
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'in.jsonl'), '');
    },
    publish: (payloads) =>
      appendFile(join(dir, 'in.jsonl'), payloads.map((p) => `${p}\n`).join('')),
  },
});
