/**
 * Schema and table names as canal reports them, made plain. canal takes a DDL's names from its
 * druid parse, and some statements keep MySQL's identifier quotes: CREATE DATABASE IF NOT EXISTS
 * `mytest` arrives with database "`mytest`" (real canal 1.1.8, fixture flat-createdb.jsonl).
 */

/**
 * `name` without MySQL identifier quotes: a name wholly in backticks loses them and its doubled
 * backticks become one (`` `my``db` `` → ``my`db``); any other name is returned as it is.
 */
export function unquoteName(name: string): string {
  const n = name.length;
  if (n < 2 || name.charCodeAt(0) !== 0x60 || name.charCodeAt(n - 1) !== 0x60) return name;
  const inner = name.slice(1, -1);
  // A lone backtick inside means the quotes do not enclose one identifier (`a`.`b`): keep it.
  if (inner.replaceAll('``', '').includes('`')) return name;
  return inner.replaceAll('``', '`');
}
