/**
 * Query-string access with the original's semantics (Go `url.ParseQuery`): the raw query only,
 * the first value of a repeated key wins, and a malformed query (bad `%` escape, `;` separator)
 * is a `400 INVALID_REQUEST`.
 */

import { HttpApiError } from './api-error.js';

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** Go's url.QueryUnescape: `+` → space, `%XX` → byte; undefined on a bad escape. */
export function queryUnescape(s: string): string | undefined {
  if (s.indexOf('%') === -1 && s.indexOf('+') === -1) return s;
  const src = Buffer.from(s, 'utf8');
  const out = Buffer.allocUnsafe(src.length);
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === 0x25) {
      if (i + 2 >= src.length) return undefined;
      const hi = hexVal(src[i + 1]);
      const lo = hexVal(src[i + 2]);
      if (hi < 0 || lo < 0) return undefined;
      out[n++] = (hi << 4) | lo;
      i += 2;
    } else if (c === 0x2b) {
      out[n++] = 0x20;
    } else {
      out[n++] = c;
    }
  }
  return out.toString('utf8', 0, n);
}

/** Parsed query parameters of one request. */
export class Query {
  #values: Map<string, string[]>;

  private constructor(values: Map<string, string[]>) {
    this.#values = values;
  }

  /** Parses a raw query string (without `?`); throws HttpApiError(400, 'INVALID_REQUEST'). */
  static parse(rawQuery: string): Query {
    const values = new Map<string, string[]>();
    let bad = false;
    if (rawQuery !== '') {
      for (const part of rawQuery.split('&')) {
        // Go keeps parsing after an error but reports it; the request is refused either way.
        if (part.indexOf(';') !== -1) {
          bad = true;
          continue;
        }
        if (part === '') continue;
        const eq = part.indexOf('=');
        const key = queryUnescape(eq === -1 ? part : part.slice(0, eq));
        const value = queryUnescape(eq === -1 ? '' : part.slice(eq + 1));
        if (key === undefined || value === undefined) {
          bad = true;
          continue;
        }
        const list = values.get(key);
        if (list) list.push(value);
        else values.set(key, [value]);
      }
    }
    if (bad) throw new HttpApiError(400, 'INVALID_REQUEST');
    return new Query(values);
  }

  /** The first value of `key`, or undefined when absent. */
  get(key: string): string | undefined {
    return this.#values.get(key)?.[0];
  }

  has(key: string): boolean {
    return this.#values.has(key);
  }

  /** Every value of `key` in order (empty when absent). */
  getAll(key: string): string[] {
    return this.#values.get(key)?.slice() ?? [];
  }
}
