import { describe, expect, it } from 'vitest';
import { createBuiltinRegistry, mainHelp } from '@sluice/cli';

// Field report #10 item 17: `sluice --help` described sinks that did not exist. It must name only
// built-in sinks as working, and say what they cannot do yet.
describe('sluice --help', () => {
  const help = mainHelp().replace(/\s+/g, ' ');

  it('names as built in only sinks that are registered', async () => {
    const listed = /Built in today: the (.+?) sinks;/.exec(help)?.[1];
    expect(listed, help).toBeDefined();
    const names = listed!.split(/, | and /).map((n) => n.trim());
    expect(names).toEqual(['logger', 'rdb', 'redis', 'es8']);
    const registered = (await createBuiltinRegistry()).sinkNames();
    for (const name of names) expect(registered).toContain(name);
  });

  it('says what rdb and es8 apply to', () => {
    expect(help).toMatch(/rdb applies to MySQL, MariaDB and PostgreSQL/);
    expect(help).toMatch(
      /Elasticsearch and OpenSearch mappings with joins, group_concat sub-queries and parent\/child relations/,
    );
    expect(help).toMatch(/rdb, es8 and redis \(write mode\) have a full sync \(sluice etl\)/);
    expect(help).not.toMatch(/no ETL/);
  });
});
