import { describe, expect, it } from 'vitest';
import { parseJdbcUrl, redactUrl } from './jdbcUrl.js';

function ok(url: string) {
  const r = parseJdbcUrl(url);
  if (!r.ok) throw new Error(r.message);
  return r.url;
}

describe('parseJdbcUrl', () => {
  it('reads canal sample MySQL URLs with parameters', () => {
    expect(
      ok('jdbc:mysql://127.0.0.1:3306/mytest?useUnicode=true&characterEncoding=utf-8'),
    ).toEqual({
      kind: 'mysql',
      host: '127.0.0.1',
      port: 3306,
      database: 'mytest',
      params: { useUnicode: 'true', characterEncoding: 'utf-8' },
      user: undefined,
      password: undefined,
    });
  });

  it('fills default ports and reads MariaDB and PostgreSQL', () => {
    expect(ok('jdbc:mariadb://db/shop')).toMatchObject({
      kind: 'mariadb',
      host: 'db',
      port: 3306,
      database: 'shop',
    });
    expect(ok('jdbc:postgresql://pg.local/postgres')).toMatchObject({
      kind: 'postgresql',
      port: 5432,
      database: 'postgres',
    });
    expect(ok('jdbc:postgresql:shop')).toMatchObject({ host: 'localhost', database: 'shop' });
    expect(ok('jdbc:mysql://h:3310')).toMatchObject({ port: 3310, database: '' });
  });

  it('reads credentials from user:password@ and from parameters, decoded', () => {
    expect(ok('jdbc:mysql://bob:p%40ss@h/db')).toMatchObject({
      user: 'bob',
      password: 'p@ss',
      host: 'h',
    });
    expect(ok('jdbc:postgresql://h/db?user=al&password=x%26y')).toMatchObject({
      user: 'al',
      password: 'x&y',
    });
  });

  it('takes the first of several hosts and reads IPv6 literals', () => {
    expect(ok('jdbc:mysql://a:1111,b:2222/db')).toMatchObject({ host: 'a', port: 1111 });
    expect(ok('jdbc:mysql://[::1]:3307/db')).toMatchObject({ host: '::1', port: 3307 });
  });

  it.each([
    ['mysql://127.0.0.1/db', 'is not a JDBC URL'],
    ['jdbc:mysql//127.0.0.1:3306/mytest', 'is not a JDBC URL'],
    ['jdbc:oracle:thin:@localhost:49161:XE', 'not supported'],
    ['jdbc:mysql://:3306/db', 'names no host'],
    ['jdbc:mysql://h:99999/db', 'is not a port number'],
    ['jdbc:mysql://h:abc/db', 'is not a port number'],
    ['jdbc:mysql:/h/db', 'has no "//host" part'],
    ['', 'is not a JDBC URL'],
  ])('rejects %s', (url, message) => {
    const r = parseJdbcUrl(url);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain(message);
  });
});

describe('redactUrl', () => {
  it('hides passwords in the authority and in parameters', () => {
    expect(redactUrl('jdbc:mysql://bob:hunter2@h/db?password=hunter2&x=1')).toBe(
      'jdbc:mysql://bob:******@h/db?password=******&x=1',
    );
    expect(redactUrl('jdbc:mysql://h/db?useSSL=false')).toBe('jdbc:mysql://h/db?useSSL=false');
  });
});
