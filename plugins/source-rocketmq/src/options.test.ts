import { describe, expect, it } from 'vitest';
import { rocketmqSourceOptions, wrapNamespace } from './options.js';
import { allocateAveragely } from './rocketmqSource.js';
import { aclSignature, javaStringHash } from './client.js';

const base = { topic: 'example', groupId: 'g1', env: {} };

describe('rocketmqSourceOptions (canal CanalRocketMQConsumer keys)', () => {
  it('reads canal’s shipped keys', () => {
    const o = rocketmqSourceOptions({
      ...base,
      properties: {
        'rocketmq.namespace': '',
        'rocketmq.namesrv.addr': '127.0.0.1:9876;10.0.0.2:9876',
        'rocketmq.batch.size': '1000',
        'rocketmq.enable.message.trace': 'false',
        'rocketmq.customized.trace.topic': '',
        'rocketmq.access.channel': 'local',
        'rocketmq.subscribe.filter': '',
      },
    });
    expect(o).toMatchObject({
      nameServers: ['127.0.0.1:9876', '10.0.0.2:9876'],
      topic: 'example',
      groupId: 'g1',
      batchSize: 1000,
      subscription: '*',
      consumeFromWhere: 'last',
      credentials: undefined,
    });
    expect(o.notes).toEqual([]);
  });

  it('namespaces topic and group, parses tag filters, notes what it ignores', () => {
    const o = rocketmqSourceOptions({
      ...base,
      properties: {
        'rocketmq.namesrv.addr': 'h:1',
        'rocketmq.namespace': 'ns',
        'rocketmq.subscribe.filter': 'a || b',
        'rocketmq.enable.message.trace': 'true',
        'canal.aliyun.accessKey': 'ak',
        'canal.aliyun.secretKey': 'sk',
      },
    });
    expect(o.topic).toBe('ns%example');
    expect(o.groupId).toBe('ns%g1');
    expect([...o.tags]).toEqual(['a', 'b']);
    expect(o.credentials).toEqual({ accessKey: 'ak', secretKey: 'sk' });
    expect(o.notes.join()).toMatch(/message.trace/);
    expect(wrapNamespace('ns', 'ns%x')).toBe('ns%x');
  });

  it('rejects bad input with the key named', () => {
    const bad = (properties: Record<string, string>) => () =>
      rocketmqSourceOptions({ ...base, properties });
    expect(bad({})).toThrow(/rocketmq.namesrv.addr/);
    expect(bad({ 'rocketmq.namesrv.addr': 'nohost' })).toThrow(/not host:port/);
    expect(bad({ 'rocketmq.namesrv.addr': 'h:1', 'rocketmq.batch.size': '0' })).toThrow(
      /rocketmq.batch.size/,
    );
    expect(bad({ 'rocketmq.namesrv.addr': 'h:1', 'rocketmq.consume.from.where': 'x' })).toThrow(
      /consume.from.where/,
    );
    expect(bad({ 'rocketmq.namesrv.addr': 'h:1', 'canal.aliyun.accessKey': 'ak' })).toThrow(
      /together/,
    );
    expect(() =>
      rocketmqSourceOptions({
        ...base,
        topic: ' ',
        properties: { 'rocketmq.namesrv.addr': 'h:1' },
      }),
    ).toThrow(/instance/);
  });

  it('lets an environment variable named like the key override it (as canal does)', () => {
    const o = rocketmqSourceOptions({
      ...base,
      properties: { 'rocketmq.namesrv.addr': 'h:1' },
      env: { 'rocketmq.namesrv.addr': 'other:2' },
    });
    expect(o.nameServers).toEqual(['other:2']);
  });
});

describe('allocateAveragely (AllocateMessageQueueAveragely)', () => {
  const queues = [0, 1, 2, 3, 4, 5, 6, 7];
  it('splits contiguous ranges, the first members taking the remainder', () => {
    const members = ['a', 'b', 'c'];
    expect(members.map((m) => allocateAveragely(queues, members, m))).toEqual([
      [0, 1, 2],
      [3, 4, 5],
      [6, 7],
    ]);
    expect(allocateAveragely([0, 1], ['a', 'b', 'c'], 'c')).toEqual([]);
    expect(allocateAveragely(queues, ['a'], 'x')).toEqual([]);
  });
  it('gives every queue to exactly one member for any group size', () => {
    for (let n = 1; n <= 10; n++) {
      const members = Array.from({ length: n }, (_, i) => `m${i}`);
      const all = members.flatMap((m) => allocateAveragely(queues, members, m));
      expect(all.sort()).toEqual(queues);
    }
  });
});

describe('ACL signature (AclClientRPCHook)', () => {
  it('signs sorted field values plus AccessKey, then the body, HMAC-SHA1 base64', async () => {
    const { createHmac } = await import('node:crypto');
    const sig = aclSignature({ topic: 't', consumerGroup: 'g' }, Buffer.from('B'), {
      accessKey: 'AK',
      secretKey: 'SK',
    });
    // keys sorted: AccessKey, consumerGroup, topic
    expect(sig).toBe(createHmac('sha1', 'SK').update('AKgtB').digest('base64'));
  });
  it('hashes tags like Java String#hashCode', () => {
    expect(javaStringHash('TagA')).toBe(2598919);
    expect(javaStringHash('')).toBe(0);
  });
});
