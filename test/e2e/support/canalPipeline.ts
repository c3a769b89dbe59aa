/**
 * A true end-to-end pipeline for tests: SQL on the testbed MariaDB → the testbed canal-server
 * (a Kafka-mode destination of its own, flat or protobuf) → `sluice start` (the built CLI, kafka
 * mode, rdb sink) → a MariaDB or PostgreSQL target. Tests compare the target TABLES with the
 * source tables (see {@link mysqlTableDump} / {@link pgTableDump}), never with a model.
 */
import { readdir, readFile } from 'node:fs/promises';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { Connection } from 'mysql2/promise';
import pg from 'pg';
import { mysqlRoot } from '../../support/canal.js';
import {
  canalDestination,
  createCanalDestination,
  dropCanalDestination,
  esUrl,
  kafkaBroker,
  mysqlEndpoint,
  pgEndpoint,
  redisUrl,
  testbedStateFile,
  uniqueName,
  type CanalDestination,
} from '../../support/testbed.js';
import { deleteTopics, runMariadbScript } from './canal.js';
import { SluiceProcess, requireBuiltCli } from './sluice.js';

export type CanalFormat = 'flat' | 'protobuf';

export interface CanalPipelineOptions {
  format: CanalFormat;
  /**
   * mysql/pg: the rdb sink; redis: the redis sink (keys under the prefix `<target>:`); es: the es8
   * sink (`<target>` is free for an index name).
   */
  target: 'mysql' | 'pg' | 'redis' | 'es';
  /** rdb mapping files (name → YAML) for the sink; built from the pipeline's names. */
  mappings: (p: {
    source: string;
    target: string;
    topic: string;
    groupId: string;
  }) => Record<string, string>;
  /** Extra rdb sink properties. */
  sinkProperties?: Record<string, string>;
  syncBatchSize?: number;
}

/** One pipeline; {@link close} drops everything it created. */
export class CanalPipeline {
  readonly source = uniqueName('e2e_src');
  /** MariaDB target database, PostgreSQL target schema, or Redis key prefix (without `:`). */
  readonly target = uniqueName('e2e_tgt');
  readonly topic = uniqueName('e2e_canal');
  readonly destination = uniqueName('e2e_dst');
  readonly groupId = uniqueName('g');
  configDir = '';
  dlqDir = '';
  canal: CanalDestination | undefined;
  sluice: SluiceProcess | undefined;
  mysql!: Connection;
  pg: pg.Client | undefined;

  private constructor(readonly options: CanalPipelineOptions) {}

  /**
   * Creates the source database (before canal starts, like a real deployment), the target, the
   * canal destination (filter `<source>\..*`, its own topic) and Sluice's configuration.
   */
  static async create(options: CanalPipelineOptions): Promise<CanalPipeline> {
    requireBuiltCli();
    const p = new CanalPipeline(options);
    p.mysql = await mysqlRoot();
    await p.mysql.query(`CREATE DATABASE \`${p.source}\` DEFAULT CHARACTER SET utf8mb4`);
    if (options.target === 'mysql') {
      await p.mysql.query(`CREATE DATABASE \`${p.target}\` DEFAULT CHARACTER SET utf8mb4`);
    } else if (options.target === 'pg') {
      p.pg = new pg.Client({ connectionString: pgEndpoint().uri });
      await p.pg.connect();
      await p.pg.query(`CREATE SCHEMA "${p.target}"`);
    }
    p.canal = await createCanalDestination(p.destination, {
      mode: 'kafka',
      flatMessage: options.format === 'flat',
      topic: p.topic,
      filter: `${p.source}\\..*`,
    });
    await p.writeConfig();
    return p;
  }

  private async writeConfig(): Promise<void> {
    const o = this.options;
    this.configDir = await mkdtemp(join(tmpdir(), 'sluice-canal-e2e-'));
    this.dlqDir = join(this.configDir, 'dlq');
    await mkdir(this.dlqDir, { recursive: true });
    const sink = o.target === 'redis' ? 'redis' : o.target === 'es' ? 'es8' : 'rdb';
    await mkdir(join(this.configDir, sink), { recursive: true });
    const my = mysqlEndpoint();
    const pgEp = o.target === 'pg' ? pgEndpoint() : undefined;
    const targetProps: Record<string, string> =
      o.target === 'redis'
        ? { url: redisUrl(), keyPrefix: `${this.target}:` }
        : o.target === 'es'
          ? { mode: 'rest' }
          : o.target === 'mysql'
            ? {
                'jdbc.url': `jdbc:mysql://${my.host}:${my.port}/${this.target}?useUnicode=true`,
                'jdbc.username': my.user,
                'jdbc.password': my.password,
              }
            : {
                'jdbc.url': `jdbc:postgresql://${pgEp!.host}:${pgEp!.port}/${pgEp!.database}`,
                'jdbc.username': pgEp!.user,
                'jdbc.password': pgEp!.password,
              };
    const props = { ...targetProps, ...o.sinkProperties };
    await writeFile(
      join(this.configDir, 'application.yml'),
      `# Written by test/e2e/support/canalPipeline.ts
canal.conf:
  mode: kafka
  flatMessage: ${o.format === 'flat'}
  syncBatchSize: ${o.syncBatchSize ?? 100}
  retries: 3
  consumerProperties:
    kafka.bootstrap.servers: ${kafkaBroker()}
    kafka.auto.offset.reset: earliest
    kafka.fetch.max.wait.ms: "100"
    kafka.session.timeout.ms: "6000"
    kafka.heartbeat.interval.ms: "1000"
  srcDataSources:
    defaultDS:
      url: jdbc:mysql://${my.host}:${my.port}/${this.source}?useUnicode=true
      username: ${my.user}
      password: ${JSON.stringify(my.password)}
  canalAdapters:
  - instance: ${this.topic}
    groups:
    - groupId: ${this.groupId}
      outerAdapters:
      - name: ${sink}
        key: tgt${o.target === 'es' ? `\n        hosts: ${esUrl()}` : ''}
        properties:
${Object.entries(props)
  .map(([k, v]) => `          ${k}: ${JSON.stringify(v)}`)
  .join('\n')}
sluice:
  deadLetter:
    dir: ${JSON.stringify(this.dlqDir)}
`,
    );
    const files = o.mappings({
      source: this.source,
      target: this.target,
      topic: this.topic,
      groupId: this.groupId,
    });
    for (const [name, yaml] of Object.entries(files))
      await writeFile(join(this.configDir, sink, name), yaml);
  }

  /** Runs SQL on the source with the `mariadb` client; `@SRC` stands for the source database. */
  runSql(sql: string): Promise<void> {
    return runMariadbScript(sql.split('@SRC').join(`\`${this.source}\``));
  }

  /** Starts `sluice start` on this pipeline's configuration and waits until it consumes. */
  async startSluice(): Promise<SluiceProcess> {
    const s = SluiceProcess.start(this.configDir);
    this.sluice = s;
    await s.waitFor(/Joined the consumer group|"msg":"Consuming/);
    return s;
  }

  /** Every dead letter's text (all files of the dead-letter directory). */
  async deadLetters(): Promise<string> {
    let out = '';
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) await walk(p);
        else out += `${await readFile(p, 'utf8')}\n`;
      }
    };
    await walk(this.dlqDir);
    return out;
  }

  /**
   * Polls until `check` holds (the target caught up), else throws with the last difference and
   * Sluice's log tail.
   */
  async until(check: () => Promise<string | undefined>, timeoutMs = 60_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    let diff: string | undefined = 'not checked';
    while (Date.now() < end) {
      diff = await check();
      if (diff === undefined) return;
      await new Promise((r) => setTimeout(r, 300));
    }
    throw new Error(
      `target did not catch up in ${timeoutMs} ms: ${diff}\n--- sluice ---\n${this.sluice?.tail(30) ?? ''}\n${await this.diagnosis()}`,
    );
  }

  /**
   * What the pipeline's other stages say, for a failure message: the canal destination's status
   * (store head, MQ cursor, parser error), the topic's end offsets beside the group's committed
   * offsets, and canal.log's lines about this destination. Tells "canal did not publish" from
   * "Sluice did not consume". Never throws.
   */
  async diagnosis(): Promise<string> {
    const out: string[] = [];
    try {
      out.push(
        `--- canal destination ---\n${JSON.stringify(await canalDestination(this.destination))}`,
      );
    } catch (e) {
      out.push(`--- canal destination: ${String(e)}`);
    }
    const admin = new Kafka({
      clientId: 'sluice-e2e-diagnosis',
      brokers: [kafkaBroker()],
      logLevel: logLevel.NOTHING,
    }).admin();
    try {
      await admin.connect();
      const end = await admin.fetchTopicOffsets(this.topic);
      const committed = await admin.fetchOffsets({ groupId: this.groupId, topics: [this.topic] });
      const group = await admin.describeGroups([this.groupId]);
      out.push(
        `--- kafka ---\nend offsets ${JSON.stringify(end.map((o) => [o.partition, o.low, o.high]))}` +
          `\ncommitted ${JSON.stringify(committed.flatMap((t) => t.partitions.map((o) => [o.partition, o.offset])))}` +
          `\ngroup ${JSON.stringify(group.groups.map((g) => ({ state: g.state, members: g.members.map((m) => m.clientId) })))}`,
      );
    } catch (e) {
      out.push(`--- kafka: ${String(e)}`);
    } finally {
      await admin.disconnect().catch(() => {});
    }
    try {
      const log = await readFile(
        join(dirname(testbedStateFile()), 'canal', 'logs', 'canal.log'),
        'utf8',
      );
      const lines = log
        .split('\n')
        .filter((l) => l.includes(this.destination) || /ERROR|Exception/.test(l));
      out.push(`--- canal.log (this destination, errors) ---\n${lines.slice(-40).join('\n')}`);
    } catch (e) {
      out.push(`--- canal.log: ${String(e)}`);
    }
    return out.join('\n');
  }

  async close(): Promise<void> {
    this.sluice?.kill('SIGKILL');
    if (this.sluice) await this.sluice.exited;
    await dropCanalDestination(this.destination).catch(() => {});
    await deleteTopics([this.topic]).catch(() => {});
    await this.mysql.query(`DROP DATABASE IF EXISTS \`${this.source}\``).catch(() => {});
    if (this.options.target === 'mysql')
      await this.mysql.query(`DROP DATABASE IF EXISTS \`${this.target}\``).catch(() => {});
    await this.mysql.end().catch(() => {});
    if (this.pg) {
      await this.pg.query(`DROP SCHEMA IF EXISTS "${this.target}" CASCADE`).catch(() => {});
      await this.pg.end().catch(() => {});
    }
    if (this.configDir) await rm(this.configDir, { recursive: true, force: true });
  }
}

/**
 * Every row of a MariaDB table as text, ordered: each column as HEX() (exact bytes), joined by
 * `|`. Also the column list, so a missing or extra column is a difference too.
 */
export async function mysqlTableDump(
  conn: Connection,
  db: string,
  table: string,
): Promise<{ columns: string[]; rows: string[] }> {
  const [cols] = await conn.query(
    'SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
    [db, table],
  );
  const columns = (cols as { c: string }[]).map((r) => r.c);
  if (columns.length === 0) return { columns, rows: [] };
  const list = columns.map((c) => `IFNULL(HEX(\`${c}\`), 'NULL')`).join(", '|', ");
  const [rows] = await conn.query(
    `SELECT CONCAT(${list}) AS r FROM \`${db}\`.\`${table}\` ORDER BY 1`,
  );
  return { columns, rows: (rows as { r: string }[]).map((r) => r.r) };
}

/** undefined when equal, else a short description of the first difference. */
export async function mysqlTablesDiff(
  conn: Connection,
  source: string,
  target: string,
  tables: readonly string[],
): Promise<string | undefined> {
  for (const t of tables) {
    const a = await mysqlTableDump(conn, source, t);
    const b = await mysqlTableDump(conn, target, t);
    if (JSON.stringify(a) !== JSON.stringify(b))
      return `${t}: source ${JSON.stringify(a).slice(0, 300)} … target ${JSON.stringify(b).slice(0, 300)}`;
  }
  return undefined;
}
