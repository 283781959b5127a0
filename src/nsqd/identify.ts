import { ProtocolError } from '../protocol/errors.js';
import { goJson } from '../http/respond.js';
import type { NsqdOptions } from './options.js';

/**
 * IDENTIFY (tcp-protocol.md §7.1): decoding with Go encoding/json's rules (unknown keys ignored,
 * null = absent, case-insensitive keys, strict types), validation in the original's order, and
 * the feature-negotiation reply. Pure: the connection applies the result.
 */
export interface IdentifyData {
  client_id?: string;
  hostname?: string;
  user_agent?: string;
  feature_negotiation?: boolean;
  heartbeat_interval?: number;
  output_buffer_size?: number;
  output_buffer_timeout?: number;
  tls_v1?: boolean;
  snappy?: boolean;
  deflate?: boolean;
  deflate_level?: number;
  sample_rate?: number;
  msg_timeout?: number;
  topology_region?: string;
  topology_zone?: string;
}

type FieldType = 'string' | 'bool' | 'int' | 'int32';
const FIELDS: Record<keyof IdentifyData, FieldType> = {
  client_id: 'string',
  hostname: 'string',
  user_agent: 'string',
  feature_negotiation: 'bool',
  heartbeat_interval: 'int',
  output_buffer_size: 'int',
  output_buffer_timeout: 'int',
  tls_v1: 'bool',
  snappy: 'bool',
  deflate: 'bool',
  deflate_level: 'int',
  sample_rate: 'int32',
  msg_timeout: 'int',
  topology_region: 'string',
  topology_zone: 'string',
};
/** Folded key → field (a Map: keys such as `constructor` or `__proto__` must not match). */
const FIELD_BY_FOLDED_KEY: ReadonlyMap<string, keyof IdentifyData> = new Map(
  (Object.keys(FIELDS) as Array<keyof IdentifyData>).map((k) => [k, k]),
);

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const INT32_MIN = -(2n ** 31n);
const INT32_MAX = 2n ** 31n - 1n;
const INT_LITERAL = /^-?[0-9]+$/;

const decodeError = () => new ProtocolError('E_BAD_BODY', 'IDENTIFY failed to decode JSON body');

/**
 * encoding/json matches keys to fields case-insensitively with Unicode simple folding; for our
 * all-lowercase ASCII field names that is lower-casing plus `ſ` (U+017F) → `s`
 * (`toLowerCase` already maps the Kelvin sign U+212A to `k`).
 */
function foldKey(key: string): string {
  return key.toLowerCase().replace(/\u017f/g, 's');
}

/**
 * Decodes the IDENTIFY JSON body like Go's json.Unmarshal into the original's struct, or throws
 * E_BAD_BODY: unknown keys ignored, `null` leaves the default, keys matched case-insensitively,
 * duplicate keys applied in order (the last wins, but a wrong type anywhere fails), numbers for
 * int fields must be integer literals (`1000.0` and `1e3` fail, as strconv.ParseInt does) within
 * int64 (int32 for sample_rate). Values beyond 2^53 are kept as the nearest double.
 */
export function decodeIdentify(body: Buffer): IdentifyData {
  const text = body.toString('utf8');
  try {
    JSON.parse(text); // syntax check; the members are then read from the source text
  } catch {
    throw decodeError();
  }
  const members = topLevelMembers(text);
  if (members === null) return {};
  const out: Record<string, unknown> = {};
  for (const [key, raw] of members) {
    const field = FIELD_BY_FOLDED_KEY.get(foldKey(key));
    if (field === undefined || raw === 'null') continue;
    const t = FIELDS[field];
    if (t === 'string') {
      if (raw[0] !== '"') throw decodeError();
      out[field] = JSON.parse(raw) as string;
    } else if (t === 'bool') {
      if (raw !== 'true' && raw !== 'false') throw decodeError();
      out[field] = raw === 'true';
    } else {
      if (!INT_LITERAL.test(raw)) throw decodeError();
      const v = BigInt(raw);
      if (t === 'int32' ? v < INT32_MIN || v > INT32_MAX : v < INT64_MIN || v > INT64_MAX) throw decodeError();
      out[field] = Number(v);
    }
  }
  return out as IdentifyData;
}

/**
 * The members of a syntactically valid JSON text's top-level object as [key, raw value text]
 * pairs in source order; null for a top-level `null`; throws for any other top-level value.
 */
function topLevelMembers(text: string): Array<[string, string]> | null {
  let i = skipWs(text, 0);
  if (text.startsWith('null', i)) return null;
  if (text[i] !== '{') throw decodeError();
  const members: Array<[string, string]> = [];
  i = skipWs(text, i + 1);
  if (text[i] === '}') return members;
  for (;;) {
    const keyEnd = skipString(text, i);
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    i = skipWs(text, skipWs(text, keyEnd) + 1); // past ':'
    const valueEnd = skipValue(text, i);
    members.push([key, text.slice(i, valueEnd)]);
    i = skipWs(text, valueEnd);
    if (text[i] === '}') return members;
    i = skipWs(text, i + 1); // past ','
  }
}

function skipWs(s: string, i: number): number {
  while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r')) i++;
  return i;
}

/** `i` is at an opening quote; returns the index after the closing one. */
function skipString(s: string, i: number): number {
  for (i++; s[i] !== '"'; i++) if (s[i] === '\\') i++;
  return i + 1;
}

function skipValue(s: string, i: number): number {
  const c = s[i];
  if (c === '"') return skipString(s, i);
  if (c === '{' || c === '[') {
    let depth = 0;
    for (;;) {
      const d = s[i];
      if (d === '"') {
        i = skipString(s, i);
        continue;
      }
      if (d === '{' || d === '[') depth++;
      else if (d === '}' || d === ']') depth--;
      i++;
      if (depth === 0) return i;
    }
  }
  while (i < s.length && !',}] \t\n\r'.includes(s[i]!)) i++;
  return i;
}

/** The connection settings IDENTIFY can change. */
export interface IdentifySettings {
  heartbeatIntervalMs: number; // 0 = disabled
  outputBufferSize: number;
  outputBufferTimeoutMs: number; // 0 = disabled
  sampleRate: number;
  msgTimeoutMs: number;
}

const invalid = (what: string, v: number) => new ProtocolError('E_BAD_BODY', `IDENTIFY ${what} (${v}) is invalid`);

/** Applies the requested values to `current` with the original's validation order and bounds. */
export function applyIdentify(d: IdentifyData, current: IdentifySettings, o: NsqdOptions): IdentifySettings {
  const s = { ...current };
  const hb = d.heartbeat_interval ?? 0;
  if (hb === -1) s.heartbeatIntervalMs = 0;
  else if (hb === 0) {
    /* keep */
  } else if (hb >= 1000 && hb <= Math.floor(o.maxHeartbeatInterval)) s.heartbeatIntervalMs = hb;
  else throw invalid('heartbeat interval', hb);

  const obt = d.output_buffer_timeout ?? 0;
  if (obt === -1) s.outputBufferTimeoutMs = 0;
  else if (obt === 0) {
    /* keep */
  } else if (obt >= Math.floor(o.minOutputBufferTimeout) && obt <= Math.floor(o.maxOutputBufferTimeout)) s.outputBufferTimeoutMs = obt;
  else throw invalid('output buffer timeout', obt);

  const obs = d.output_buffer_size ?? 0;
  if (obs === -1) {
    s.outputBufferSize = 1;
    s.outputBufferTimeoutMs = 0;
  } else if (obs === 0) {
    /* keep */
  } else if (obs >= 64 && obs <= o.maxOutputBufferSize) s.outputBufferSize = obs;
  else throw invalid('output buffer size', obs);

  const sr = d.sample_rate ?? 0;
  if (sr < 0 || sr > 99) throw invalid('sample rate', sr);
  s.sampleRate = sr;

  const mt = d.msg_timeout ?? 0;
  if (mt === 0) {
    /* keep */
  } else if (mt >= 1000 && mt <= Math.floor(o.maxMsgTimeout)) s.msgTimeoutMs = mt;
  else throw invalid('msg timeout', mt);
  return s;
}

/** Which upgrades were granted, plus the negotiated deflate level. */
export interface Negotiated {
  tls: boolean;
  snappy: boolean;
  deflate: boolean;
  deflateLevel: number;
}

export function negotiate(d: IdentifyData, o: NsqdOptions, tlsConfigured: boolean): Negotiated {
  const tls = tlsConfigured && d.tls_v1 === true;
  const deflate = o.deflate && d.deflate === true;
  const snappy = o.snappy && d.snappy === true;
  let level = 6;
  if (deflate && (d.deflate_level ?? 0) > 0) level = d.deflate_level!;
  level = Math.min(level, o.maxDeflateLevel);
  if (deflate && snappy) throw new ProtocolError('E_IDENTIFY_FAILED', 'cannot enable both deflate and snappy compression');
  return { tls, snappy, deflate, deflateLevel: level };
}

/** The feature-negotiation JSON, keys in the original's order, escaped as Go's encoder does. */
export function identifyResponse(
  o: NsqdOptions,
  version: string,
  s: IdentifySettings,
  n: Negotiated,
  authRequired: boolean,
): string {
  return goJson({
    max_rdy_count: o.maxRdyCount,
    version,
    max_msg_timeout: Math.floor(o.maxMsgTimeout),
    msg_timeout: s.msgTimeoutMs,
    tls_v1: n.tls,
    deflate: n.deflate,
    deflate_level: n.deflateLevel,
    max_deflate_level: o.maxDeflateLevel,
    snappy: n.snappy,
    sample_rate: s.sampleRate,
    auth_required: authRequired,
    output_buffer_size: s.outputBufferSize,
    output_buffer_timeout: s.outputBufferTimeoutMs,
    topology_region: o.topologyRegion,
    topology_zone: o.topologyZone,
  });
}
