/**
 * nsqd's options: every flag of the original with its default, config-file key and validation
 * (upstream `nsqd/options.go`, `apps/nsqd/options.go`), plus the /config/:opt read-out (upstream `nsqd/http.go` doConfig).
 *
 * Naming: field = camelCase of the flag name; durations are milliseconds; arrays are plain arrays.
 */

import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import * as zlib from 'node:zlib';
import { FlagError, formatUsage, parseGoBool, resolveFlags, fieldOf, configKeyOf, type FlagSpec } from '../lib/flags.js';
import { logLevelNumber, parseLogLevel, type LogLevel } from '../lib/logger.js';
import { msToNs } from '../lib/duration.js';

export const NSQD_VERSION = '1.3.0';

/** `--tls-required`: 0 not required, 1 required except HTTP (`tcp-https`), 2 required. */
export type TlsRequired = 0 | 1 | 2;
export const TLS_NOT_REQUIRED = 0;
export const TLS_REQUIRED_EXCEPT_HTTP = 1;
export const TLS_REQUIRED = 2;

/** The value of `--enable-experiment` that turns on topology-aware consumption (docs/compatibility.md). */
export const EXPERIMENT_TOPOLOGY_AWARE_CONSUMPTION = 'topology-aware-consumption';

/** Every resolved nsqd setting. Durations are in milliseconds. */
export interface NsqdOptions {
  logLevel: LogLevel;
  logPrefix: string;
  /** `--node-id` (config key `id`), 0 ≤ id < 1024; feeds message IDs. */
  nodeId: number;
  tcpAddress: string;
  httpAddress: string;
  httpsAddress: string;
  broadcastAddress: string;
  broadcastTcpPort: number;
  broadcastHttpPort: number;
  /** `--lookupd-tcp-address` (config key `nsqlookupd_tcp_addresses`). */
  lookupdTcpAddresses: string[];
  /** `--auth-http-address` (config key `auth_http_addresses`). */
  authHttpAddresses: string[];
  authHttpRequestMethod: 'get' | 'post';
  httpClientConnectTimeout: number;
  httpClientRequestTimeout: number;
  topologyRegion: string;
  topologyZone: string;
  dataPath: string;
  memQueueSize: number;
  maxBytesPerFile: number;
  syncEvery: number;
  syncTimeout: number;
  queueScanWorkerPoolMax: number;
  queueScanSelectionCount: number;
  msgTimeout: number;
  maxMsgTimeout: number;
  maxMsgSize: number;
  maxBodySize: number;
  maxReqTimeout: number;
  /** Extension (`--max-defer-timeout`, unmerged upstream PR #1504): DPUB / `defer` bound; defaults to maxReqTimeout. */
  maxDeferTimeout: number;
  maxHeartbeatInterval: number;
  maxRdyCount: number;
  maxOutputBufferSize: number;
  maxOutputBufferTimeout: number;
  minOutputBufferTimeout: number;
  outputBufferTimeout: number;
  maxChannelConsumers: number;
  statsdAddress: string;
  statsdPrefix: string;
  statsdInterval: number;
  statsdMemStats: boolean;
  statsdUdpPacketSize: number;
  statsdExcludeEphemeral: boolean;
  /** `--e2e-processing-latency-percentile` values, sorted descending. */
  e2eProcessingLatencyPercentiles: number[];
  e2eProcessingLatencyWindowTime: number;
  tlsCert: string;
  tlsKey: string;
  tlsClientAuthPolicy: string;
  tlsRootCaFile: string;
  tlsRequired: TlsRequired;
  /** `tls1.0` … `tls1.3` (lower case). */
  tlsMinVersion: string;
  deflate: boolean;
  maxDeflateLevel: number;
  snappy: boolean;
  /** `--enable-experiment` values. */
  enableExperiment: string[];
  // Opt-in queue extensions (docs/extensions.md); 0 = off, the original's behaviour.
  /** `--max-attempts`: deliveries after which a requeued or timed-out message is dead-lettered. */
  maxAttempts: number;
  /** `--dead-letter-topic-suffix`: the dead-letter topic of topic T is T + suffix. */
  deadLetterTopicSuffix: string;
  /** `--msg-ttl`: age after which an undelivered message is dropped at delivery time. */
  msgTtl: number;
  /** `--max-depth`: per topic/channel queue bound. */
  maxDepth: number;
  /** `--max-depth-policy`: `reject` or `drop-oldest`. */
  maxDepthPolicy: string;
  /** `--disk-checksums`: new disk-queue segments get per-record CRC32C (docs/disk-format.md). */
  diskChecksums: boolean;
  /** `--durable-inflight`: in-flight and deferred messages are journaled and survive a crash (docs/extensions.md). */
  durableInflight: boolean;

  // Fixed internals with no flag (upstream `nsqd/options.go` NewOptions).
  clientTimeout: number;
  queueScanInterval: number;
  queueScanRefreshInterval: number;
  queueScanDirtyPercent: number;
}

/** Go's `crc32.ChecksumIEEE`; zlib.crc32 exists from Node 20.15, the table is a fallback. */
function crc32Ieee(data: Buffer): number {
  const native = (zlib as unknown as { crc32?: (d: Buffer) => number }).crc32;
  if (typeof native === 'function') return native(data) >>> 0;
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** The original's default node id: `crc32(md5(hostname)) % 1024`. */
export function defaultNodeId(host: string = hostname()): number {
  return crc32Ieee(createHash('md5').update(host).digest()) % 1024;
}

const TLS_VERSIONS: ReadonlyMap<string, number> = new Map([
  ['tls1.0', 0x0301],
  ['tls1.1', 0x0302],
  ['tls1.2', 0x0303],
  ['tls1.3', 0x0304],
]);

/** Go's `tls.VersionTLS1x` constant for a `--tls-min-version` value (769 … 772). */
export function tlsVersionNumber(v: string): number {
  return TLS_VERSIONS.get(v.toLowerCase()) ?? 0x0301;
}

/** Node's `minVersion` name for a `--tls-min-version` value. */
export function tlsVersionNodeName(v: string): 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3' {
  switch (v.toLowerCase()) {
    case 'tls1.1':
      return 'TLSv1.1';
    case 'tls1.2':
      return 'TLSv1.2';
    case 'tls1.3':
      return 'TLSv1.3';
    default:
      return 'TLSv1';
  }
}

function parseLogLevelFlag(s: string): LogLevel {
  const l = parseLogLevel(s);
  if (!l) throw new Error(`invalid log level '${s}' (debug, info, warn, error, fatal)`);
  return l;
}

function parseTlsRequired(s: string): TlsRequired {
  const l = s.toLowerCase();
  if (l === 'tcp-https') return TLS_REQUIRED_EXCEPT_HTTP;
  const b = parseGoBool(l);
  if (b === undefined) throw new Error('parse error');
  return b ? TLS_REQUIRED : TLS_NOT_REQUIRED;
}

/** `""` keeps the default, as the original's flag does. */
function parseTlsMinVersion(s: string): string {
  const l = s.toLowerCase();
  if (l === '') return 'tls1.0';
  if (!TLS_VERSIONS.has(l)) throw new Error(`unknown tlsVersionOption ${JSON.stringify(l)}`);
  return l;
}

const DEFER_DEFAULT = Number.NaN; // "not given": becomes max-req-timeout after resolution

/** The flag table; `default` values for host-dependent flags are filled per call. */
function nsqdFlagSpecs(host: string, nodeId: number): FlagSpec[] {
  return [
    { name: 'version', type: 'bool', default: false, usage: 'print version string', configKey: null },
    { name: 'config', type: 'string', default: '', usage: 'path to config file', configKey: null },
    { name: 'log-level', type: 'string', default: 'info', usage: 'set log verbosity: debug, info, warn, error, or fatal', parse: parseLogLevelFlag, typeName: 'value', defaultText: 'INFO' },
    { name: 'log-prefix', type: 'string', default: '[nsqd] ', usage: 'log message prefix' },
    { name: 'verbose', type: 'bool', default: false, usage: '[deprecated] has no effect, use --log-level', configKey: null },
    { name: 'node-id', type: 'int', default: nodeId, usage: 'unique part for message IDs, (int) in range [0,1024) (default is hash of hostname)', configKey: 'id' },
    { name: 'worker-id', type: 'bool', default: false, usage: '[deprecated] use --node-id', configKey: null },
    { name: 'https-address', type: 'string', default: '0.0.0.0:4152', usage: '<addr>:<port> to listen on for HTTPS clients' },
    { name: 'http-address', type: 'string', default: '0.0.0.0:4151', usage: '<addr>:<port> to listen on for HTTP clients' },
    { name: 'tcp-address', type: 'string', default: '0.0.0.0:4150', usage: '<addr>:<port> to listen on for TCP clients' },
    { name: 'auth-http-address', field: 'authHttpAddresses', configKey: 'auth_http_addresses', type: 'string-array', default: [], usage: '<addr>:<port> or a full url to query auth server (may be given multiple times)' },
    { name: 'auth-http-request-method', type: 'string', default: 'get', usage: 'HTTP method to use for auth server requests' },
    { name: 'broadcast-address', type: 'string', default: host, usage: 'address that will be registered with lookupd (defaults to the OS hostname)' },
    { name: 'broadcast-tcp-port', type: 'int', default: 0, usage: 'TCP port that will be registered with lookupd (defaults to the TCP port that this nsqd is listening on)' },
    { name: 'broadcast-http-port', type: 'int', default: 0, usage: 'HTTP port that will be registered with lookupd (defaults to the HTTP port that this nsqd is listening on)' },
    { name: 'lookupd-tcp-address', field: 'lookupdTcpAddresses', configKey: 'nsqlookupd_tcp_addresses', type: 'string-array', default: [], usage: 'lookupd TCP address (may be given multiple times)' },
    { name: 'http-client-connect-timeout', type: 'duration', default: 2000, usage: 'timeout for HTTP connect' },
    { name: 'http-client-request-timeout', type: 'duration', default: 5000, usage: 'timeout for HTTP request' },
    { name: 'topology-region', type: 'string', default: '', usage: 'A region represents a larger geographic area, such as a cloud region, in which nsqd is running' },
    { name: 'topology-zone', type: 'string', default: '', usage: 'A zone represents a logical failure domain, such as an availability zone, in which nsqd is running' },
    { name: 'data-path', type: 'string', default: '', usage: 'path to store disk-backed messages' },
    { name: 'mem-queue-size', type: 'int', default: 10000, usage: 'number of messages to keep in memory (per topic/channel)' },
    { name: 'max-bytes-per-file', type: 'int', default: 104857600, usage: 'number of bytes per diskqueue file before rolling' },
    { name: 'sync-every', type: 'int', default: 2500, usage: 'number of messages per diskqueue fsync' },
    { name: 'sync-timeout', type: 'duration', default: 2000, usage: 'duration of time per diskqueue fsync' },
    { name: 'queue-scan-worker-pool-max', type: 'int', default: 4, usage: 'max concurrency for checking in-flight and deferred message timeouts' },
    { name: 'queue-scan-selection-count', type: 'int', default: 20, usage: 'number of channels to check per cycle (every 100ms) for in-flight and deferred timeouts' },
    { name: 'msg-timeout', type: 'duration', default: 60000, usage: 'default duration to wait before auto-requeing a message' },
    { name: 'max-msg-timeout', type: 'duration', default: 900000, usage: 'maximum duration before a message will timeout' },
    { name: 'max-msg-size', type: 'int', default: 1048576, usage: 'maximum size of a single message in bytes' },
    { name: 'max-req-timeout', type: 'duration', default: 3600000, usage: 'maximum requeuing timeout for a message' },
    { name: 'max-defer-timeout', type: 'duration', default: DEFER_DEFAULT, usage: 'maximum duration a DPUB or /pub?defer may defer a message (extension; defaults to --max-req-timeout)', defaultText: '' },
    { name: 'max-body-size', type: 'int', default: 5242880, usage: 'maximum size of a single command body' },
    { name: 'max-heartbeat-interval', type: 'duration', default: 60000, usage: 'maximum client configurable duration of time between client heartbeats' },
    { name: 'max-rdy-count', type: 'int', default: 2500, usage: 'maximum RDY count for a client' },
    { name: 'max-output-buffer-size', type: 'int', default: 65536, usage: 'maximum client configurable size (in bytes) for a client output buffer' },
    { name: 'max-output-buffer-timeout', type: 'duration', default: 30000, usage: 'maximum client configurable duration of time between flushing to a client' },
    { name: 'min-output-buffer-timeout', type: 'duration', default: 25, usage: 'minimum client configurable duration of time between flushing to a client' },
    { name: 'output-buffer-timeout', type: 'duration', default: 250, usage: 'default duration of time between flushing data to clients' },
    { name: 'max-channel-consumers', type: 'int', default: 0, usage: 'maximum channel consumer connection count per nsqd instance (default 0, i.e., unlimited)' },
    { name: 'statsd-address', type: 'string', default: '', usage: 'UDP <addr>:<port> of a statsd daemon for pushing stats' },
    { name: 'statsd-interval', type: 'duration', default: 60000, usage: 'duration between pushing to statsd' },
    { name: 'statsd-mem-stats', type: 'bool', default: true, usage: 'toggle sending memory and GC stats to statsd' },
    { name: 'statsd-prefix', type: 'string', default: 'nsq.%s', usage: 'prefix used for keys sent to statsd (%s for host replacement)' },
    { name: 'statsd-udp-packet-size', type: 'int', default: 508, usage: 'the size in bytes of statsd UDP packets' },
    { name: 'statsd-exclude-ephemeral', type: 'bool', default: false, usage: 'Skip ephemeral topics and channels when sending stats to statsd' },
    { name: 'e2e-processing-latency-percentile', field: 'e2eProcessingLatencyPercentiles', configKey: 'e2e_processing_latency_percentiles', type: 'float-array', default: [], usage: "message processing time percentiles (as float (0, 1.0]) to track (can be specified multiple times or comma separated '1.0,0.99,0.95', default none)" },
    { name: 'e2e-processing-latency-window-time', type: 'duration', default: 600000, usage: 'calculate end to end latency quantiles for this duration of time (ie: 60s would only show quantile calculations from the past 60 seconds)' },
    { name: 'tls-cert', type: 'string', default: '', usage: 'path to certificate file' },
    { name: 'tls-key', type: 'string', default: '', usage: 'path to key file' },
    { name: 'tls-client-auth-policy', type: 'string', default: '', usage: "client certificate auth policy ('require' or 'require-verify')" },
    { name: 'tls-root-ca-file', type: 'string', default: '', usage: 'path to certificate authority file' },
    { name: 'tls-required', type: 'bool', default: TLS_NOT_REQUIRED, usage: 'require TLS for client connections (true, false, tcp-https)', parse: parseTlsRequired, defaultText: '' },
    { name: 'tls-min-version', type: 'string', default: 'tls1.0', usage: "minimum SSL/TLS version acceptable ('ssl3.0', 'tls1.0', 'tls1.1', 'tls1.2' or 'tls1.3')", parse: parseTlsMinVersion, typeName: 'value', defaultText: '769' },
    { name: 'deflate', type: 'bool', default: true, usage: 'enable deflate feature negotiation (client compression)' },
    { name: 'max-deflate-level', type: 'int', default: 6, usage: 'max deflate compression level a client can negotiate (> values == > nsqd CPU usage)' },
    { name: 'snappy', type: 'bool', default: true, usage: 'enable snappy feature negotiation (client compression)' },
    { name: 'enable-experiment', type: 'string-array', default: [], usage: `enable experimental feature (may be given multiple times) (valid options: "${EXPERIMENT_TOPOLOGY_AWARE_CONSUMPTION}")` },
    { name: 'max-attempts', type: 'int', default: 0, usage: 'extension: deliveries after which a requeued or timed-out message goes to the dead-letter topic (0 = never)' },
    { name: 'dead-letter-topic-suffix', type: 'string', default: '.dlq', usage: 'extension: the dead-letter topic of a topic is its name plus this suffix' },
    { name: 'msg-ttl', type: 'duration', default: 0, usage: 'extension: age after which an undelivered message is dropped instead of delivered (0 = never)' },
    { name: 'max-depth', type: 'int', default: 0, usage: 'extension: maximum messages queued per topic/channel (0 = unbounded)' },
    { name: 'max-depth-policy', type: 'string', default: 'reject', usage: "extension: what a full topic does with a publish: 'reject' it or 'drop-oldest'" },
    { name: 'disk-checksums', type: 'bool', default: false, usage: 'extension: write new diskqueue segments with a CRC32C per record, so damage costs only the damaged records' },
    { name: 'durable-inflight', type: 'bool', default: false, usage: 'extension: journal in-flight and deferred messages so that they survive a crash or restart with their deadlines and attempts' },
  ];
}

/** Flags that exist on the command line only (no effect or handled before options). */
const NOT_OPTIONS = new Set(['version', 'config', 'verbose', 'workerId']);

const FIXED_INTERNALS = {
  clientTimeout: 60000,
  queueScanInterval: 100,
  queueScanRefreshInterval: 5000,
  queueScanDirtyPercent: 0.25,
} as const;

function toOptions(values: Record<string, unknown>): NsqdOptions {
  const o: Record<string, unknown> = { ...FIXED_INTERNALS };
  for (const [k, v] of Object.entries(values)) if (!NOT_OPTIONS.has(k)) o[k] = v;
  const opts = o as unknown as NsqdOptions;
  if (Number.isNaN(opts.maxDeferTimeout)) opts.maxDeferTimeout = opts.maxReqTimeout;
  opts.e2eProcessingLatencyPercentiles = [...opts.e2eProcessingLatencyPercentiles].sort((a, b) => b - a);
  return opts;
}

/** The built-in defaults (no flags, no config file), already validated-normal. */
export function defaultNsqdOptions(): NsqdOptions {
  const specs = nsqdFlagSpecs(hostname(), defaultNodeId());
  const values: Record<string, unknown> = {};
  for (const s of specs) values[fieldOf(s)] = Array.isArray(s.default) ? [...s.default] : s.default;
  return toOptions(values);
}

/** A setting that parses but is not acceptable; the app logs `failed to instantiate nsqd - <message>`. */
export class OptionsValidationError extends FlagError {}

/**
 * The checks the original makes when constructing nsqd (upstream `nsqd/nsqd.go` New), applied in its order, plus
 * its normalisation (a client-auth policy forces TLS required). Throws OptionsValidationError.
 * Certificate files and the data path are checked by the server when it opens them.
 */
export function validateNsqdOptions(o: NsqdOptions): void {
  if (!Number.isInteger(o.maxDeflateLevel) || o.maxDeflateLevel < 1 || o.maxDeflateLevel > 9) {
    throw new OptionsValidationError('--max-deflate-level must be [1,9]');
  }
  if (!Number.isInteger(o.nodeId) || o.nodeId < 0 || o.nodeId >= 1024) {
    throw new OptionsValidationError('--node-id must be [0,1024)');
  }
  if (o.tlsClientAuthPolicy !== '' && o.tlsRequired === TLS_NOT_REQUIRED) o.tlsRequired = TLS_REQUIRED;
  if (o.authHttpRequestMethod !== 'post' && o.authHttpRequestMethod !== 'get') {
    throw new OptionsValidationError('--auth-http-request-method must be post or get');
  }
  const tlsConfigured = o.tlsCert !== '' && o.tlsKey !== '';
  if (!tlsConfigured && o.tlsRequired !== TLS_NOT_REQUIRED) {
    throw new OptionsValidationError('cannot require TLS client connections without TLS key and cert');
  }
  for (const p of o.e2eProcessingLatencyPercentiles) {
    if (!(p > 0 && p <= 1)) throw new OptionsValidationError(`invalid E2E processing latency percentile: ${p}`);
  }
  if (o.maxDepthPolicy !== 'reject' && o.maxDepthPolicy !== 'drop-oldest') {
    throw new OptionsValidationError(`--max-depth-policy must be reject or drop-oldest, not ${JSON.stringify(o.maxDepthPolicy)}`);
  }
  if (!Number.isInteger(o.maxAttempts) || o.maxAttempts < 0 || o.maxAttempts > 65535) {
    throw new OptionsValidationError('--max-attempts must be [0,65535]');
  }
  if (o.maxDepth < 0 || o.msgTtl < 0) throw new OptionsValidationError('--max-depth and --msg-ttl must not be negative');
}

/** Result of parsing nsqd's command line. */
export interface NsqdArgs {
  options: NsqdOptions;
  /** -h/--help was given: print nsqdUsage() and exit 0 (options are defaults then). */
  help: boolean;
  /** --version was given: print `nsqd v1.3.0 (built w/<node version>)` and exit 0. */
  version: boolean;
}

/**
 * Parses argv (without node and script), loads `--config`, resolves flag > config > default and
 * validates. Throws FlagError for syntax/config problems (`failed to load config file …`,
 * `invalid value "x" for flag -mem-queue-size: parse error`) and OptionsValidationError for
 * rejected values.
 */
export function parseNsqdArgs(argv: readonly string[]): NsqdArgs {
  const specs = nsqdFlagSpecs(hostname(), defaultNodeId());
  const parsed = resolveFlags(specs, argv);
  const options = toOptions(parsed.values);
  if (parsed.help) return { options, help: true, version: false };
  const version = parsed.values.version === true;
  // The original prints the version before validating anything else.
  if (!version) validateNsqdOptions(options);
  return { options, help: false, version };
}

/** `-h` text in the style of Go's flag package. */
export function nsqdUsage(): string {
  return formatUsage('nsqd', nsqdFlagSpecs(hostname(), defaultNodeId()));
}

/** Config-file keys /config/:opt accepts, mapped to their option field and kind. */
const CONFIG_FIELDS: ReadonlyMap<string, { field: string; type: FlagSpec['type'] }> = (() => {
  const m = new Map<string, { field: string; type: FlagSpec['type'] }>();
  for (const s of nsqdFlagSpecs('', 0)) {
    const key = configKeyOf(s);
    const field = fieldOf(s);
    if (key !== null && !NOT_OPTIONS.has(field)) m.set(key, { field, type: s.type });
  }
  return m;
})();

/** Every config-file key (e.g. for PUT /config/:opt or documentation). */
export function nsqdConfigKeys(): string[] {
  return [...CONFIG_FIELDS.keys()];
}

/**
 * The value GET /config/:opt returns (upstream `nsqd/http.go` doConfig): durations as integer nanoseconds,
 * `log_level` 1..5, `tls_required` 0/1/2, `tls_min_version` 769..772, strings as raw text,
 * everything else as JSON. undefined for an unknown key (→ 400 INVALID_OPTION).
 */
export function nsqdConfigValue(o: NsqdOptions, key: string): { kind: 'json' | 'text'; value: unknown } | undefined {
  const entry = CONFIG_FIELDS.get(key);
  if (!entry) return undefined;
  switch (key) {
    case 'log_level':
      return { kind: 'json', value: logLevelNumber(o.logLevel) };
    case 'tls_required':
      return { kind: 'json', value: o.tlsRequired };
    case 'tls_min_version':
      return { kind: 'json', value: tlsVersionNumber(o.tlsMinVersion) };
  }
  const value = (o as unknown as Record<string, unknown>)[entry.field];
  switch (entry.type) {
    case 'duration':
      return { kind: 'json', value: msToNs(value as number) };
    case 'string':
      return { kind: 'text', value };
    default:
      return { kind: 'json', value: Array.isArray(value) ? [...value] : value };
  }
}
