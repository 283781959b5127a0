import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from '../../src/protocol/errors.js';
import {
  LookupCommandParser,
  LookupResponseDecoder,
  LookupResponseError,
  MAGIC_V1,
  encodeLookupCommand,
  encodeLookupError,
  encodeLookupResponse,
  trimGoSpace,
  type LookupItem,
} from '../../src/protocol/lookup-codec.js';

/** Runs the parser like the server does: accepts every body. Returns items and the first error. */
function drive(parser: LookupCommandParser, chunks: Buffer[]): { items: LookupItem[]; error: ProtocolError | null } {
  const items: LookupItem[] = [];
  try {
    for (const chunk of chunks) {
      parser.push(chunk);
      for (let item = parser.next(); item !== null; item = parser.next()) {
        items.push(item);
        if (item.type === 'line' && item.hasBody) parser.acceptBody();
      }
    }
  } catch (err) {
    if (err instanceof ProtocolError) return { items, error: err };
    throw err;
  }
  return { items, error: null };
}

const bytewise = (b: Buffer) => [...b].map((x) => Buffer.from([x]));

const identifyBody = Buffer.from('{"broadcast_address":"h","tcp_port":1,"http_port":2,"version":"1.3.0"}');

// One fixture table, checked whole, byte by byte and in random splits.
const STREAM = Buffer.concat([
  MAGIC_V1,
  encodeLookupCommand('PING'),
  encodeLookupCommand('IDENTIFY', [], identifyBody),
  encodeLookupCommand('REGISTER', ['t', 'c']),
  Buffer.from('  UNREGISTER t\r\n'),
  Buffer.from('\n'),
  encodeLookupCommand('REGISTER', ['t', 'c', 'extra']),
]);
const EXPECTED: LookupItem[] = [
  { type: 'line', name: 'PING', params: [], hasBody: false },
  { type: 'line', name: 'IDENTIFY', params: [], hasBody: true },
  { type: 'body', name: 'IDENTIFY', params: [], body: identifyBody },
  { type: 'line', name: 'REGISTER', params: ['t', 'c'], hasBody: false },
  { type: 'line', name: 'UNREGISTER', params: ['t'], hasBody: false },
  { type: 'line', name: '', params: [], hasBody: false },
  { type: 'line', name: 'REGISTER', params: ['t', 'c', 'extra'], hasBody: false },
];

describe('LookupCommandParser', () => {
  it('parses a whole stream', () => {
    const { items, error } = drive(new LookupCommandParser(), [STREAM]);
    assert.equal(error, null);
    assert.deepEqual(items, EXPECTED);
  });

  it('parses the same stream fed byte by byte', () => {
    const { items, error } = drive(new LookupCommandParser(), bytewise(STREAM));
    assert.equal(error, null);
    assert.deepEqual(items, EXPECTED);
  });

  it('parses the same stream in random splits', () => {
    for (let round = 0; round < 200; round++) {
      const chunks: Buffer[] = [];
      let off = 0;
      while (off < STREAM.length) {
        const n = 1 + Math.floor(Math.random() * 20);
        chunks.push(STREAM.subarray(off, off + n));
        off += n;
      }
      const { items, error } = drive(new LookupCommandParser(), chunks);
      assert.equal(error, null);
      assert.deepEqual(items, EXPECTED);
    }
  });

  it('waits for acceptBody before reading an IDENTIFY body', () => {
    const p = new LookupCommandParser();
    p.push(Buffer.concat([MAGIC_V1, Buffer.from('IDENTIFY\nPING\n')]));
    assert.deepEqual(p.next(), { type: 'line', name: 'IDENTIFY', params: [], hasBody: true });
    assert.equal(p.next(), null); // nothing is consumed until the caller decides
    assert.equal(p.next(), null);
    assert.throws(() => new LookupCommandParser().acceptBody());
  });

  it('rejects a wrong magic with E_BAD_PROTOCOL and reports the bytes', () => {
    const p = new LookupCommandParser();
    const { error } = drive(p, [Buffer.from('XXXXPING\n')]);
    assert.ok(error);
    assert.equal(error.wireBody(), 'E_BAD_PROTOCOL');
    assert.equal(p.magic, 'XXXX');
    // nsqd's V2 magic is not V1
    assert.equal(drive(new LookupCommandParser(), [Buffer.from('  V2')]).error?.code, 'E_BAD_PROTOCOL');
  });

  it('needs 4 magic bytes', () => {
    const p = new LookupCommandParser();
    p.push(Buffer.from('  V'));
    assert.equal(p.next(), null);
    assert.equal(p.awaitingMagic, true);
    assert.equal(p.eofError(), null);
    p.push(Buffer.from('1'));
    assert.equal(p.next(), null);
    assert.equal(p.awaitingMagic, false);
  });

  it('trims Go white space around the line and splits on single spaces', () => {
    const line = Buffer.concat([
      MAGIC_V1,
      Buffer.from('\t\u00a0 REGISTER  t c \u3000\u2000\r\n', 'utf8'),
      Buffer.from('\ufeffPING\n', 'utf8'), // a BOM is not space in Go
    ]);
    const { items } = drive(new LookupCommandParser(), [line]);
    assert.deepEqual(items[0], { type: 'line', name: 'REGISTER', params: ['', 't', 'c'], hasBody: false });
    assert.equal(items[1]!.name, Buffer.from('\ufeffPING', 'utf8').toString('latin1'));
  });

  it('keeps non-ASCII bytes (latin1) so they can be echoed exactly', () => {
    const raw = Buffer.from([0x52, 0x45, 0x47, 0x49, 0x53, 0x54, 0x45, 0x52, 0x20, 0xff, 0xc3, 0xa9, 0x0a]);
    const { items } = drive(new LookupCommandParser(), [MAGIC_V1, raw]);
    assert.equal(items.length, 1);
    const t = (items[0] as { params: string[] }).params[0]!;
    assert.deepEqual(Buffer.from(t, 'latin1'), Buffer.from([0xff, 0xc3, 0xa9]));
  });

  it('accepts a zero-length IDENTIFY body (JSON decoding fails later)', () => {
    const { items, error } = drive(new LookupCommandParser(), [
      Buffer.concat([MAGIC_V1, encodeLookupCommand('IDENTIFY', [], Buffer.alloc(0))]),
    ]);
    assert.equal(error, null);
    assert.deepEqual(items[1], { type: 'body', name: 'IDENTIFY', params: [], body: Buffer.alloc(0) });
  });

  it('rejects negative and oversized IDENTIFY bodies', () => {
    const neg = Buffer.concat([MAGIC_V1, Buffer.from('IDENTIFY\n'), Buffer.from([0xff, 0xff, 0xff, 0xff])]);
    assert.equal(drive(new LookupCommandParser(), [neg]).error?.message, 'E_BAD_BODY IDENTIFY invalid body size -1');
    const big = Buffer.concat([MAGIC_V1, Buffer.from('IDENTIFY\n'), Buffer.from([0, 0, 0x10, 1])]);
    const small = new LookupCommandParser({ maxBodySize: 4096 });
    assert.equal(drive(small, [big]).error?.message, 'E_BAD_BODY IDENTIFY body too big 4097 > 4096');
    const ok = Buffer.concat([MAGIC_V1, encodeLookupCommand('IDENTIFY', [], Buffer.alloc(4096, 0x20))]);
    assert.equal(drive(new LookupCommandParser({ maxBodySize: 4096 }), [ok]).error, null);
  });

  it('bounds the line length, with or without a newline in sight', () => {
    const opts = { maxLineLength: 10 };
    assert.equal(drive(new LookupCommandParser(opts), [Buffer.concat([MAGIC_V1, Buffer.from('0123456789\n')])]).error, null);
    const long = Buffer.concat([MAGIC_V1, Buffer.from('0123456789A\n')]);
    assert.equal(drive(new LookupCommandParser(opts), [long]).error?.message, 'E_INVALID line too long');
    assert.equal(drive(new LookupCommandParser(opts), bytewise(long)).error?.message, 'E_INVALID line too long');
    const endless = Buffer.concat([MAGIC_V1, Buffer.alloc(11, 0x41)]);
    assert.equal(drive(new LookupCommandParser(opts), [endless]).error?.message, 'E_INVALID line too long');
  });

  it('reports what the original answers at EOF in the middle of an IDENTIFY body', () => {
    const p = new LookupCommandParser();
    drive(p, [Buffer.concat([MAGIC_V1, Buffer.from('IDENTIFY\n'), Buffer.from([0, 0])])]);
    assert.equal(p.eofError()?.message, 'E_BAD_BODY IDENTIFY failed to read body size');
    const q = new LookupCommandParser();
    drive(q, [Buffer.concat([MAGIC_V1, Buffer.from('IDENTIFY\n'), Buffer.from([0, 0, 0, 5, 0x7b])])]);
    assert.equal(q.eofError()?.message, 'E_BAD_BODY IDENTIFY failed to read body');
    const r = new LookupCommandParser();
    drive(r, [Buffer.concat([MAGIC_V1, Buffer.from('PING')])]); // partial line: silently dropped
    assert.equal(r.eofError(), null);
  });

  it('survives random garbage: only ProtocolErrors, never hangs or crashes', () => {
    for (let round = 0; round < 500; round++) {
      const len = Math.floor(Math.random() * 300);
      const garbage = Buffer.alloc(len);
      for (let i = 0; i < len; i++) {
        // bias towards interesting bytes
        const r = Math.random();
        garbage[i] = r < 0.1 ? 0x0a : r < 0.2 ? 0x20 : r < 0.25 ? 0 : r < 0.3 ? 0xff : Math.floor(Math.random() * 256);
      }
      const withMagic = round % 2 === 0 ? Buffer.concat([MAGIC_V1, Buffer.from('IDENTIFY\n'), garbage]) : garbage;
      const parser = new LookupCommandParser({ maxBodySize: 1 << 16, maxLineLength: 128 });
      const chunks = round % 3 === 0 ? bytewise(withMagic) : [withMagic];
      const { items, error } = drive(parser, chunks);
      assert.ok(error === null || error instanceof ProtocolError);
      for (const item of items) assert.equal(typeof item.name, 'string');
      parser.eofError();
    }
  });
});

describe('trimGoSpace', () => {
  const trim = (s: string) => {
    const b = Buffer.from(s, 'utf8');
    const [st, en] = trimGoSpace(b, 0, b.length);
    return b.toString('utf8', st, en);
  };
  it('matches strings.TrimSpace', () => {
    assert.equal(trim(' \t\n\v\f\r x y \r\n'), 'x y');
    assert.equal(trim('\u0085\u00a0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000x\u3000'), 'x');
    assert.equal(trim('\u200bx\u200b'), '\u200bx\u200b'); // zero-width space is not white space
    assert.equal(trim('\ufeffx'), '\ufeffx');
    assert.equal(trim('   '), '');
    assert.equal(trim(''), '');
  });
  it('does not read past partial multi-byte sequences', () => {
    const b = Buffer.from([0xc2, 0x41, 0xe2, 0x80]);
    assert.deepEqual(trimGoSpace(b, 0, b.length), [0, 4]);
  });
});

describe('lookup commands and responses, both directions', () => {
  it('encodes commands exactly', () => {
    assert.deepEqual(encodeLookupCommand('PING'), Buffer.from('PING\n'));
    assert.deepEqual(encodeLookupCommand('REGISTER', ['t', 'c']), Buffer.from('REGISTER t c\n'));
    assert.deepEqual(
      encodeLookupCommand('IDENTIFY', [], Buffer.from('{}')),
      Buffer.concat([Buffer.from('IDENTIFY\n'), Buffer.from([0, 0, 0, 2]), Buffer.from('{}')]),
    );
  });

  it('encodes responses exactly and decodes them back, whole and byte by byte', () => {
    const ok = encodeLookupResponse('OK');
    assert.deepEqual(ok, Buffer.from([0, 0, 0, 2, 0x4f, 0x4b]));
    const err = encodeLookupError(new ProtocolError('E_INVALID', 'client must IDENTIFY'));
    const json = encodeLookupResponse('{"tcp_port":4160}');
    const empty = encodeLookupResponse('');
    const stream = Buffer.concat([ok, err, empty, json]);
    const expect = ['OK', 'E_INVALID client must IDENTIFY', '', '{"tcp_port":4160}'];

    const whole = new LookupResponseDecoder(1024);
    whole.push(stream);
    const got: string[] = [];
    for (let r = whole.next(); r !== null; r = whole.next()) got.push(r.toString());
    assert.deepEqual(got, expect);

    const dec = new LookupResponseDecoder(1024);
    const got2: string[] = [];
    for (const b of bytewise(stream)) {
      dec.push(b);
      for (let r = dec.next(); r !== null; r = dec.next()) got2.push(r.toString());
    }
    assert.deepEqual(got2, expect);
  });

  it('error responses keep the bytes of echoed names', () => {
    const name = Buffer.from([0xff, 0x41]).toString('latin1');
    const buf = encodeLookupError(new ProtocolError('E_BAD_TOPIC', `REGISTER topic name '${name}' is not valid`));
    const data = buf.subarray(4);
    assert.equal(buf.readInt32BE(0), data.length);
    assert.deepEqual(data, Buffer.concat([Buffer.from("E_BAD_TOPIC REGISTER topic name '"), Buffer.from([0xff, 0x41]), Buffer.from("' is not valid")]));
  });

  it('bounds the response size', () => {
    const dec = new LookupResponseDecoder(3);
    dec.push(encodeLookupResponse('OKAY'));
    assert.throws(() => dec.next(), (e: unknown) => {
      assert.ok(e instanceof LookupResponseError);
      assert.equal(e.message, 'response body size (4) is greater than limit (3)');
      return true;
    });
    const neg = new LookupResponseDecoder(3);
    neg.push(Buffer.from([0xff, 0xff, 0xff, 0xfe]));
    assert.throws(() => neg.next(), LookupResponseError);
  });
});
