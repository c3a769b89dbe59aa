import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

function capture(format: 'json' | 'pretty', level?: 'debug' | 'info' | 'warn' | 'error') {
  const lines: string[] = [];
  const logger = createLogger({ format, write: (l) => lines.push(l), ...(level ? { level } : {}) });
  return { logger, lines };
}

describe('createLogger', () => {
  it('writes one JSON object per line with level, time, message and fields', () => {
    const { logger, lines } = capture('json');
    logger.info('Started.', { destination: 'example', partition: 3 });
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(entry).toMatchObject({
      level: 'info',
      msg: 'Started.',
      destination: 'example',
      partition: 3,
    });
    expect(typeof entry['time']).toBe('string');
    expect(lines[0]).not.toContain('\n');
  });

  it('redacts secret-looking fields in one place, also in child bindings and nested objects', () => {
    const { logger, lines } = capture('json');
    logger.child({ 'jdbc.password': 'hunter2' }).warn('Retrying.', {
      properties: { 'jdbc.url': 'jdbc:mysql://h/db', password: 'p4ss', 'sasl.jaas.config': 'x' },
      token: 'abc',
    });
    const text = lines.join('\n');
    expect(text).not.toMatch(/hunter2|p4ss|abc"|"x"/);
    expect(text).toContain('jdbc:mysql://h/db');
    expect(text).toContain('******');
  });

  it('does not repeat a binding a child gives again with the same value', () => {
    const { logger, lines } = capture('json');
    const group = logger.child({ destination: 'orders', groupId: 'g1' });
    group.child({ groupId: 'g1', topic: 'orders' }).warn('Retrying.');
    group.child({ groupId: 'other' }).warn('Other.');
    expect(lines[0]!.match(/"groupId"/g)).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      destination: 'orders',
      groupId: 'g1',
      topic: 'orders',
    });
    expect(JSON.parse(lines[1]!)).toMatchObject({ groupId: 'other' });
  });

  it('keeps errors readable', () => {
    const { logger, lines } = capture('json');
    logger.error('Failed.', { error: Object.assign(new Error('boom'), { code: 'E1' }) });
    expect(JSON.parse(lines[0]!)).toMatchObject({ error: { message: 'boom', code: 'E1' } });
  });

  it('honours the level', () => {
    const { logger, lines } = capture('json', 'warn');
    logger.debug('d.');
    logger.info('i.');
    logger.warn('w.');
    logger.error('e.');
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['w.', 'e.']);
  });

  it('prints one readable line per entry in pretty mode, escaping newlines in values', () => {
    const { logger, lines } = capture('pretty');
    logger.warn('Undecodable message.', { preview: 'a\nb', password: 'secret' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('WARN');
    expect(lines[0]).toContain('Undecodable message.');
    expect(lines[0]).not.toContain('secret');
  });

  it('keeps a message that quotes a payload on one line, control characters escaped', () => {
    for (const format of ['pretty', 'json'] as const) {
      const { logger, lines } = capture(format);
      logger.warn('Skipped: {"a":\nINJECTED\u001b[2J');
      expect(lines, format).toHaveLength(1);
      expect(lines[0], format).toContain('INJECTED');
      // eslint-disable-next-line no-control-regex -- finding control characters is the point
      expect(lines[0], format).not.toMatch(/[\u0000-\u001f]/);
    }
  });

  it('writes readable lines under auto when the caller says its destination is a terminal', () => {
    const lines: string[] = [];
    const before = process.env['SLUICE_LOG_FORMAT'];
    delete process.env['SLUICE_LOG_FORMAT'];
    try {
      createLogger({ write: (l) => lines.push(l), terminal: true }).info('On a terminal.');
      createLogger({ write: (l) => lines.push(l), terminal: false }).info('In a file.');
      createLogger({ write: (l) => lines.push(l) }).info('Default.');
    } finally {
      if (before !== undefined) process.env['SLUICE_LOG_FORMAT'] = before;
    }
    expect(lines[0]).toMatch(/INFO.*On a terminal\./);
    expect(lines[0]).toContain('\u001b['); // coloured, as on a terminal
    expect(JSON.parse(lines[1]!)).toMatchObject({ msg: 'In a file.' });
    expect(JSON.parse(lines[2]!)).toMatchObject({ msg: 'Default.' });
  });

  it('never throws, even when the destination does', () => {
    const logger = createLogger({
      format: 'json',
      write: () => {
        throw new Error('disk full');
      },
    });
    expect(() => logger.error('x.')).not.toThrow();
  });
});
