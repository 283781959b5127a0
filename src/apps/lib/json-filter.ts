/**
 * nsq_to_nsq's JSON filters (`--require-json-field`, `--require-json-value`,
 * `--whitelist-json-field`), after upstream `apps/nsq_to_nsq/nsq_to_nsq.go`
 * shouldPassMessage/filterMessage.
 */
import { goJson } from '../../http/respond.js';
import { parseGoFloat } from '../../lib/flags.js';

/** The decision for one message: forward it, drop it (FIN), or fail it (REQ with backoff). */
export type FilterVerdict = { kind: 'pass'; body: Buffer } | { kind: 'drop'; why?: string } | { kind: 'backoff'; why: string };

/** The filter flags. */
export interface JsonFilterOptions {
  requireJsonField: string;
  requireJsonValue: string;
  whitelistJsonFields: readonly string[];
}

/** True when any filter is configured (otherwise bodies are forwarded untouched, unparsed). */
export function filtersEnabled(o: JsonFilterOptions): boolean {
  return o.requireJsonField !== '' || o.whitelistJsonFields.length > 0;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Go's json.Marshal of a map: keys sorted, HTML-safe escaping, nested maps likewise. */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (!isObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) out[k] = sortKeys(v[k]);
  return out;
}

/** strconv.ParseFloat, or undefined when the flag is not a number (then it cannot match one). */
function goFloatOrUndefined(s: string): number | undefined {
  try {
    return parseGoFloat(s);
  } catch {
    return undefined;
  }
}

/** Applies the filters to one message body. */
export function applyJsonFilter(o: JsonFilterOptions, body: Buffer): FilterVerdict {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return { kind: 'drop', why: `Unable to decode json: ${body.toString('utf8')}` };
  }
  if (o.requireJsonField !== '') {
    const has = isObject(json) && Object.hasOwn(json, o.requireJsonField);
    if (!has) {
      if (o.requireJsonValue !== '') return { kind: 'backoff', why: 'missing field to check required value' };
      return { kind: 'drop' };
    }
    if (o.requireJsonValue !== '') {
      const val = (json as Record<string, unknown>)[o.requireJsonField];
      const wanted = o.requireJsonValue;
      const wantedNumber = goFloatOrUndefined(wanted);
      let pass: boolean;
      if (typeof val === 'string') pass = val === wanted;
      else if (wantedNumber !== undefined && typeof val === 'number') pass = val === wantedNumber;
      else pass = false;
      if (!pass) return { kind: 'drop' };
    }
  }
  if (o.whitelistJsonFields.length === 0) return { kind: 'pass', body };
  if (!isObject(json)) return { kind: 'backoff', why: 'filterMessage() failed: json is not an object' };
  const kept: Record<string, unknown> = {};
  for (const k of o.whitelistJsonFields) if (Object.hasOwn(json, k)) kept[k] = json[k];
  return { kind: 'pass', body: Buffer.from(goJson(sortKeys(kept))) };
}
