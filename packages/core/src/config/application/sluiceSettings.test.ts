import { describe, expect, it } from 'vitest';
import { defaultDeadLetterType, sluiceSettingsOf } from './sluiceSettings.js';

describe('sluice.deadLetter.type', () => {
  it('defaults to the <queue>.dlq queue in rabbitMQ mode (any case) and to file elsewhere', () => {
    expect(sluiceSettingsOf({}, 8081, 1000, undefined, 'rabbitmq').deadLetter.type).toBe(
      'rabbitmq',
    );
    expect(defaultDeadLetterType('rabbitMQ')).toBe('rabbitmq');
    for (const mode of ['tcp', 'kafka', 'rocketmq', 'file', undefined])
      expect(sluiceSettingsOf({}, 8081, 1000, undefined, mode).deadLetter.type).toBe('file');
  });

  it('keeps an explicit type in every mode, file included', () => {
    const bound = (type: string) => ({ deadLetter: { type } });
    expect(sluiceSettingsOf(bound('file'), 8081, 1000, undefined, 'rabbitmq').deadLetter.type).toBe(
      'file',
    );
    expect(sluiceSettingsOf(bound('rabbitmq'), 8081, 1000, undefined, 'tcp').deadLetter.type).toBe(
      'rabbitmq',
    );
    // An empty value (`type:` in YAML) is not set.
    expect(sluiceSettingsOf(bound(''), 8081, 1000, undefined, 'rabbitmq').deadLetter.type).toBe(
      'rabbitmq',
    );
  });
});
