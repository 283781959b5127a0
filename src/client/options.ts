/**
 * Options shared by producers and consumers: what goes into IDENTIFY and how the transport behaves.
 * Defaults follow go-nsq's `config.go`; durations are milliseconds.
 */
import { hostname } from 'node:os';
import type * as tls from 'node:tls';
import { Logger } from '../lib/logger.js';

/** The library's version, reported in the default user agent. */
export const CLIENT_VERSION = '0.1.0';

/** Connection settings (IDENTIFY fields and transport limits). All optional. */
export interface ConnectionOptions {
  /** IDENTIFY `client_id` (default: short hostname). */
  clientId?: string;
  /** IDENTIFY `hostname` (default: os hostname). */
  hostname?: string;
  /** IDENTIFY `user_agent` (default `tsnsq/<version>`). */
  userAgent?: string;
  /** Server heartbeat interval in ms (default 30000); -1 disables (consumers then cannot SUB). */
  heartbeatInterval?: number;
  /** IDENTIFY `output_buffer_size` in bytes (default 16384; -1 disables buffering). */
  outputBufferSize?: number;
  /** IDENTIFY `output_buffer_timeout` in ms (default 250; -1 disables timed flushes). */
  outputBufferTimeout?: number;
  /** IDENTIFY `sample_rate` 0-99 (default 0 = every message). */
  sampleRate?: number;
  /** IDENTIFY `msg_timeout` in ms (default 0 = the server's). */
  msgTimeout?: number;
  /** Upgrade to TLS (`tls_v1`); an object gives Node TLS options (CA, client cert, servername…). */
  tls?: boolean | tls.ConnectionOptions;
  /** Ask for Snappy framing compression. */
  snappy?: boolean;
  /** Ask for raw DEFLATE compression. */
  deflate?: boolean;
  /** DEFLATE level 1-9 (default 6). */
  deflateLevel?: number;
  /** Secret sent with AUTH when the server requires it (also sent to lookupd as a Bearer token). */
  authSecret?: string;
  /** TCP connect + handshake timeout in ms (default 1000 for dial, handshake bounded by readTimeout). */
  dialTimeout?: number;
  /** Idle read timeout in ms (default 60000); must exceed the heartbeat interval. */
  readTimeout?: number;
  /** Write timeout in ms (default 1000): a connection whose written bytes stay unsent longer is closed. */
  writeTimeout?: number;
  /** Largest frame accepted from the server in bytes (default 0 = 64 MiB cap). */
  maxMsgSize?: number;
  /** IDENTIFY `topology_region` / `topology_zone` (post-1.3.0 servers; ignored by older ones). */
  topologyRegion?: string;
  topologyZone?: string;
  /** Local address to bind outgoing connections to (go-nsq `local_addr`). */
  localAddress?: string;
  /** Where the library logs (NSQ log format); default: warnings and errors to stderr. */
  logger?: Logger;
}

/** ConnectionOptions with every default applied. */
export interface ResolvedConnectionOptions {
  clientId: string;
  hostname: string;
  userAgent: string;
  heartbeatInterval: number;
  outputBufferSize: number;
  outputBufferTimeout: number;
  sampleRate: number;
  msgTimeout: number;
  tls: false | tls.ConnectionOptions;
  snappy: boolean;
  deflate: boolean;
  deflateLevel: number;
  authSecret: string;
  dialTimeout: number;
  readTimeout: number;
  writeTimeout: number;
  maxMsgSize: number;
  topologyRegion: string;
  topologyZone: string;
  localAddress: string;
}

const DEFAULT_MAX_FRAME = 64 * 1024 * 1024;

/** Applies go-nsq's defaults. */
export function resolveConnectionOptions(o: ConnectionOptions = {}): ResolvedConnectionOptions {
  const host = o.hostname ?? hostname();
  return {
    clientId: o.clientId ?? host.split('.')[0]!,
    hostname: host,
    userAgent: o.userAgent ?? `tsnsq/${CLIENT_VERSION}`,
    heartbeatInterval: o.heartbeatInterval ?? 30000,
    outputBufferSize: o.outputBufferSize ?? 16384,
    outputBufferTimeout: o.outputBufferTimeout ?? 250,
    sampleRate: o.sampleRate ?? 0,
    msgTimeout: o.msgTimeout ?? 0,
    tls: o.tls === true ? {} : o.tls === undefined || o.tls === false ? false : o.tls,
    snappy: o.snappy ?? false,
    deflate: o.deflate ?? false,
    deflateLevel: o.deflateLevel ?? 6,
    authSecret: o.authSecret ?? '',
    dialTimeout: o.dialTimeout ?? 1000,
    readTimeout: o.readTimeout ?? 60000,
    writeTimeout: o.writeTimeout ?? 1000,
    maxMsgSize: o.maxMsgSize && o.maxMsgSize > 0 ? o.maxMsgSize : DEFAULT_MAX_FRAME,
    topologyRegion: o.topologyRegion ?? '',
    topologyZone: o.topologyZone ?? '',
    localAddress: o.localAddress ?? '',
  };
}

/** The IDENTIFY body go-nsq sends (`conn.go` identify), feature negotiation on. */
export function identifyBody(o: ResolvedConnectionOptions): Record<string, unknown> {
  return {
    client_id: o.clientId,
    hostname: o.hostname,
    user_agent: o.userAgent,
    short_id: o.clientId,
    long_id: o.hostname,
    tls_v1: o.tls !== false,
    deflate: o.deflate,
    deflate_level: o.deflateLevel,
    snappy: o.snappy,
    feature_negotiation: true,
    heartbeat_interval: o.heartbeatInterval,
    sample_rate: o.sampleRate,
    output_buffer_size: o.outputBufferSize,
    output_buffer_timeout: o.outputBufferTimeout,
    msg_timeout: o.msgTimeout,
    topology_region: o.topologyRegion,
    topology_zone: o.topologyZone,
  };
}

/** What the server granted in its IDENTIFY response (defaults when it answered a plain `OK`). */
export interface ServerFeatures {
  maxRdyCount: number;
  version: string;
  maxMsgTimeout: number;
  msgTimeout: number;
  tls: boolean;
  deflate: boolean;
  deflateLevel: number;
  snappy: boolean;
  authRequired: boolean;
}

/** Parses the IDENTIFY response body; a body not starting with `{` means no negotiation (go-nsq). */
export function parseIdentifyResponse(body: Buffer): ServerFeatures {
  const base: ServerFeatures = {
    maxRdyCount: 2500,
    version: '',
    maxMsgTimeout: 0,
    msgTimeout: 0,
    tls: false,
    deflate: false,
    deflateLevel: 6,
    snappy: false,
    authRequired: false,
  };
  if (body[0] !== 0x7b) return base;
  const j = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  const num = (k: string, d: number) => (typeof j[k] === 'number' ? (j[k] as number) : d);
  return {
    maxRdyCount: num('max_rdy_count', base.maxRdyCount),
    version: typeof j['version'] === 'string' ? j['version'] : '',
    maxMsgTimeout: num('max_msg_timeout', 0),
    msgTimeout: num('msg_timeout', 0),
    tls: j['tls_v1'] === true,
    deflate: j['deflate'] === true,
    deflateLevel: num('deflate_level', 6),
    snappy: j['snappy'] === true,
    authRequired: j['auth_required'] === true,
  };
}

/** Splits `host:port` (IPv6 in brackets) for net.connect. */
export function splitHostPort(address: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(address) ?? /^([^:]*):(\d+)$/.exec(address);
  if (m === null) throw new Error(`invalid address "${address}": expected host:port`);
  return { host: m[1] === '' ? '127.0.0.1' : m[1]!, port: Number(m[2]) };
}

/** `host:port` with IPv6 hosts bracketed (Go's net.JoinHostPort). */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The logger used when none is given: warnings and errors to stderr, NSQ line format. */
export function defaultLogger(): Logger {
  return new Logger('', 'warn');
}
