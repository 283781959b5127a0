/**
 * Request bodies of the write actions, decoded the way Go's `json.NewDecoder(body).Decode(&struct)`
 * does: the first JSON value must be an object (or null); listed fields must have the right type;
 * other fields are ignored. Failures are `400` with Go's error wording.
 */

import { HttpApiError } from '../http/api-error.js';
import type { HttpContext } from '../http/router.js';

/** Field name → expected JSON type. */
export type BodySchema = Record<string, 'string'>;

function jsonTypeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v === 'object' ? 'object' : typeof v;
}

/**
 * Go's message for a body that is not valid JSON: the offending character, or `EOF` /
 * `unexpected EOF` when the text ends early.
 */
export function goJsonSyntaxError(text: string): string {
  const trimmed = text.trim();
  if (trimmed === '') return 'EOF';
  const first = trimmed.charAt(0);
  if (!/[{["\-0-9tfn]/.test(first)) return `invalid character '${first}' looking for beginning of value`;
  const literal = first === 't' ? 'true' : first === 'f' ? 'false' : first === 'n' ? 'null' : '';
  for (let i = 1; i < literal.length && i < trimmed.length; i++) {
    if (trimmed[i] !== literal[i]) return `invalid character '${trimmed[i]}' in literal ${literal} (expecting '${literal[i]}')`;
  }
  return 'unexpected EOF';
}

/** Decodes the body against `schema`; throws HttpApiError(400, <Go error text>). */
export function decodeJson(text: string, schema: BodySchema): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new HttpApiError(400, goJsonSyntaxError(text));
  }
  if (v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) {
    throw new HttpApiError(400, `json: cannot unmarshal ${jsonTypeName(v)} into Go value of type struct`);
  }
  const obj = v as Record<string, unknown>;
  for (const [field, type] of Object.entries(schema)) {
    const fv = obj[field];
    if (fv !== undefined && fv !== null && typeof fv !== type) {
      throw new HttpApiError(400, `json: cannot unmarshal ${jsonTypeName(fv)} into Go struct field .${field} of type ${type}`);
    }
  }
  return obj;
}

/** Reads (at most `limit` bytes of) the request body and decodes it. */
export async function decodeJsonBody(c: HttpContext, limit: number, schema: BodySchema): Promise<Record<string, unknown>> {
  const { body, tooBig } = await c.readBody(limit);
  if (tooBig) throw new HttpApiError(413, 'BODY_TOO_BIG');
  return decodeJson(body.toString('utf8'), schema);
}
