import { describe, expect, it } from 'vitest';
import { action, actionLine } from './bulkAction.js';
import { ndjsonBody } from './searchApi.js';

const base = { record: 3, index: 'orders', version: undefined };

describe('actionLine', () => {
  it('writes the op, index and id as JSON, routing and external version only when set', () => {
    expect(actionLine(action(base, 'index', '7', undefined, { a: 1 }))).toBe(
      '{"index":{"_index":"orders","_id":"7"}}',
    );
    expect(actionLine(action(base, 'delete', '7', 'p1'))).toBe(
      '{"delete":{"_index":"orders","_id":"7","routing":"p1"}}',
    );
    expect(actionLine(action({ ...base, version: '42' }, 'update', '7', undefined, {}))).toBe(
      '{"update":{"_index":"orders","_id":"7","version":42,"version_type":"external"}}',
    );
  });

  it('escapes index, id and routing like JSON.stringify (quotes, backslashes, control characters, unicode)', () => {
    const odd = 'a"b\\c\nd\u0001é😀\u2028';
    const line = actionLine(action({ ...base, index: odd }, 'index', odd, odd));
    expect(JSON.parse(line)).toEqual({ index: { _index: odd, _id: odd, routing: odd } });
  });

  it('keeps a version beyond 2^53 exact (a raw JSON number, not a double)', () => {
    const v = '9223372036854775807';
    const line = actionLine(action({ ...base, version: v }, 'index', '1', undefined));
    expect(line).toContain(`"version":${v},"version_type":"external"`);
    expect(JSON.parse(line).index.version).not.toBe(Number.MAX_SAFE_INTEGER);
  });

  it('builds every action with the same fields, in the same order', () => {
    const a = action(base, 'delete', '1', undefined);
    const b = action({ ...base, version: '5' }, 'index', '2', 'r', { x: null });
    expect(Object.keys(a)).toEqual(Object.keys(b));
    expect(a).toEqual({
      record: 3,
      op: 'delete',
      index: 'orders',
      id: '1',
      version: undefined,
      routing: undefined,
      doc: undefined,
    });
    expect(b.doc).toEqual({ x: null });
  });
});

describe('ndjsonBody', () => {
  it('ends every line with a newline, strings as they are, objects as JSON', () => {
    expect(ndjsonBody(['{"index":{}}', { a: 'é', b: [1, null] }]).toString('utf8')).toBe(
      '{"index":{}}\n{"a":"é","b":[1,null]}\n',
    );
    expect(ndjsonBody([])).toHaveLength(0);
    // Multi-byte text (2, 3 and 4 bytes per character) is encoded whole, with nothing cut off.
    const wide = ['é'.repeat(1000), '€'.repeat(1000), '😀'.repeat(1000), { k: '\u0000"' }];
    expect(ndjsonBody(wide).toString('utf8')).toBe(
      `${wide.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n')}\n`,
    );
  });
});
