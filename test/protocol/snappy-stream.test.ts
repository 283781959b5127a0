import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  SNAPPY_MAX_BLOCK_SIZE,
  SNAPPY_STREAM_IDENTIFIER,
  SnappyFrameDecoder,
  SnappyFrameEncoder,
  SnappyFrameError,
} from '../../src/protocol/snappy-stream.js';
import { maskedCrc32c } from '../../src/lib/crc32c.js';

const STREAM_ID = Buffer.from('ff060000734e61507059', 'hex');

// Hand-built frames (CRCs computed with an independent bitwise CRC-32C): "hello" as an
// uncompressed chunk, "abcabcabc" as a compressed chunk (literal "abc" + copy len 6 offset 3).
const HELLO_UNCOMPRESSED = Buffer.from('01090000' + 'bb1f1c19' + Buffer.from('hello').toString('hex'), 'hex');
const ABC_COMPRESSED = Buffer.from('000b0000' + 'ece64b9e' + '09' + '08616263' + '0903', 'hex');

function decodeAll(dec: SnappyFrameDecoder, input: Buffer): Buffer {
  return Buffer.concat(dec.push(input));
}

function decodeByteByByte(input: Buffer): Buffer {
  const dec = new SnappyFrameDecoder();
  const out: Buffer[] = [];
  for (let i = 0; i < input.length; i++) out.push(...dec.push(input.subarray(i, i + 1)));
  return Buffer.concat(out);
}

test('masked CRC matches the framing-format definition', () => {
  assert.equal(maskedCrc32c(Buffer.from('123456789')), 0xc78ab0e5);
  assert.equal(maskedCrc32c(Buffer.from('hello')), 0x191c1fbb);
});

test('stream identifier constant', () => {
  assert.deepEqual(SNAPPY_STREAM_IDENTIFIER, STREAM_ID);
});

test('encoder: short write is stream id + an uncompressed chunk, byte for byte', () => {
  const enc = new SnappyFrameEncoder();
  assert.deepEqual(enc.encode(Buffer.from('hello')), Buffer.concat([STREAM_ID, HELLO_UNCOMPRESSED]));
  // The stream identifier is written once.
  assert.deepEqual(enc.encode(Buffer.from('hello')), HELLO_UNCOMPRESSED);
  assert.equal(enc.encode(Buffer.alloc(0)).length, 0);
});

test('encoder: empty first write emits nothing, not even the stream id', () => {
  const enc = new SnappyFrameEncoder();
  assert.equal(enc.encode(Buffer.alloc(0)).length, 0);
  assert.deepEqual(enc.encode(Buffer.from('hello')).subarray(0, 10), STREAM_ID);
});

test('decoder: known-good hand-built vectors', () => {
  const dec = new SnappyFrameDecoder();
  assert.equal(decodeAll(dec, Buffer.concat([STREAM_ID, HELLO_UNCOMPRESSED, ABC_COMPRESSED])).toString(), 'helloabcabcabc');
  assert.equal(decodeByteByByte(Buffer.concat([STREAM_ID, ABC_COMPRESSED, HELLO_UNCOMPRESSED])).toString(), 'abcabcabchello');
});

test('decoder: skips padding and reserved skippable chunks, accepts repeated stream ids', () => {
  const padding = Buffer.from('fe030000000000', 'hex');
  const skippable = Buffer.from('80020000abcd', 'hex');
  const emptySkippable = Buffer.from('fd000000', 'hex');
  const input = Buffer.concat([STREAM_ID, padding, HELLO_UNCOMPRESSED, skippable, emptySkippable, STREAM_ID, HELLO_UNCOMPRESSED]);
  assert.equal(decodeAll(new SnappyFrameDecoder(), input).toString(), 'hellohello');
  assert.equal(decodeByteByByte(input).toString(), 'hellohello');
});

test('round trip: compressible and incompressible data, whole and byte by byte', () => {
  const enc = new SnappyFrameEncoder();
  const compressible = Buffer.from('the quick brown fox jumps over the lazy dog '.repeat(200));
  const random = randomBytes(5000);
  const framed = Buffer.concat([enc.encode(compressible), enc.encode(random), enc.encode(Buffer.from('x'))]);
  assert.ok(framed.length < compressible.length + random.length, 'compressible part was compressed');
  const expected = Buffer.concat([compressible, random, Buffer.from('x')]);
  assert.deepEqual(decodeAll(new SnappyFrameDecoder(), framed), expected);
  assert.deepEqual(decodeByteByByte(framed), expected);
});

test('incompressible data falls back to uncompressed chunks', () => {
  const data = randomBytes(1000);
  const framed = new SnappyFrameEncoder().encode(data);
  assert.equal(framed[10], 0x01);
  assert.equal(framed.readUIntLE(11, 3), 1004);
  assert.deepEqual(framed.subarray(18), data);
});

test('large input is split into chunks of at most 65536 uncompressed bytes', () => {
  const data = randomBytes(SNAPPY_MAX_BLOCK_SIZE * 2 + 100);
  const framed = new SnappyFrameEncoder().encode(data);
  // Walk the chunks: random data stays uncompressed, so lengths are exact.
  const sizes: number[] = [];
  for (let pos = 10; pos < framed.length; ) {
    const len = framed.readUIntLE(pos + 1, 3);
    sizes.push(len - 4);
    pos += 4 + len;
  }
  assert.deepEqual(sizes, [65536, 65536, 100]);
  const dec = new SnappyFrameDecoder();
  const out: Buffer[] = [];
  for (let i = 0; i < framed.length; i += 7919) out.push(...dec.push(framed.subarray(i, i + 7919)));
  assert.deepEqual(Buffer.concat(out), data);
});

function expectError(input: Buffer, code: string, re?: RegExp): void {
  const dec = new SnappyFrameDecoder();
  assert.throws(
    () => dec.push(input),
    (err: unknown) => err instanceof SnappyFrameError && err.code === code && (re === undefined || re.test(err.message)),
  );
  // The decoder stays failed.
  assert.throws(() => dec.push(Buffer.concat([STREAM_ID, HELLO_UNCOMPRESSED])), SnappyFrameError);
}

test('errors: CRC mismatch on uncompressed and compressed chunks', () => {
  const bad = Buffer.from(HELLO_UNCOMPRESSED);
  bad.writeUInt8(bad.readUInt8(4) ^ 1, 4);
  expectError(Buffer.concat([STREAM_ID, bad]), 'ERR_SNAPPY_CORRUPT', /checksum/);
  const badData = Buffer.from(ABC_COMPRESSED);
  badData[badData.length - 3] = 0x62; // literal "abb"
  expectError(Buffer.concat([STREAM_ID, badData]), 'ERR_SNAPPY_CORRUPT', /checksum/);
});

test('errors: format violations', () => {
  expectError(HELLO_UNCOMPRESSED, 'ERR_SNAPPY_CORRUPT', /stream identifier/);
  expectError(Buffer.from('ff060000734e61507058', 'hex'), 'ERR_SNAPPY_CORRUPT', /stream identifier/);
  expectError(Buffer.from('ff050000734e615070', 'hex'), 'ERR_SNAPPY_CORRUPT');
  expectError(Buffer.concat([STREAM_ID, Buffer.from('02010000ff', 'hex')]), 'ERR_SNAPPY_UNSUPPORTED', /reserved/);
  expectError(Buffer.concat([STREAM_ID, Buffer.from('7f000000', 'hex')]), 'ERR_SNAPPY_UNSUPPORTED');
  expectError(Buffer.concat([STREAM_ID, Buffer.from('00030000000000', 'hex')]), 'ERR_SNAPPY_CORRUPT');
  expectError(Buffer.concat([STREAM_ID, Buffer.from('01030000000000', 'hex')]), 'ERR_SNAPPY_CORRUPT');
  // Garbage compressed block.
  expectError(Buffer.concat([STREAM_ID, Buffer.from('00070000000000000a0fff', 'hex')]), 'ERR_SNAPPY_CORRUPT');
});

test('errors: oversize chunks are rejected from the header alone', () => {
  // Uncompressed chunk claiming 65537 data bytes.
  const hdr = Buffer.from([0x01, 0, 0, 0]);
  hdr.writeUIntLE(65537 + 4, 1, 3);
  expectError(Buffer.concat([STREAM_ID, hdr]), 'ERR_SNAPPY_CORRUPT', /exceeds/);
  // Any chunk longer than the worst-case encoding of a full block.
  expectError(Buffer.concat([STREAM_ID, Buffer.from('00ffffff', 'hex')]), 'ERR_SNAPPY_UNSUPPORTED', /too large/);
  expectError(Buffer.concat([STREAM_ID, Buffer.from('80ffffff', 'hex')]), 'ERR_SNAPPY_UNSUPPORTED');
  // A compressed block whose preamble declares more than 65536 bytes.
  const block = Buffer.from([0x81, 0x80, 0x04, 0x00]); // uvarint 65537
  const chunk = Buffer.concat([Buffer.from([0x00, 8, 0, 0, 0, 0, 0, 0]), block]);
  expectError(Buffer.concat([STREAM_ID, chunk]), 'ERR_SNAPPY_CORRUPT', /more than 65536/);
});

test('random input never throws anything but SnappyFrameError', () => {
  const enc = new SnappyFrameEncoder();
  const valid = Buffer.concat([enc.encode(Buffer.from('some valid data '.repeat(50))), enc.encode(randomBytes(300))]);
  for (let round = 0; round < 2000; round++) {
    let input: Buffer;
    if (round % 3 === 0) input = randomBytes(1 + (round % 200));
    else if (round % 3 === 1) input = Buffer.concat([STREAM_ID, randomBytes(1 + (round % 300))]);
    else {
      // Valid stream with a few flipped bytes.
      input = Buffer.from(valid);
      for (let k = 0; k < 1 + (round % 4); k++) {
        const at = Math.floor(Math.random() * input.length);
        input.writeUInt8(input.readUInt8(at) ^ (1 + Math.floor(Math.random() * 255)), at);
      }
    }
    const dec = new SnappyFrameDecoder();
    try {
      for (let i = 0; i < input.length; i += 1 + (round % 17)) dec.push(input.subarray(i, i + 1 + (round % 17)));
    } catch (err) {
      assert.ok(err instanceof SnappyFrameError, `unexpected ${String(err)}`);
    }
  }
});
