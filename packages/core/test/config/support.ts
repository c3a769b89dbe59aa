import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The fixture directory `name` under test/config/fixtures. */
export function fixture(name: string): string {
  return join(dirname(fileURLToPath(import.meta.url)), 'fixtures', name);
}

/** Writes a configuration directory from `{ relativePath: text }` into a new temp directory. */
export async function writeConf(files: Readonly<Record<string, string>>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-conf-'));
  await writeFiles(dir, files);
  return dir;
}

/** Writes files under `dir`, creating directories as needed. */
export async function writeFiles(
  dir: string,
  files: Readonly<Record<string, string>>,
): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
}

/** A minimal application.yml with one group and the given outer adapters (YAML list items, indented 6). */
export function application(outerAdapters: string, extra = '', head = 'mode: kafka'): string {
  return `canal.conf:
  ${head}
  srcDataSources:
    defaultDS:
      url: jdbc:mysql://127.0.0.1:3306/mytest?useUnicode=true
      username: root
      password: 121212
  canalAdapters:
  - instance: example
    groups:
    - groupId: g1
      outerAdapters:
${outerAdapters}
${extra}`;
}
