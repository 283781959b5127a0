/**
 * A single-pass JSON scanner for IDENTIFY bodies: checks the whole text against the JSON grammar
 * (as Go encoding/json's checkValid does before decoding) and reports the top-level object's
 * members, without building any value. Iterative, with Go's nesting limit (maxNestingDepth
 * 10000: deeper input is a syntax error), so a 5 MiB body of brackets or of 400k keys costs one
 * linear pass and no garbage per key.
 */

/** Go encoding/json's maxNestingDepth. */
export const MAX_NESTING_DEPTH = 10000;

/** The text is not valid JSON (or nests deeper than MAX_NESTING_DEPTH). */
export class JsonSyntaxError extends Error {}

/** The top-level value is valid JSON but neither an object nor `null`. */
export class JsonNotObjectError extends Error {}

/**
 * Receives each top-level member: the key's raw text including its quotes (`s.slice(keyStart,
 * keyEnd)`) and the value's bounds. Called in source order.
 */
export type MemberSink = (s: string, keyStart: number, keyEnd: number, valueStart: number, valueEnd: number) => void;

const OBJ = 1;
const ARR = 2;

const enum Next {
  Value,
  Key,
  After,
}

function syntax(): JsonSyntaxError {
  return new JsonSyntaxError('invalid JSON');
}

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function skipWs(s: string, i: number): number {
  while (i < s.length && isWs(s.charCodeAt(i))) i++;
  return i;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** `i` at an opening quote; the index after the closing one. */
function scanString(s: string, i: number): number {
  const n = s.length;
  for (i++; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) return i + 1;
    if (c < 0x20) throw syntax();
    if (c === 0x5c) {
      const e = s.charCodeAt(++i);
      if (e === 0x75) {
        if (!(isHex(s.charCodeAt(i + 1)) && isHex(s.charCodeAt(i + 2)) && isHex(s.charCodeAt(i + 3)) && isHex(s.charCodeAt(i + 4)))) {
          throw syntax();
        }
        i += 4;
      } else if (!(e === 0x22 || e === 0x5c || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74)) {
        throw syntax();
      }
    }
  }
  throw syntax();
}

function scanDigits(s: string, i: number): number {
  if (!isDigit(s.charCodeAt(i))) throw syntax();
  while (isDigit(s.charCodeAt(i))) i++;
  return i;
}

function scanNumber(s: string, i: number): number {
  if (s.charCodeAt(i) === 0x2d) i++;
  if (s.charCodeAt(i) === 0x30) i++;
  else i = scanDigits(s, i);
  if (s.charCodeAt(i) === 0x2e) i = scanDigits(s, i + 1);
  const e = s.charCodeAt(i);
  if (e === 0x65 || e === 0x45) {
    i++;
    const sign = s.charCodeAt(i);
    if (sign === 0x2b || sign === 0x2d) i++;
    i = scanDigits(s, i);
  }
  return i;
}

function scanLiteral(s: string, i: number, word: string): number {
  if (!s.startsWith(word, i)) throw syntax();
  return i + word.length;
}

/** Tokens scanned between two yields of scanObjectMembers. */
const TOKENS_PER_SLICE = 1 << 16;

/**
 * Validates `s` as one JSON value. For a top-level object, `sink` gets its members; returns
 * false for a top-level `null`, true for an object; throws JsonNotObjectError for any other
 * valid value and JsonSyntaxError for invalid text. Yields every TOKENS_PER_SLICE tokens so a
 * caller can spread a large text over several turns of the event loop (see runSliced).
 */
export function* scanObjectMembers(s: string, sink: MemberSink): Generator<void, boolean, void> {
  const stack = new Uint8Array(MAX_NESTING_DEPTH + 1);
  let depth = 0;
  let i = skipWs(s, 0);
  const first = s.charCodeAt(i);
  let next: Next = Next.Value;
  let keyStart = -1;
  let keyEnd = -1;
  let valueStart = -1;
  let tokens = 0;
  for (;;) {
    if (++tokens === TOKENS_PER_SLICE) {
      tokens = 0;
      yield;
    }
    if (next === Next.Value) {
      const c = s.charCodeAt(i);
      if (c === 0x7b || c === 0x5b) {
        if (++depth > MAX_NESTING_DEPTH) throw syntax();
        stack[depth] = c === 0x7b ? OBJ : ARR;
        i = skipWs(s, i + 1);
        const close = s.charCodeAt(i);
        if ((c === 0x7b && close === 0x7d) || (c === 0x5b && close === 0x5d)) {
          i++;
          depth--;
          next = Next.After;
        } else {
          next = c === 0x7b ? Next.Key : Next.Value;
        }
        continue;
      }
      if (c === 0x22) i = scanString(s, i);
      else if (c === 0x2d || isDigit(c)) i = scanNumber(s, i);
      else if (c === 0x74) i = scanLiteral(s, i, 'true');
      else if (c === 0x66) i = scanLiteral(s, i, 'false');
      else if (c === 0x6e) i = scanLiteral(s, i, 'null');
      else throw syntax();
      next = Next.After;
      continue;
    }
    if (next === Next.Key) {
      if (s.charCodeAt(i) !== 0x22) throw syntax();
      const ks = i;
      i = scanString(s, i);
      const ke = i;
      i = skipWs(s, i);
      if (s.charCodeAt(i) !== 0x3a) throw syntax();
      i = skipWs(s, i + 1);
      if (depth === 1) {
        keyStart = ks;
        keyEnd = ke;
        valueStart = i;
      }
      next = Next.Value;
      continue;
    }
    // After a value.
    if (depth === 1 && keyStart >= 0) {
      sink(s, keyStart, keyEnd, valueStart, i);
      keyStart = -1;
    }
    i = skipWs(s, i);
    if (depth === 0) {
      if (i !== s.length) throw syntax();
      break;
    }
    const c = s.charCodeAt(i);
    if (c === 0x2c) {
      i = skipWs(s, i + 1);
      next = stack[depth] === OBJ ? Next.Key : Next.Value;
    } else if ((c === 0x7d && stack[depth] === OBJ) || (c === 0x5d && stack[depth] === ARR)) {
      i++;
      depth--;
    } else {
      throw syntax();
    }
  }
  if (first === 0x7b) return true;
  if (first === 0x6e) return false;
  throw new JsonNotObjectError('not an object');
}
