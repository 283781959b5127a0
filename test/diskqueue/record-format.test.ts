// The record codec of both segment formats (src/diskqueue/record-format.ts), in both
// directions, with pinned bytes, pinned faults and a random-input loop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  CHECKSUMMED_LAYOUT,
  PLAIN_LAYOUT,
  RECORD_BAD_CRC,
  RECORD_BAD_LENGTH,
  RECORD_SHORT,
  UnsupportedSegmentError,
  checkRecord,
  encodeRecord,
  encodeSegmentHeader,
  parseSegmentHeader,
  recordChecksum,
} from '../../src/diskqueue/record-format.js';

const ANY = { minMsgSize: 0, maxMsgSize: 1 << 20 };

test('segment header: exact bytes, parsed back; the original format never starts with it', () => {
  const h = encodeSegmentHeader();
  assert.equal(h.toString('hex'), '894e535101000008');
  assert.deepEqual(parseSegmentHeader(h), CHECKSUMMED_LAYOUT);
  // As an original record length the magic is negative: go-diskqueue refuses it as corrupt.
  assert.ok(h.readInt32BE(0) < 0);
  // An original segment starts with a non-negative length.
  assert.deepEqual(parseSegmentHeader(Buffer.from('0000001a0000', 'hex')), PLAIN_LAYOUT);
  assert.deepEqual(parseSegmentHeader(Buffer.alloc(0)), PLAIN_LAYOUT);
  // Cut inside the header: checksummed, nothing readable after it.
  assert.deepEqual(parseSegmentHeader(h.subarray(0, 5)), CHECKSUMMED_LAYOUT);
  // A longer header (a later version 1 extension) is skipped.
  assert.deepEqual(parseSegmentHeader(Buffer.from('894e535101000010', 'hex')), { format: 'checksummed', dataStart: 16 });
});

test('segment header: another version is refused with a typed error', () => {
  assert.throws(() => parseSegmentHeader(Buffer.from('894e535102000008', 'hex')), (e: unknown) => e instanceof UnsupportedSegmentError && e.version === 2);
  assert.throws(() => parseSegmentHeader(Buffer.from('894e535101000004', 'hex')), UnsupportedSegmentError);
});

test('records: exact bytes in both formats, masked crc32c', () => {
  const body = Buffer.from('123456789');
  // crc32c("123456789") = e3069283, masked as in LevelDB: rotate right 15, add a282ead8.
  assert.equal(recordChecksum(body).toString(16), 'c78ab0e5');
  assert.equal(encodeRecord(body, 'plain').toString('hex'), '00000009' + body.toString('hex'));
  assert.equal(encodeRecord(body, 'checksummed').toString('hex'), '00000009c78ab0e5' + body.toString('hex'));
  // An empty body's checksum is not 0: a zeroed region is never a record.
  assert.notEqual(recordChecksum(Buffer.alloc(0)), 0);
  assert.equal(checkRecord(Buffer.alloc(64), 0, 64, 'checksummed', ANY), RECORD_BAD_CRC);
});

test('records: faults are pinned (short, bad length, bad crc)', () => {
  const rec = encodeRecord(Buffer.from('hello, world'), 'checksummed');
  assert.equal(checkRecord(rec, 0, rec.length, 'checksummed', ANY), rec.length);
  assert.equal(checkRecord(rec, 0, rec.length - 1, 'checksummed', ANY), RECORD_SHORT);
  assert.equal(checkRecord(rec, 0, 3, 'checksummed', ANY), RECORD_SHORT);
  assert.equal(checkRecord(rec, 0, rec.length, 'checksummed', { minMsgSize: 13, maxMsgSize: 100 }), RECORD_BAD_LENGTH);
  assert.equal(checkRecord(rec, 0, rec.length, 'checksummed', { minMsgSize: 0, maxMsgSize: 11 }), RECORD_BAD_LENGTH);
  const bad = Buffer.from(rec);
  bad[10]! ^= 0x01;
  assert.equal(checkRecord(bad, 0, bad.length, 'checksummed', ANY), RECORD_BAD_CRC);
  // The original format has no checksum: the same flip goes unnoticed, as in go-diskqueue.
  const plain = encodeRecord(Buffer.from('hello, world'), 'plain');
  plain[6]! ^= 0x01;
  assert.equal(checkRecord(plain, 0, plain.length, 'plain', ANY), plain.length);
});

test('records: random bodies round-trip, and any single damaged byte is caught', () => {
  for (let i = 0; i < 500; i++) {
    const body = randomBytes(Math.floor(Math.random() * 300));
    for (const format of ['plain', 'checksummed'] as const) {
      const rec = encodeRecord(body, format);
      const at = 5 + Math.floor(Math.random() * 5);
      const buf = Buffer.concat([randomBytes(at), rec, randomBytes(3)]);
      assert.equal(checkRecord(buf, at, rec.length, format, ANY), rec.length);
      const overhead = format === 'plain' ? 4 : 8;
      assert.deepEqual(buf.subarray(at + overhead, at + rec.length), body);
    }
    const rec = encodeRecord(body, 'checksummed');
    const hit = Math.floor(Math.random() * rec.length);
    rec[hit]! ^= 1 + Math.floor(Math.random() * 255);
    assert.ok(checkRecord(rec, 0, rec.length, 'checksummed', ANY) < 0, `damage at ${hit} of ${rec.length} went unnoticed`);
  }
});

test('records: random garbage never throws and never claims more than is there', () => {
  for (let i = 0; i < 2000; i++) {
    const buf = randomBytes(Math.floor(Math.random() * 64));
    for (const format of ['plain', 'checksummed'] as const) {
      const r = checkRecord(buf, 0, buf.length, format, ANY);
      assert.ok(r === RECORD_SHORT || r === RECORD_BAD_LENGTH || r === RECORD_BAD_CRC || (r > 0 && r <= buf.length));
    }
    try {
      parseSegmentHeader(buf.subarray(0, 8));
    } catch (e) {
      assert.ok(e instanceof UnsupportedSegmentError);
    }
  }
});
