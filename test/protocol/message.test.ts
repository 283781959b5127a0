import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeMessage, Message, MessageDecodeError, MESSAGE_HEADER_SIZE, nowTimestamp } from '../../src/protocol/message.js';

/** The message payload (docs/protocol.md, Message layout): `[int64 ts ns][uint16 attempts][16-byte id][body]`. */
describe('message codec', () => {
  const ID = '0123456789abcdef';

  it('encodes exact bytes', () => {
    // ts = 0x0123456789abcdef ns, attempts 258
    const m = new Message(ID, Buffer.from('hi'), 0x01234567, 0x89abcdef, 258);
    assert.equal(m.encode().toString('hex'), '0123456789abcdef' + '0102' + Buffer.from(ID).toString('hex') + '6869');
    assert.equal(m.encodedSize(), MESSAGE_HEADER_SIZE + 2);
    assert.equal(MESSAGE_HEADER_SIZE, 26);
  });

  it('writes at an offset and returns the end', () => {
    const m = new Message(ID, Buffer.from('xyz'), 1, 2, 3);
    const buf = Buffer.alloc(40, 0xee);
    assert.equal(m.writeTo(buf, 5), 5 + 29);
    assert.equal(buf.subarray(5, 34).toString('hex'), m.encode().toString('hex'));
    assert.equal(buf[4], 0xee);
    assert.equal(buf[34], 0xee);
  });

  it('round-trips through decode, with the body as a view', () => {
    const m = new Message(ID, Buffer.from([0, 1, 2, 255]), 0xfedcba98, 0x76543210, 65535);
    const bytes = m.encode();
    const d = decodeMessage(bytes);
    assert.equal(d.id, ID);
    assert.equal(d.tsHi, 0xfedcba98);
    assert.equal(d.tsLo, 0x76543210);
    assert.equal(d.attempts, 65535);
    assert.deepEqual(d.body, Buffer.from([0, 1, 2, 255]));
    assert.equal(d.body.buffer, bytes.buffer);
    assert.equal(d.encode().toString('hex'), bytes.toString('hex'));
  });

  it('decodes a header-only payload (empty body) and rejects anything shorter', () => {
    const m = decodeMessage(new Message(ID, Buffer.alloc(0), 0, 0, 1).encode());
    assert.equal(m.body.length, 0);
    assert.throws(() => decodeMessage(Buffer.alloc(25)), MessageDecodeError);
    assert.throws(() => decodeMessage(Buffer.alloc(0)), /not enough data to decode valid message \(0 < 26\)/);
  });

  it('wraps attempts at 65536 on the wire', () => {
    const m = new Message(ID, Buffer.from('a'), 0, 0, 65536);
    assert.equal(decodeMessage(m.encode()).attempts, 0);
    m.attempts = 65537;
    assert.equal(decodeMessage(m.encode()).attempts, 1);
  });

  it('copies keep id, body, timestamp and deferral but not delivery state', () => {
    const m = new Message(ID, Buffer.from('a'), 7, 8, 2);
    m.deferMs = 500;
    m.clientId = 9;
    m.heapIndex = 3;
    const c = m.copy();
    assert.equal(c.id, ID);
    assert.equal(c.body, m.body);
    assert.equal(c.tsHi, 7);
    assert.equal(c.tsLo, 8);
    assert.equal(c.attempts, 2);
    assert.equal(c.deferMs, 500);
    assert.equal(c.clientId, 0);
    assert.equal(c.heapIndex, -1);
  });

  it('a low timestamp half or ID half of 2^31 and above is held as an int32 and written back as the same bytes', () => {
    const m = new Message(0xfedcba98, Buffer.from('x'), 0x12345678, 0xfedcba98, 1, 0x89abcdef);
    assert.deepEqual([m.idHi, m.idLo, m.tsLo], [0xfedcba98 | 0, 0x89abcdef | 0, 0xfedcba98 | 0]);
    const bytes = m.encode();
    assert.equal(bytes.toString('hex', 0, 8), '12345678fedcba98');
    assert.equal(bytes.toString('latin1', 10, 26), 'fedcba9889abcdef');
    const d = decodeMessage(bytes);
    assert.deepEqual([d.idHi, d.idLo, d.tsLo], [m.idHi, m.idLo, m.tsLo]);
    assert.equal(d.timestampNs(), 0x12345678 * 4294967296 + 0xfedcba98);
    assert.equal(d.encode().toString('hex'), bytes.toString('hex'));
  });

  it('timestamps are the wall clock in ns, as int64 halves', () => {
    const [hi, lo] = nowTimestamp();
    const ns = hi * 4294967296 + (lo >>> 0);
    assert.ok(Math.abs(ns / 1e6 - Date.now()) < 1000, `${ns}`);
    // The low half is an int32 (a small integer to V8, see message.ts).
    assert.equal(lo, lo | 0);
    const m = new Message(ID, Buffer.alloc(0), hi, lo);
    const back = m.encode().readBigInt64BE(0);
    assert.ok(Math.abs(Number(back) - ns) < 1024);
    assert.equal(m.timestampNs(), ns);
  });
});

describe('message IDs as halves', () => {
  it('keeps a hex ID as numbers and writes back the same bytes', () => {
    const m = new Message('00ff00ff12345678', Buffer.from('b'), 0, 0);
    assert.equal(m.idRaw, null);
    assert.equal(m.idHi, 0x00ff00ff);
    assert.equal(m.idLo, 0x12345678);
    assert.equal(m.id, '00ff00ff12345678');
    const d = decodeMessage(m.encode());
    assert.equal(d.idRaw, null);
    assert.equal(d.id, '00ff00ff12345678');
    assert.equal(new Message(0x00ff00ff, Buffer.from('b'), 0, 0, 0, 0x12345678).encode().toString('hex'), m.encode().toString('hex'));
  });

  it('keeps any other 16 bytes as text, byte for byte', () => {
    for (const id of ['00FF00FF12345678', 'zzzzzzzzzzzzzzzz', '0123456789abcde\u00ff']) {
      const m = decodeMessage(new Message(id, Buffer.from('b'), 0, 0).encode());
      assert.equal(m.idRaw, id);
      assert.equal(m.id, id);
      assert.equal(m.copy().id, id);
    }
  });
});
