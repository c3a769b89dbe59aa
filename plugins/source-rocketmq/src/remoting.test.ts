import { describe, expect, it } from 'vitest';
import { FrameDecoder, encodeCommand } from './remoting.js';

describe('remoting frames', () => {
  it('encodes RemotingCommand#encode layout and decodes it back, split at any byte', () => {
    const frame = encodeCommand(11, 7, 0, { topic: 't', queueId: '3' }, Buffer.from('body!'));
    // length (everything after the length field) · header info (JSON type 0, header length)
    expect(frame.readInt32BE(0)).toBe(frame.length - 4);
    const headerLength = frame.readInt32BE(4);
    expect(headerLength >>> 24).toBe(0);
    const header = JSON.parse(frame.subarray(8, 8 + headerLength).toString()) as Record<
      string,
      unknown
    >;
    expect(header).toMatchObject({
      code: 11,
      opaque: 7,
      flag: 0,
      extFields: { topic: 't', queueId: '3' },
    });
    expect(frame.subarray(8 + headerLength).toString()).toBe('body!');
    for (let cut = 1; cut < frame.length; cut += 7) {
      const d = new FrameDecoder();
      const two = Buffer.concat([frame, frame]);
      const out = [...d.push(two.subarray(0, cut)), ...d.push(two.subarray(cut))];
      expect(out).toHaveLength(2);
      expect(out[1]).toMatchObject({ code: 11, opaque: 7, extFields: { queueId: '3' } });
      expect(out[1]!.body?.toString()).toBe('body!');
    }
  });

  it('rejects a frame that is not JSON-serialised or has an impossible length', () => {
    const frame = encodeCommand(0, 1, 1, {}, undefined);
    frame.writeUInt8(1, 4); // serialize type ROCKETMQ
    expect(() => new FrameDecoder().push(frame)).toThrow(/not JSON/);
    const bad = Buffer.alloc(8);
    bad.writeInt32BE(-5, 0);
    expect(() => new FrameDecoder().push(bad)).toThrow(/bad remoting frame length/);
  });
});
