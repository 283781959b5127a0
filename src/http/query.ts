/**
 * Query-string access with the original's semantics (Go `url.ParseQuery`): the raw query only,
 * the first value of a repeated key wins, and a malformed query (bad `%` escape, `;` separator)
 * is a `400 INVALID_REQUEST`.
 */

import { HttpApiError } from './api-error.js';
import { queryUnescape } from './url-unescape.js';

export { queryUnescape };

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
