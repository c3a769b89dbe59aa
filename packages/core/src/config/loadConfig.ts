import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { ErrorCodes, SluiceError } from '@sluice/plugin-api';
import type { AdapterGroupConfig, CanalAdapterConfig, OuterAdapterConfig, ResolvedConfig } from './types.js';

type Yaml = unknown;

/** Spring relaxed binding: case, `-` and `_` do not matter. */
function canonical(key: string): string {
  return key.replace(/[-_]/g, '').toLowerCase();
}

function get(obj: Yaml, key: string): Yaml {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return undefined;
  const want = canonical(key);
  for (const [k, v] of Object.entries(obj)) if (canonical(k) === want) return v;
  return undefined;
}

/** `a.b.c` paths also match a YAML key written with dots (`canal.conf:`). */
function getPath(obj: Yaml, path: string): Yaml {
  const parts = path.split('.');
  for (let i = parts.length; i > 0; i--) {
    const head = get(obj, parts.slice(0, i).join('.'));
    if (head !== undefined) return i === parts.length ? head : getPath(head, parts.slice(i).join('.'));
  }
  return undefined;
}

const isEmpty = (v: Yaml) => v === undefined || v === null || v === '';
const str = (v: Yaml, d: string) => (isEmpty(v) ? d : String(v));
const num = (v: Yaml, d: number) => (isEmpty(v) ? d : Number(v));
const bool = (v: Yaml, d: boolean) => (isEmpty(v) ? d : String(v).toLowerCase() === 'true');

function stringMap(v: Yaml): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    for (const [k, val] of Object.entries(v)) out[k] = val === null || val === undefined ? '' : String(val);
  }
  return out;
}

const list = (v: Yaml): Yaml[] => (Array.isArray(v) ? v : []);

/**
 * Reads `application.yml` from a configuration directory. (Minimal loader: canal.conf keys with
 * relaxed binding and defaults; full validation lives in `validateConfig`.)
 */
export async function loadConfig(dir: string): Promise<ResolvedConfig> {
  const absDir = resolve(dir);
  const file = resolve(absDir, 'application.yml');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new SluiceError(ErrorCodes.config, `Cannot read "${file}": ${(error as Error).message}.`, { cause: error });
  }
  let doc: Yaml;
  try {
    doc = parse(text);
  } catch (error) {
    throw new SluiceError(ErrorCodes.config, `"${file}" is not valid YAML: ${(error as Error).message}`, { cause: error });
  }
  const conf = getPath(doc, 'canal.conf');
  const canalAdapters: CanalAdapterConfig[] = list(get(conf, 'canalAdapters')).map((a) => {
    const instance = str(get(a, 'instance'), '').trim();
    const groups: AdapterGroupConfig[] = list(get(a, 'groups')).map((g) => {
      const groupId = str(get(g, 'groupId'), 'default');
      const counters = new Map<string, number>();
      const outerAdapters: OuterAdapterConfig[] = list(get(g, 'outerAdapters')).map((o) => {
        const name = str(get(o, 'name'), '');
        const n = (counters.get(name) ?? 0) + 1;
        counters.set(name, n);
        const key = str(get(o, 'key'), '');
        return {
          name,
          key: key || `${instance}-${groupId}-${name}-${n}`,
          keyGenerated: key === '',
          hosts: isEmpty(get(o, 'hosts')) ? undefined : String(get(o, 'hosts')),
          properties: stringMap(get(o, 'properties')),
        };
      });
      return { groupId, outerAdapters };
    });
    return { instance, groups };
  });
  const sluice = get(doc, 'sluice');
  const dlq = get(sluice, 'deadLetter');
  return {
    dir: absDir,
    serverPort: num(getPath(doc, 'server.port'), 8081),
    canal: {
      mode: str(get(conf, 'mode'), 'tcp').toLowerCase(),
      flatMessage: bool(get(conf, 'flatMessage'), true),
      syncBatchSize: num(get(conf, 'syncBatchSize'), 1000),
      retries: num(get(conf, 'retries'), 0),
      timeout: num(get(conf, 'timeout'), 500),
      terminateOnException: bool(get(conf, 'terminateOnException'), false),
      consumerProperties: stringMap(get(conf, 'consumerProperties')),
      canalAdapters,
    },
    sluice: {
      deadLetter: {
        type: str(get(dlq, 'type'), 'file') === 'kafka' ? 'kafka' : 'file',
        dir: str(get(dlq, 'dir'), '.sluice/dlq'),
        topicSuffix: str(get(dlq, 'topicSuffix'), '.dlq'),
      },
    },
  };
}
