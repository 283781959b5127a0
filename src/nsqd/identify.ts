import { ProtocolError } from '../protocol/errors.js';
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
const LOWER_FIELDS = new Map(Object.keys(FIELDS).map((k) => [k.toLowerCase(), k as keyof IdentifyData]));

const decodeError = () => new ProtocolError('E_BAD_BODY', 'IDENTIFY failed to decode JSON body');

/** Decodes the IDENTIFY JSON body or throws E_BAD_BODY. */
export function decodeIdentify(body: Buffer): IdentifyData {
  let raw: unknown;
  try {
    raw = JSON.parse(body.toString('utf8'));
  } catch {
    throw decodeError();
  }
  if (raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw decodeError();
  const out: Record<string, unknown> = {};
  const exact = new Set<string>();
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const field = (key in FIELDS ? key : LOWER_FIELDS.get(key.toLowerCase())) as keyof IdentifyData | undefined;
    if (field === undefined) continue;
    // An exact-case key wins over a case-folded duplicate, as in Go.
    if (exact.has(field) && key !== field) continue;
    if (key === field) exact.add(field);
    if (value === null) continue;
    const t = FIELDS[field];
    if (t === 'string') {
      if (typeof value !== 'string') throw decodeError();
    } else if (t === 'bool') {
      if (typeof value !== 'boolean') throw decodeError();
    } else {
      if (typeof value !== 'number' || !Number.isInteger(value)) throw decodeError();
      if (t === 'int32' && (value < -2147483648 || value > 2147483647)) throw decodeError();
      if (!Number.isSafeInteger(value)) throw decodeError();
    }
    out[field] = value;
  }
  return out as IdentifyData;
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

/** The feature-negotiation JSON, keys in the original's order. */
export function identifyResponse(
  o: NsqdOptions,
  version: string,
  s: IdentifySettings,
  n: Negotiated,
  authRequired: boolean,
): string {
  return JSON.stringify({
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
