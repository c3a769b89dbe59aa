import { describe, expect, it } from 'vitest';
import type { ChangeEvent } from '@sluice/plugin-api';
import { filterEvents, takesRoute, takesSink, unroutedDeadLetter } from './routeFilter.js';
import type { MappingRoute } from './router.js';

const event = (index: number) => ({ position: { index } }) as unknown as ChangeEvent;
const route = (file: string) => ({ mapping: { file } }) as unknown as MappingRoute;

describe('route filter of dlq replay', () => {
  it('keeps only the named row, the named sink instances and the named mapping file', () => {
    const events = [event(0), event(1), event(2)];
    expect(filterEvents(events, {})).toBe(events);
    expect(filterEvents(events, { index: 1 })).toEqual([event(1)]);
    expect(filterEvents(events, { index: 9 })).toEqual([]);
    expect(takesSink({}, 'a')).toBe(true);
    expect(takesSink({ sinks: ['a', 'b'] }, 'b')).toBe(true);
    expect(takesSink({ sinks: ['a'] }, 'b')).toBe(false);
    expect(takesRoute({}, undefined)).toBe(true);
    expect(takesRoute({ mapping: 'rdb/a.yml' }, route('rdb/a.yml'))).toBe(true);
    expect(takesRoute({ mapping: 'rdb/a.yml' }, route('rdb/b.yml'))).toBe(false);
    expect(takesRoute({ mapping: 'rdb/a.yml' }, undefined)).toBe(false);
  });

  it('sends a dead letter that reaches none of its sink instances back with its sink and row', () => {
    expect(unroutedDeadLetter({})).toBeUndefined();
    expect(unroutedDeadLetter({ sinks: ['rdb1'], index: 3 })).toEqual({
      reason: 'replay: the dead letter reaches no mapping of sink instance "rdb1" any more',
      extra: { sink: 'rdb1', index: 3 },
    });
    expect(unroutedDeadLetter({ sinks: ['a', 'b'] })).toEqual({
      reason: 'replay: the dead letter reaches no mapping of sink instance "a", "b" any more',
      extra: {},
    });
  });
});
