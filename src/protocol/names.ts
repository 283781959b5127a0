/** Topic and channel name rules shared by nsqd and nsqlookupd (upstream `internal/protocol/names.go`). */
const NAME_RE = /^[.a-zA-Z0-9_-]+(#ephemeral)?$/;
const EPHEMERAL_SUFFIX = '#ephemeral';

export function isValidName(name: string): boolean {
  return name.length >= 1 && Buffer.byteLength(name) <= 64 && NAME_RE.test(name);
}

export const isValidTopicName = isValidName;
export const isValidChannelName = isValidName;

export function isEphemeral(name: string): boolean {
  return name.endsWith(EPHEMERAL_SUFFIX);
}

/** Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
const GO_PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;
const HEX_DIGITS = '0123456789abcdef';

/** One rune as strconv.Quote writes it (appendEscapedRune with quote `"`). */
function quoteRune(c: number, ch: string): string {
  if (c === 0x22) return '\\"';
  if (c === 0x5c) return '\\\\';
  if (c >= 0x20 && c < 0x7f) return ch;
  if (c >= 0x80 && c <= 0x10ffff && !(c >= 0xd800 && c <= 0xdfff) && GO_PRINTABLE.test(ch)) return ch;
  switch (c) {
    case 0x07:
      return '\\a';
    case 0x08:
      return '\\b';
    case 0x0c:
      return '\\f';
    case 0x0a:
      return '\\n';
    case 0x0d:
      return '\\r';
    case 0x09:
      return '\\t';
    case 0x0b:
      return '\\v';
  }
  if (c < 0x20 || c === 0x7f) return '\\x' + HEX_DIGITS[c >> 4] + HEX_DIGITS[c & 15];
  // A lone surrogate is not a valid rune: Go substitutes U+FFFD before escaping.
  if (c >= 0xd800 && c <= 0xdfff) return '\\ufffd';
  if (c < 0x10000) return '\\u' + c.toString(16).padStart(4, '0');
  return '\\U' + c.toString(16).padStart(8, '0');
}

/** Go's `%q` of a (UTF-16) string, as the original's error texts quote names. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) out += quoteRune(ch.codePointAt(0)!, ch);
  return out + '"';
}

/**
 * Go's `%q` of raw bytes given as a latin1 "byte string" (one char per byte, as the V2 command
 * parser yields parameters), returned as a byte string too: valid UTF-8 sequences are decoded
 * to runes, invalid bytes become `\xNN`, printable runes are re-emitted as their UTF-8 bytes.
 * This keeps error frames that echo a bad name byte-identical to the original's.
 */
export function goQuoteBytes(bytes: string): string {
  let out = '"';
  const n = bytes.length;
  for (let i = 0; i < n; ) {
    const b0 = bytes.charCodeAt(i);
    if (b0 < 0x80) {
      out += quoteRune(b0, bytes[i]!);
      i++;
      continue;
    }
    const [rune, width] = decodeRune(bytes, i);
    if (rune < 0) {
      out += '\\x' + HEX_DIGITS[b0 >> 4] + HEX_DIGITS[b0 & 15];
      i++;
      continue;
    }
    const ch = String.fromCodePoint(rune);
    const q = quoteRune(rune, ch);
    out += q === ch ? bytes.slice(i, i + width) : q;
    i += width;
  }
  return out + '"';
}

/** utf8.DecodeRune over a byte string: [rune, width], or [-1, 1] for an invalid sequence. */
function decodeRune(s: string, i: number): [number, number] {
  const b0 = s.charCodeAt(i);
  const cont = (k: number): number => {
    const b = i + k < s.length ? s.charCodeAt(i + k) : -1;
    return b >= 0x80 && b <= 0xbf ? b & 0x3f : -1;
  };
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    const c1 = cont(1);
    return c1 < 0 ? [-1, 1] : [((b0 & 0x1f) << 6) | c1, 2];
  }
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const c1 = cont(1);
    const c2 = cont(2);
    if (c1 < 0 || c2 < 0) return [-1, 1];
    const r = ((b0 & 0x0f) << 12) | (c1 << 6) | c2;
    if (r < 0x800 || (r >= 0xd800 && r <= 0xdfff)) return [-1, 1];
    return [r, 3];
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const c1 = cont(1);
    const c2 = cont(2);
    const c3 = cont(3);
    if (c1 < 0 || c2 < 0 || c3 < 0) return [-1, 1];
    const r = ((b0 & 0x07) << 18) | (c1 << 12) | (c2 << 6) | c3;
    if (r < 0x10000 || r > 0x10ffff) return [-1, 1];
    return [r, 4];
  }
  return [-1, 1];
}
