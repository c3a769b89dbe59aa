import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseYamlTree } from '../../binding/yamlTree.js';
import type { ValidationState } from './state.js';

/** The names Sluice reads `application.yml` from, in order. */
export const APPLICATION_FILES = ['application.yml', 'application.yaml'] as const;

/**
 * Pass 1: reads `application.yml` (or `.yaml`) and parses it into a line-tracking tree. Stops
 * the validation when there is no such file or it is not valid YAML.
 */
export async function readApplication(state: ValidationState): Promise<void> {
  let found: { file: string; text: string } | undefined;
  for (const file of APPLICATION_FILES) {
    try {
      found = { file, text: await readFile(resolve(state.dir, file), 'utf8') };
      break;
    } catch {
      // try the next name
    }
  }
  if (!found) {
    state.problems.add({
      severity: 'error',
      code: 'file-unreadable',
      file: 'application.yml',
      line: 0,
      path: '',
      message: `cannot read ${resolve(state.dir, 'application.yml')}`,
      expected: 'a canal-adapter configuration directory (conf/) holding application.yml',
    });
    state.stop = true;
    return;
  }
  state.file = found.file;
  const parsed = parseYamlTree(found.text, found.file);
  for (const e of parsed.errors) {
    state.problems.add({
      severity: 'error',
      code: 'yaml-syntax',
      file: found.file,
      line: e.line,
      path: '',
      message: `not valid YAML: ${e.message}`,
    });
  }
  if (parsed.errors.length > 0) {
    state.stop = true;
    return;
  }
  state.root = parsed.root ?? { kind: 'map', file: found.file, line: 1, entries: [] };
}
