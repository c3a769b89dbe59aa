/**
 * Issue 16, part 1: the testbed canal-server (canal 1.1.7's own server classes, our launcher) in
 * TCP mode. A destination created at run time for one table sees the SQL done on MariaDB after its
 * creation, read by canal's own Java client over canal's TCP protocol on 127.0.0.1:11111; the
 * control endpoint reports the positions moving and refuses bad or conflicting requests.
 */
import type { Connection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mysqlRoot, runCanalJavaClient } from '../support/canal.js';
import {
  canalDestination,
  canalEndpoint,
  createCanalDestination,
  dropCanalDestination,
  uniqueName,
} from '../support/testbed.js';

describe('testbed canal-server, TCP mode', () => {
  const db = uniqueName('canal_tb');
  const destination = uniqueName('dst');
  let conn: Connection;

  beforeAll(async () => {
    conn = await mysqlRoot();
    await conn.query(
      `CREATE DATABASE \`${db}\`; CREATE TABLE \`${db}\`.some_table (id INT PRIMARY KEY, v VARCHAR(20)); CREATE TABLE \`${db}\`.other (id INT PRIMARY KEY)`,
    );
  });

  afterAll(async () => {
    await dropCanalDestination(destination);
    await conn.query(`DROP DATABASE IF EXISTS \`${db}\``);
    await conn.end();
  });

  it('listens on 127.0.0.1:11111, the port of canal-adapter’s shipped canalServerHost', () => {
    expect(canalEndpoint().tcp).toBe('127.0.0.1:11111');
  });

  it('a destination for one table sees an INSERT/UPDATE/DELETE on MariaDB, via canal’s Java client', async () => {
    const filter = `${db}\\.some_table`;
    const created = await createCanalDestination(destination, { filter });
    expect(created.running).toBe(true);
    expect(created.journalName).toMatch(/^mysql-bin\.\d+$/);
    expect(created.position).toBeGreaterThan(0);

    await conn.query(
      `INSERT INTO \`${db}\`.some_table VALUES (1, 'a'), (2, NULL);
       INSERT INTO \`${db}\`.other VALUES (7);
       UPDATE \`${db}\`.some_table SET v = 'b' WHERE id = 1;
       DELETE FROM \`${db}\`.some_table WHERE id = 2;`,
    );
    const result = await runCanalJavaClient({ destination, filter, rows: 4, timeoutSeconds: 20 });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.rows).toEqual([
      {
        schema: db,
        table: 'some_table',
        eventType: 'INSERT',
        before: null,
        after: { id: '1', v: 'a' },
      },
      {
        schema: db,
        table: 'some_table',
        eventType: 'INSERT',
        before: null,
        after: { id: '2', v: null },
      },
      {
        schema: db,
        table: 'some_table',
        eventType: 'UPDATE',
        before: { id: '1', v: 'a' },
        after: { id: '1', v: 'b' },
      },
      {
        schema: db,
        table: 'some_table',
        eventType: 'DELETE',
        before: { id: '2', v: null },
        after: null,
      },
    ]);

    const status = await canalDestination(destination);
    expect(status.parserError).toBeNull();
    // the Java client (client id 1001) acked: its cursor moved past the start position
    expect(status.cursor?.journalName).toBe(created.journalName);
    expect(status.cursor!.position).toBeGreaterThan(created.position);
  });

  it('is idempotent for the same request and refuses a different one for the same name', async () => {
    const again = await createCanalDestination(destination, { filter: `${db}\\.some_table` });
    expect(again.name).toBe(destination);
    await expect(createCanalDestination(destination, { filter: `${db}\\..*` })).rejects.toThrow(
      /HTTP 409/,
    );
    await expect(
      createCanalDestination(uniqueName('dst'), { mode: 'rabbit' as 'tcp' }),
    ).rejects.toThrow(/HTTP 400.*mode must be tcp or kafka/);
  });

  it('drops a destination: the TCP server then refuses it', async () => {
    const name = uniqueName('dst');
    await createCanalDestination(name, { filter: `${db}\\.other` });
    await dropCanalDestination(name);
    await expect(canalDestination(name)).rejects.toThrow(/HTTP 404/);
    const result = await runCanalJavaClient({
      destination: name,
      filter: `${db}\\.other`,
      rows: 1,
      timeoutSeconds: 5,
    });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toMatch(/CanalServerException: destination:\S+ should start first/);
  });
});
