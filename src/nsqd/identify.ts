import { ProtocolError } from '../protocol/errors.js';
import { goJson } from '../http/respond.js';
import { scanObjectMembers } from './identify-json.js';
import type { NsqdOptions } from './options.js';

/**
 * IDENTIFY (docs/protocol.md, IDENTIFY): decoding with Go encoding/json's rules (unknown keys ignored,
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


const decodeError = () => new ProtocolError('E_BAD_BODY', 'IDENTIFY failed to decode JSON body');

/**
 * encoding/json matches keys to fields case-insensitively with Unicode simple folding; for our
 * all-lowercase ASCII field names that is lower-casing plus `ſ` (U+017F) → `s`
 * (`toLowerCase` already maps the Kelvin sign U+212A to `k`).
 */
function foldKey(key: string): string {
  return key.toLowerCase().replace(/\u017f/g, 's');
}

/** Field names by length, for matching keys without building strings. */
const FIELDS_BY_LENGTH: ReadonlyMap<number, ReadonlyArray<keyof IdentifyData>> = (() => {
  const m = new Map<number, Array<keyof IdentifyData>>();
  for (const k of Object.keys(FIELDS) as Array<keyof IdentifyData>) {
    const list = m.get(k.length) ?? [];
    list.push(k);
    m.set(k.length, list);
  }
  return m;
})();

/** One UTF-16 unit folded as foldKey does for our ASCII field names. */
function foldUnit(c: number): number {
  if (c >= 0x41 && c <= 0x5a) return c | 0x20;
  if (c === 0x17f) return 0x73; // ſ → s
  if (c === 0x212a) return 0x6b; // Kelvin sign → k
  return c;
}

/** The field a raw key (`s[ks..ke)`, quotes included) names, if any; no allocation unless escaped. */
function matchField(s: string, ks: number, ke: number): keyof IdentifyData | undefined {
  const start = ks + 1;
  const len = ke - 1 - start;
  for (let j = start; j < ke - 1; j++) {
    if (s.charCodeAt(j) === 0x5c) return FIELD_BY_FOLDED_KEY.get(foldKey(JSON.parse(s.slice(ks, ke)) as string));
  }
  const candidates = FIELDS_BY_LENGTH.get(len);
  if (candidates === undefined) return undefined;
  next: for (const f of candidates) {
    for (let j = 0; j < len; j++) if (foldUnit(s.charCodeAt(start + j)) !== f.charCodeAt(j)) continue next;
    return f;
  }
  return undefined;
}

/**
 * Decodes the IDENTIFY JSON body like Go's json.Unmarshal into the original's struct, or throws
 * E_BAD_BODY: the whole text must be valid JSON nested at most 10,000 deep (Go's
 * maxNestingDepth), unknown keys ignored, `null` leaves the default, keys matched
 * case-insensitively, duplicate keys applied in order (the last wins, but a wrong type anywhere
 * fails), numbers for int fields must be integer literals (`1000.0` and `1e3` fail, as
 * strconv.ParseInt does) within int64 (int32 for sample_rate). Values beyond 2^53 are kept as
 * the nearest double. One linear pass: no value is built for unknown keys or nested data.
 */
export function decodeIdentify(body: Buffer): IdentifyData {
  const gen = decodeIdentifySliced(body);
  for (;;) {
    const r = gen.next();
    if (r.done === true) return r.value;
  }
}

/** decodeIdentify as a resumable computation that yields now and then (see runSliced). */
export function* decodeIdentifySliced(body: Buffer): Generator<void, IdentifyData, void> {
  const text = body.toString('utf8');
  // The last non-null occurrence of each field (an earlier one only has to have the right type).
  const last = new Map<keyof IdentifyData, [number, number]>();
  let typeOk = true;
  try {
    const isObject = yield* scanObjectMembers(text, (s, ks, ke, vs, ve) => {
      const field = matchField(s, ks, ke);
      if (field === undefined || !typeOk) return;
      const c = s.charCodeAt(vs);
      if (c === 0x6e) return; // null
      const t = FIELDS[field];
      if (t === 'string') typeOk = c === 0x22;
      else if (t === 'bool') typeOk = c === 0x74 || c === 0x66;
      else typeOk = isIntInRange(s, vs, ve, t === 'int32' ? INT32_LIMITS : INT64_LIMITS);
      last.set(field, [vs, ve]);
    });
    if (!isObject) return {};
  } catch {
    throw decodeError();
  }
  if (!typeOk) throw decodeError();
  const out: Record<string, unknown> = {};
  for (const [field, [vs, ve]] of last) {
    const t = FIELDS[field];
    const raw = text.slice(vs, ve);
    out[field] = t === 'string' ? (JSON.parse(raw) as string) : t === 'bool' ? raw === 'true' : Number(BigInt(raw));
  }
  return out as IdentifyData;
}

/** Decimal digits of the largest positive and the most negative value of a signed int type. */
interface IntLimits {
  max: string;
  min: string;
}
const INT64_LIMITS: IntLimits = { max: '9223372036854775807', min: '9223372036854775808' };
const INT32_LIMITS: IntLimits = { max: '2147483647', min: '2147483648' };

/**
 * `s[vs..ve)` (a valid JSON number) is an integer literal within the limits, as strconv.ParseInt
 * accepts it: no fraction or exponent. Compared digit by digit, without building a number.
 */
function isIntInRange(s: string, vs: number, ve: number, limits: IntLimits): boolean {
  let i = vs;
  const negative = s.charCodeAt(i) === 0x2d;
  if (negative) i++;
  for (let j = i; j < ve; j++) {
    const c = s.charCodeAt(j);
    if (c < 0x30 || c > 0x39) return false;
  }
  const bound = negative ? limits.min : limits.max;
  const len = ve - i;
  if (len !== bound.length) return len < bound.length;
  for (let j = 0; j < len; j++) {
    const d = s.charCodeAt(i + j) - bound.charCodeAt(j);
    if (d !== 0) return d < 0;
  }
  return true;
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
