/**
 * Parses canal's `mysqlType` text (`bigint(20) unsigned`, `decimal(10,2)`, `enum('a','b')`,
 * `datetime(3)`, …; reference §1.2, §1.5) into what the typed accessor needs.
 */

/** How values of a column type are rendered by canal, and so how they are read back. */
export type TypeFamily =
  | 'integer'
  | 'decimal'
  | 'float'
  | 'bit'
  | 'enum'
  | 'set'
  | 'date'
  | 'datetime'
  | 'timestamp'
  | 'time'
  | 'year'
  | 'json'
  | 'text'
  | 'binary'
  | 'unknown';

/** A parsed `mysqlType`. */
export interface MysqlColumnType {
  /** The text as canal sent it. */
  readonly text: string;
  /** Lower-case type name without arguments, e.g. `bigint`, `varchar`, `enum`. */
  readonly name: string;
  readonly family: TypeFamily;
  /** `unsigned` (or `zerofill`, which implies it). */
  readonly unsigned: boolean;
  /** Numeric arguments, e.g. `[10, 2]` for `decimal(10,2)`, `[3]` for `bit(3)`. */
  readonly args: readonly number[];
  /**
   * ENUM/SET members (labels) in declaration order; `null` for ENUM/SET when `mysqlType` does not
   * list them or the list is not well formed (the labels are then unknown); empty for other types.
   */
  readonly members: readonly string[] | null;
  /** Integer width in bits (8, 16, 24, 32, 64); BIT width (1–64); 0 otherwise. */
  readonly bits: number;
}

const FAMILIES: Readonly<Record<string, TypeFamily>> = {
  tinyint: 'integer',
  smallint: 'integer',
  mediumint: 'integer',
  int: 'integer',
  integer: 'integer',
  bigint: 'integer',
  bool: 'integer',
  boolean: 'integer',
  serial: 'integer',
  int1: 'integer',
  int2: 'integer',
  int3: 'integer',
  int4: 'integer',
  int8: 'integer',
  middleint: 'integer',
  decimal: 'decimal',
  numeric: 'decimal',
  dec: 'decimal',
  fixed: 'decimal',
  float: 'float',
  double: 'float',
  real: 'float',
  float4: 'float',
  float8: 'float',
  bit: 'bit',
  enum: 'enum',
  set: 'set',
  date: 'date',
  datetime: 'datetime',
  timestamp: 'timestamp',
  time: 'time',
  year: 'year',
  json: 'json',
  char: 'text',
  varchar: 'text',
  character: 'text',
  nchar: 'text',
  nvarchar: 'text',
  varchar2: 'text',
  tinytext: 'text',
  text: 'text',
  mediumtext: 'text',
  longtext: 'text',
  long: 'text',
  inet4: 'text',
  inet6: 'text',
  uuid: 'text',
  binary: 'binary',
  varbinary: 'binary',
  tinyblob: 'binary',
  blob: 'binary',
  mediumblob: 'binary',
  longblob: 'binary',
  geometry: 'binary',
  point: 'binary',
  linestring: 'binary',
  polygon: 'binary',
  multipoint: 'binary',
  multilinestring: 'binary',
  multipolygon: 'binary',
  geometrycollection: 'binary',
  geomcollection: 'binary',
};

const INTEGER_BITS: Readonly<Record<string, number>> = {
  tinyint: 8,
  int1: 8,
  bool: 8,
  boolean: 8,
  smallint: 16,
  int2: 16,
  mediumint: 24,
  int3: 24,
  middleint: 24,
  int: 32,
  integer: 32,
  int4: 32,
  bigint: 64,
  int8: 64,
  serial: 64,
};

/**
 * Splits an ENUM/SET member list (`'a','b,c','it''s'`) the way canal prints it, or returns null
 * when the list is not well formed (then the labels are unknown, never guessed).
 *
 * canal's `mysqlType` comes from its table meta: the CREATE TABLE (its own TSDB, or SHOW CREATE
 * TABLE) parsed by druid, whose lexer resolves MySQL's escapes (`\\`, `\n`, `\'`, `''`); each
 * member is then printed back by druid's default `SQLASTOutputVisitor.printChars`, which only
 * doubles `'` (canal `MemoryTableMeta.processTableElement`, druid 1.2.21). So `''` is a quote
 * and a backslash is itself: `enum('a\b')` is the label `a\b`, not `a` + backspace. MySQL's own
 * SHOW CREATE TABLE prints quotes the same way. Members are separated by `,` with optional
 * spaces; `"…"` quoting (ANSI) is read the same way with `""`.
 */
function parseMembers(inner: string): string[] | null {
  const members: string[] = [];
  let i = 0;
  const n = inner.length;
  const skipSpace = (): void => {
    while (
      i < n &&
      (inner[i] === ' ' || inner[i] === '\t' || inner[i] === '\n' || inner[i] === '\r')
    )
      i++;
  };
  skipSpace();
  if (i === n) return null;
  for (;;) {
    const quote = inner[i];
    if (quote !== "'" && quote !== '"') return null;
    i++;
    let member = '';
    for (;;) {
      if (i >= n) return null;
      const ch = inner[i]!;
      if (ch === quote) {
        if (inner[i + 1] === quote) {
          member += quote;
          i += 2;
          continue;
        }
        i++;
        break;
      }
      member += ch;
      i++;
    }
    members.push(member);
    skipSpace();
    if (i === n) return members;
    if (inner[i] !== ',') return null;
    i++;
    skipSpace();
  }
}

/** Finds the `)` closing the `(` at `open`, skipping quoted text; -1 if none. */
function closingParen(text: string, open: number): number {
  let quote: string | undefined;
  for (let i = open + 1; i < text.length; i++) {
    const ch = text[i];
    if (quote !== undefined) {
      if (ch === quote) {
        if (text[i + 1] === quote) i++;
        else quote = undefined;
      }
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === ')') return i;
  }
  return -1;
}

function parse(text: string): MysqlColumnType {
  const trimmed = text.trim();
  const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(trimmed);
  const name = match ? match[0].toLowerCase() : '';
  let rest = trimmed.slice(name.length);
  let args: number[] = [];
  let members: string[] | null = name === 'enum' || name === 'set' ? null : [];
  const open = rest.indexOf('(');
  if (open >= 0 && rest.slice(0, open).trim() === '') {
    const close = closingParen(rest, open);
    const inner = close < 0 ? rest.slice(open + 1) : rest.slice(open + 1, close);
    if (name === 'enum' || name === 'set') members = close < 0 ? null : parseMembers(inner);
    else
      args = inner
        .split(',')
        .map((a) => Number(a.trim()))
        .filter((n) => Number.isFinite(n));
    rest = close < 0 ? '' : rest.slice(close + 1);
  }
  const words = rest.toLowerCase().split(/\s+/);
  const family = FAMILIES[name] ?? 'unknown';
  const unsigned = words.includes('unsigned') || words.includes('zerofill') || name === 'serial';
  let bits = 0;
  if (family === 'integer') bits = INTEGER_BITS[name] ?? 64;
  else if (family === 'bit') bits = args[0] ?? 1;
  return Object.freeze({
    text,
    name,
    family,
    unsigned,
    args: Object.freeze(args),
    members: members === null ? null : Object.freeze(members),
    bits,
  });
}

const cache = new Map<string, MysqlColumnType>();
const CACHE_LIMIT = 4096;

/** Parses a `mysqlType` text (cached: tables repeat the same few types). Never throws. */
export function parseMysqlType(text: string): MysqlColumnType {
  let parsed = cache.get(text);
  if (parsed === undefined) {
    parsed = parse(text);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(text, parsed);
  }
  return parsed;
}
