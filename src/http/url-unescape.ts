/**
 * Go's `url.QueryUnescape` and `url.PathUnescape`: one byte-level `%XX` decoder shared by the
 * query parser and the router's path parameters, so both refuse the same malformed escapes.
 */

function hexVal(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * Decodes `%XX` escapes byte by byte (so escaped UTF-8 sequences come out as one character);
 * `plusIsSpace` selects query rules (`+` → space) over path rules (`+` stays). Undefined on a
 * bad escape. Strings without escapes are returned as they are, without copying.
 */
export function percentUnescape(s: string, plusIsSpace: boolean): string | undefined {
  if (s.indexOf('%') === -1 && (!plusIsSpace || s.indexOf('+') === -1)) return s;
  const src = Buffer.from(s, 'utf8');
  const out = Buffer.allocUnsafe(src.length);
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src.readUInt8(i);
    if (c === 0x25) {
      // A `%` without two bytes after it reads undefined there, which hexVal rejects.
      const hi = hexVal(src[i + 1]);
      const lo = hexVal(src[i + 2]);
      if (hi < 0 || lo < 0) return undefined;
      out[n++] = (hi << 4) | lo;
      i += 2;
    } else if (c === 0x2b && plusIsSpace) {
      out[n++] = 0x20;
    } else {
      out[n++] = c;
    }
  }
  return out.toString('utf8', 0, n);
}

/** Go's url.QueryUnescape: `+` → space, `%XX` → byte; undefined on a bad escape. */
export function queryUnescape(s: string): string | undefined {
  return percentUnescape(s, true);
}

/** Go's url.PathUnescape (`+` stays `+`); undefined on a bad escape. */
export function pathUnescape(s: string): string | undefined {
  return percentUnescape(s, false);
}
