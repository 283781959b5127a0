import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { goQuote, goQuoteBytes, isEphemeral, isValidChannelName, isValidName, isValidTopicName } from '../../src/protocol/names.js';

/** Topic/channel name rules (upstream `internal/protocol/names.go`) and Go's `%q` used in the error texts. */
describe('names', () => {
  it('accepts [.a-zA-Z0-9_-]+ with an optional #ephemeral suffix', () => {
    for (const n of ['a', 'A.b-c_9', '...', '-', '_', 'x#ephemeral', 'a'.repeat(64), 'b'.repeat(54) + '#ephemeral']) {
      assert.equal(isValidName(n), true, n);
      assert.equal(isValidTopicName(n), true, n);
      assert.equal(isValidChannelName(n), true, n);
    }
  });

  it('rejects empty, too long, other characters and a misplaced #', () => {
    const bad = [
      '',
      'a'.repeat(65),
      'b'.repeat(55) + '#ephemeral', // the suffix counts toward the 64 bytes
      'a b',
      'bad*topic',
      'a/b',
      'a:b',
      'é',
      '#ephemeral',
      'a#ephemera',
      'a#',
      '#a',
      'a#ephemeral#ephemeral',
      'a#EPHEMERAL',
      'a\n',
      'a\u0000',
    ];
    for (const n of bad) assert.equal(isValidName(n), false, JSON.stringify(n));
  });

  it('knows ephemeral names by their suffix', () => {
    assert.equal(isEphemeral('t#ephemeral'), true);
    assert.equal(isEphemeral('t'), false);
    assert.equal(isEphemeral('t#Ephemeral'), false);
  });
});

describe('goQuote (Go strconv.Quote of a string)', () => {
  const cases: Array<[string, string]> = [
    ['bad*topic', '"bad*topic"'],
    ['', '""'],
    ['a"b\\c', '"a\\"b\\\\c"'],
    ['\x00\x07\x08\x0c\n\r\t\x0b\x1b\x7f', '"\\x00\\a\\b\\f\\n\\r\\t\\v\\x1b\\x7f"'],
    ['é ü', '"é ü"'],
    ['\u00a0', '"\\u00a0"'],
    ['\u0085', '"\\u0085"'],
    ['\u00ad', '"\\u00ad"'],
    ['\u200b', '"\\u200b"'],
    ['\u2028', '"\\u2028"'],
    ['\u0378', '"\\u0378"'],
    ['\ue000', '"\\ue000"'],
    ['\u{1f600}', '"\u{1f600}"'],
    ['\u{10ffff}', '"\\U0010ffff"'],
    ['\ufffd', '"\ufffd"'],
    ['\ud800', '"\\ufffd"'],
  ];
  for (const [input, want] of cases) {
    it(JSON.stringify(input), () => assert.equal(goQuote(input), want));
  }
});

describe('goQuoteBytes (Go %q of raw bytes, as a latin1 byte string)', () => {
  const q = (bytes: number[] | string) => goQuoteBytes(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('latin1'));
  const asBytes = (s: string) => Buffer.from(s, 'latin1');

  it('quotes ASCII like goQuote', () => {
    assert.equal(q('bad*topic'), '"bad*topic"');
    assert.equal(q('a"b\\c\n\x00\x7f'), '"a\\"b\\\\c\\n\\x00\\x7f"');
  });

  it('keeps printable UTF-8 as its bytes', () => {
    assert.deepEqual(asBytes(q([0xc3, 0xa9])), Buffer.from('"é"'));
    assert.deepEqual(asBytes(q([0xf0, 0x9f, 0x98, 0x80])), Buffer.from('"\u{1f600}"'));
    assert.deepEqual(asBytes(q([0xef, 0xbf, 0xbd])), Buffer.from('"\ufffd"'));
  });

  it('escapes invalid bytes one by one as \\xNN', () => {
    assert.equal(q([0xff]), '"\\xff"');
    assert.equal(q([0xc3]), '"\\xc3"');
    assert.equal(q([0xc3, 0x41]), '"\\xc3A"');
    assert.equal(q([0xc0, 0xaf]), '"\\xc0\\xaf"'); // overlong
    assert.equal(q([0xed, 0xa0, 0x80]), '"\\xed\\xa0\\x80"'); // a surrogate
    assert.equal(q([0xf4, 0x90, 0x80, 0x80]), '"\\xf4\\x90\\x80\\x80"'); // beyond U+10FFFF
    assert.equal(q([0xe2, 0x82]), '"\\xe2\\x82"'); // truncated
  });

  it('escapes valid but unprintable runes as \\u / \\U', () => {
    assert.equal(q([0xe2, 0x80, 0x8b]), '"\\u200b"');
    assert.equal(q([0xc2, 0x85]), '"\\u0085"');
    assert.equal(q([0xf4, 0x8f, 0xbf, 0xbf]), '"\\U0010ffff"');
  });
});
