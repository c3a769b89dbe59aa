import { describe, expect, it } from 'vitest';
import {
  FrameReader,
  canalPasswd,
  checkScrambledPassword,
  decodeAck,
  decodeBatchRef,
  decodeClientAuth,
  decodeGet,
  decodeHandshake,
  decodeSubscription,
  encodeClientAck,
  encodeClientAuth,
  encodeClientRollback,
  encodeGet,
  encodeHandshake,
  encodeSubscribe,
  frame,
  messagesBatchId,
  scramblePassword,
} from './canalTcp.js';
import { PacketType, decodePacket, encodeAckPacket, encodeCanalMessages } from './canalProtocol.js';
import { DecodeError } from '../decodeError.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
const ascii = (s: string) => Buffer.from(s, 'latin1').toString('hex');
const SEED = bytes('0102030405060708');

// Byte examples: shared/reference/canal-wire-formats.md §3.9 (checked against canal's Java code).
describe('canal TCP packets', () => {
  it('encodes the handshake canal-server sends and decodes its seeds', () => {
    const f = frame(encodeHandshake(SEED));
    expect(hex(f)).toBe('00000010' + '100118012a0a12080102030405060708');
    const p = decodePacket(f.subarray(4));
    expect(p.type).toBe(PacketType.HANDSHAKE);
    expect(p.version).toBe(1);
    expect(hex(decodeHandshake(p.body).seeds)).toBe('0102030405060708');
  });

  it('scrambles a password like SecurityUtil.scramble411 (reference worked example)', () => {
    const token = scramblePassword('123456', SEED);
    expect(new TextDecoder().decode(token)).toBe('90e636eb4878fb59e80b3ee6412a784df5aae30d');
    expect(canalPasswd('123456')).toBe('6BB4837EB74329105EE4568DDA7DC67ED2CA2AD9');
    expect(checkScrambledPassword(token, SEED, canalPasswd('123456'))).toBe(true);
    expect(
      checkScrambledPassword(scramblePassword('12345', SEED), SEED, canalPasswd('123456')),
    ).toBe(false);
    expect(checkScrambledPassword(token, bytes('0102030405060709'), canalPasswd('123456'))).toBe(
      false,
    );
    expect(scramblePassword('', SEED)).toHaveLength(0);
  });

  it('encodes CLIENTAUTHENTICATION byte for byte', () => {
    const f = frame(
      encodeClientAuth({
        username: 'canal',
        password: scramblePassword('123456', SEED),
        netReadTimeout: 3_600_000,
        netWriteTimeout: 3_600_000,
      }),
    );
    expect(hex(f)).toBe(
      '0000003f' +
        '18022a3b' +
        '0a05' +
        ascii('canal') +
        '1228' +
        ascii('90e636eb4878fb59e80b3ee6412a784df5aae30d') +
        '1880dddb01' +
        '2080dddb01',
    );
    const auth = decodeClientAuth(decodePacket(f.subarray(4)).body);
    expect(auth.username).toBe('canal');
    expect(auth.netReadTimeout).toBe(3_600_000);
  });

  it('encodes SUBSCRIPTION with the filter in field 7', () => {
    const f = frame(
      encodeSubscribe({ destination: 'example', clientId: '1001', filter: 'shop\\..*' }),
    );
    expect(hex(f)).toBe(
      '0000001d' +
        '18042a19' +
        '0a07' +
        ascii('example') +
        '1204' +
        ascii('1001') +
        '3a08' +
        ascii('shop\\..*'),
    );
    expect(decodeSubscription(decodePacket(f.subarray(4)).body)).toEqual({
      destination: 'example',
      clientId: '1001',
      filter: 'shop\\..*',
    });
    // An empty filter is left out (keeps the instance's own filter).
    expect(hex(encodeSubscribe({ destination: 'd', clientId: '1001', filter: '' }))).toBe(
      '18042a09' + '0a0164' + '1204' + ascii('1001'),
    );
  });

  it('encodes GET with explicit timeout and unit (1000 ms, fetch 100)', () => {
    const f = frame(
      encodeGet({
        destination: 'example',
        clientId: '1001',
        fetchSize: 100,
        timeout: 1000n,
        unit: 2,
      }),
    );
    expect(hex(f)).toBe(
      '0000001c' +
        '18062a18' +
        '0a07' +
        ascii('example') +
        '1204' +
        ascii('1001') +
        '1864' +
        '20e807' +
        '2802' +
        '3000',
    );
    const nonBlocking = encodeGet({
      destination: 'e',
      clientId: '1001',
      fetchSize: 1,
      timeout: -1n,
      unit: 2,
    });
    expect(hex(nonBlocking)).toContain('20ffffffffffffffffff01');
    expect(decodeGet(decodePacket(nonBlocking).body).timeout).toBe(-1n);
    expect(() =>
      encodeGet({ destination: 'e', clientId: '1', fetchSize: 0, timeout: 1n, unit: 2 }),
    ).toThrow(RangeError);
  });

  it('encodes CLIENTACK and CLIENTROLLBACK', () => {
    const ack = frame(encodeClientAck({ destination: 'example', clientId: '1001', batchId: 42n }));
    expect(hex(ack)).toBe(
      '00000015' + '18082a11' + '0a07' + ascii('example') + '1204' + ascii('1001') + '182a',
    );
    expect(decodeBatchRef(decodePacket(ack.subarray(4)).body).batchId).toBe(42n);
    const all = frame(
      encodeClientRollback({ destination: 'example', clientId: '1001', batchId: 0n }),
    );
    expect(hex(all)).toBe(
      '00000013' + '180c2a0f' + '0a07' + ascii('example') + '1204' + ascii('1001'),
    );
    const one = decodePacket(
      encodeClientRollback({ destination: 'x', clientId: '1001', batchId: 7n }),
    );
    expect(one.type).toBe(PacketType.CLIENTROLLBACK);
    expect(decodeBatchRef(one.body).batchId).toBe(7n);
  });

  it('decodes ACK replies: ok and error', () => {
    const ok = decodePacket(bytes('10011803'));
    expect(ok.type).toBe(PacketType.ACK);
    expect(decodeAck(ok.body)).toEqual({ code: 0, message: '' });
    const err = decodePacket(bytes('100118032a1f089003121a' + ascii('auth failed for user:canal')));
    expect(decodeAck(err.body)).toEqual({ code: 400, message: 'auth failed for user:canal' });
  });

  it('reads the batch id of MESSAGES (empty and raw data) and refuses ACK errors', () => {
    const empty = decodePacket(bytes('100118072a0b08ffffffffffffffffff01'));
    expect(messagesBatchId(empty)).toEqual({ batchId: -1n, entries: 0 });
    const data = decodePacket(
      encodeCanalMessages({ batchId: 9n, entries: [bytes('0a00'), bytes('0a00')] }, 'raw'),
    );
    expect(messagesBatchId(data)).toEqual({ batchId: 9n, entries: 2 });
    const error = decodePacket(encodeAckPacket(400, 'destination:x should start first'));
    expect(() => messagesBatchId(error)).toThrow(/error 400: "destination:x should start first"/);
    expect(() => messagesBatchId(decodePacket(bytes('1801')))).toThrow(DecodeError);
  });

  it('refuses truncated bodies with a DecodeError', () => {
    expect(() => decodeHandshake(bytes('1208010203'))).toThrow(DecodeError);
    expect(() => decodeAck(bytes('08'))).toThrow(DecodeError);
  });
});

describe('FrameReader', () => {
  const a = frame(bytes('10011803'));
  const b = frame(bytes('100118072a0b08ffffffffffffffffff01'));

  it('splits frames that arrive whole, together, or byte by byte', () => {
    const both = new Uint8Array([...a, ...b]);
    expect(new FrameReader().push(both).map(hex)).toEqual([
      '10011803',
      '100118072a0b08ffffffffffffffffff01',
    ]);
    const r = new FrameReader();
    const out: string[] = [];
    for (const byte of both) out.push(...r.push(new Uint8Array([byte])).map(hex));
    expect(out).toEqual(['10011803', '100118072a0b08ffffffffffffffffff01']);
    expect(r.buffered).toBe(0);
  });

  it('keeps a partial frame until the rest arrives', () => {
    const r = new FrameReader();
    expect(r.push(b.subarray(0, 6))).toEqual([]);
    expect(r.buffered).toBe(6);
    expect(r.push(b.subarray(6)).map(hex)).toEqual(['100118072a0b08ffffffffffffffffff01']);
  });

  it('accepts an empty frame and refuses a length above the limit', () => {
    expect(new FrameReader().push(bytes('00000000'))).toEqual([new Uint8Array(0)]);
    expect(() => new FrameReader(1024).push(bytes('00100000'))).toThrow(/exceeds the limit/);
  });

  it('grows its buffer for frames larger than the initial one', () => {
    const big = new Uint8Array(200_000).fill(7);
    const f = frame(big);
    const r = new FrameReader();
    expect(r.push(f.subarray(0, 70_000))).toEqual([]);
    const [out] = r.push(f.subarray(70_000));
    expect(out).toEqual(big);
  });
});
