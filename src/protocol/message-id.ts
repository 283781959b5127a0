/**
 * Message IDs as numbers. On the wire an ID is 16 bytes, in practice 16 lowercase hex digits
 * (upstream `nsqd/guid.go` Hex): such an ID is held as its two 32-bit halves, so that delivering
 * and FINishing a message needs no string. Any other 16 bytes (an ID read from a foreign disk
 * queue, or sent by a client) stay text; their halves are then a hash of that text.
 *
 * A half is kept as a signed int32 (the uint32 the digits spell, reinterpreted): V8 holds those
 * as small integers, where a uint32 above 2^31 would be a heap number boxed in every message
 * and made anew by every FIN parsed.
 */

/** 0-15 for a lowercase hex digit, else -1 (uppercase digits are a different ID on the wire). */
const HEX_VALUE = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX_VALUE[0x30 + i] = i;
for (let i = 0; i < 6; i++) HEX_VALUE[0x61 + i] = 10 + i;
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');

/** Whether the 16 bytes at `buf[off]` are lowercase hex digits (an ID held as halves). */
export function isHexId(buf: Uint8Array, off: number): boolean {
  let bad = 0;
  for (let i = off; i < off + 16; i++) bad |= HEX_VALUE[buf[i]!]!;
  return bad >= 0;
}

/** The half spelled by 8 lowercase hex digits at `buf[off]`, as an int32; check them with isHexId first. */
export function hex32FromBytes(buf: Uint8Array, off: number): number {
  let v = 0;
  for (let i = off; i < off + 8; i++) v = (v << 4) | HEX_VALUE[buf[i]!]!;
  return v;
}

/** The half spelled by 8 lowercase hex digits at `s[off]` as an int32, or null if any is something else. */
function hex32FromString(s: string, off: number): number | null {
  let v = 0;
  for (let i = off; i < off + 8; i++) {
    const c = s.charCodeAt(i);
    const d = c < 256 ? HEX_VALUE[c]! : -1;
    if (d < 0) return null;
    v = (v << 4) | d;
  }
  return v;
}

/** Writes `v` as 8 lowercase hex digits at `buf[off]`. */
export function writeHex32(buf: Uint8Array, off: number, v: number): void {
  for (let i = off + 7; i >= off; i--) {
    buf[i] = HEX_DIGITS[v & 15]!;
    v >>>= 4;
  }
}

const scratch = Buffer.allocUnsafe(16);

/** The 16-digit text of an ID held as halves. */
export function idText(hi: number, lo: number): string {
  writeHex32(scratch, 0, hi);
  writeHex32(scratch, 8, lo);
  return scratch.toString('latin1', 0, 16);
}

/** FNV-1a of a non-hex ID's text: the number its lookups are keyed by. */
export function hashIdText(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h | 0;
}

/**
 * A hash of an ID's halves, a small integer (a V8 Smi: no allocation) whose low bits depend on
 * every bit of the ID (murmur3's finalizer): generated IDs differ mostly in their sequence and
 * millisecond bits, which a plain mask would keep apart poorly.
 */
export function idKey(hi: number, lo: number): number {
  let h = lo ^ Math.imul(hi, 0x9e3779b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h & 0x3fffffff;
}

/** An ID as a FIN/REQ/TOUCH names it or a message holds it: halves, and text when not hex. */
export interface MessageIdRef {
  readonly idHi: number;
  readonly idLo: number;
  /** The text of an ID that is not 16 lowercase hex digits, else null. */
  readonly idRaw: string | null;
}

/** The ref of an ID given as text. */
export function idRefFromText(text: string): MessageIdRef {
  const hi = text.length === 16 ? hex32FromString(text, 0) : null;
  const lo = hi === null ? null : hex32FromString(text, 8);
  if (hi === null || lo === null) return { idHi: hashIdText(text), idLo: text.length, idRaw: text };
  return { idHi: hi, idLo: lo, idRaw: null };
}

/** The text of an ID ref. */
export function idRefText(id: MessageIdRef): string {
  return id.idRaw ?? idText(id.idHi, id.idLo);
}
