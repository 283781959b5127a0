/**
 * nsqadmin's options: every flag of the original (`nsqadmin/options.go`, `apps/nsqadmin/main.go`)
 * with its default and config-file key, resolved flag > config file > default, plus the startup
 * checks of `nsqadmin.New` and the /config/:opt read-out.
 *
 * Naming: field = camelCase of the flag name; durations are milliseconds.
 */

import { hostname } from 'node:os';
import { FlagError, formatUsage, resolveFlags, fieldOf, configKeyOf, type FlagSpec } from '../lib/flags.js';
import { logLevelNumber, parseLogLevel, type LogLevel } from '../lib/logger.js';
import { msToNs } from '../lib/duration.js';
import { parseCidr } from './cidr.js';

export const NSQADMIN_VERSION = '1.3.0';

/** Every resolved nsqadmin setting. Durations are in milliseconds. */
export interface NsqadminOptions {
  logLevel: LogLevel;
  logPrefix: string;
  httpAddress: string;
  /** Normalised: leading `/`, cleaned, no trailing slash except for the root `/`. */
  basePath: string;
  devStaticDir: string;
  graphiteUrl: string;
  proxyGraphite: boolean;
  statsdPrefix: string;
  statsdCounterFormat: string;
  statsdGaugeFormat: string;
  statsdInterval: number;
  /** Kept for old command lines and the UI config (upstream dropped it for the two format flags). */
  useStatsdPrefixes: boolean;
  /** `--lookupd-http-address` (config key `nsqlookupd_http_addresses`). */
  nsqlookupdHttpAddresses: string[];
  /** `--nsqd-http-address` (config key `nsqd_http_addresses`). */
  nsqdHttpAddresses: string[];
  httpClientConnectTimeout: number;
  httpClientRequestTimeout: number;
  httpClientTlsInsecureSkipVerify: boolean;
  httpClientTlsRootCaFile: string;
  httpClientTlsCert: string;
  httpClientTlsKey: string;
  allowConfigFromCidr: string;
  notificationHttpEndpoint: string;
  aclHttpHeader: string;
  /** `--admin-user` (config key `admin_users`). */
  adminUsers: string[];
  /** Extension: how often the live-chart sampler reads every nsqd's /stats. */
  chartSampleInterval: number;
}

function parseLogLevelFlag(s: string): LogLevel {
  const l = parseLogLevel(s);
  if (!l) throw new Error(`invalid log level '${s}' (debug, info, warn, error, fatal)`);
  return l;
}

function nsqadminFlagSpecs(): FlagSpec[] {
  return [
    { name: 'version', type: 'bool', default: false, usage: 'print version string', configKey: null },
    { name: 'config', type: 'string', default: '', usage: 'path to config file', configKey: null },
    { name: 'log-level', type: 'string', default: 'info', usage: 'set log verbosity: debug, info, warn, error, or fatal', parse: parseLogLevelFlag, typeName: 'value', defaultText: 'INFO' },
    { name: 'log-prefix', type: 'string', default: '[nsqadmin] ', usage: 'log message prefix' },
    { name: 'verbose', type: 'bool', default: false, usage: '[deprecated] has no effect, use --log-level', configKey: null },
    { name: 'http-address', type: 'string', default: '0.0.0.0:4171', usage: '<addr>:<port> to listen on for HTTP clients' },
    { name: 'base-path', type: 'string', default: '/', usage: 'URL base path' },
    { name: 'dev-static-dir', type: 'string', default: '', usage: '(development use only)' },
    { name: 'graphite-url', type: 'string', default: '', usage: 'graphite HTTP address' },
    { name: 'proxy-graphite', type: 'bool', default: false, usage: 'proxy HTTP requests to graphite' },
    { name: 'statsd-counter-format', type: 'string', default: 'stats.counters.%s.count', usage: 'The counter stats key formatting applied by the implementation of statsd. If no formatting is desired, set this to an empty string.' },
    { name: 'statsd-gauge-format', type: 'string', default: 'stats.gauges.%s', usage: 'The gauge stats key formatting applied by the implementation of statsd. If no formatting is desired, set this to an empty string.' },
    { name: 'statsd-prefix', type: 'string', default: 'nsq.%s', usage: 'prefix used for keys sent to statsd (%s for host replacement, must match nsqd)' },
    { name: 'statsd-interval', type: 'duration', default: 60000, usage: 'time interval nsqd is configured to push to statsd (must match nsqd)' },
    { name: 'use-statsd-prefixes', type: 'bool', default: true, usage: '[deprecated] (Deprecated - Use --statsd-counter-format and --statsd-gauge-format) Expect statsd prefixed keys in graphite (ie: \'stats.counters.\' and \'stats.gauges.\')' },
    { name: 'notification-http-endpoint', type: 'string', default: '', usage: 'HTTP endpoint (fully qualified) to which POST notifications of admin actions will be sent' },
    { name: 'http-client-connect-timeout', type: 'duration', default: 2000, usage: 'timeout for HTTP connect' },
    { name: 'http-client-request-timeout', type: 'duration', default: 5000, usage: 'timeout for HTTP request' },
    { name: 'http-client-tls-insecure-skip-verify', type: 'bool', default: false, usage: 'configure the HTTP client to skip verification of TLS certificates' },
    { name: 'http-client-tls-root-ca-file', type: 'string', default: '', usage: 'path to CA file for the HTTP client' },
    { name: 'http-client-tls-cert', type: 'string', default: '', usage: 'path to certificate file for the HTTP client' },
    { name: 'http-client-tls-key', type: 'string', default: '', usage: 'path to key file for the HTTP client' },
    { name: 'allow-config-from-cidr', type: 'string', default: '127.0.0.1/8', usage: 'A CIDR from which to allow HTTP requests to the /config endpoint' },
    { name: 'acl-http-header', type: 'string', default: 'X-Forwarded-User', usage: 'HTTP header to check for authenticated admin users' },
    { name: 'admin-user', field: 'adminUsers', configKey: 'admin_users', type: 'string-array', default: [], usage: 'admin user (may be given multiple times; if specified, only these users will be able to perform privileged actions; acl-http-header is used to determine the authenticated user)' },
    { name: 'lookupd-http-address', field: 'nsqlookupdHttpAddresses', configKey: 'nsqlookupd_http_addresses', type: 'string-array', default: [], usage: 'lookupd HTTP address (may be given multiple times)' },
    { name: 'nsqd-http-address', field: 'nsqdHttpAddresses', configKey: 'nsqd_http_addresses', type: 'string-array', default: [], usage: 'nsqd HTTP address (may be given multiple times)' },
    { name: 'chart-sample-interval', type: 'duration', default: 2000, usage: 'how often the live charts sample every nsqd /stats (extension; 0 disables sampling)' },
  ];
}

const NOT_OPTIONS = new Set(['version', 'config', 'verbose']);

/** `path.Clean` with a leading `/` (upstream normalises --base-path this way). */
export function normalizeBasePath(p: string): string {
  const out: string[] = [];
  for (const part of ('/' + p).split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return '/' + out.join('/');
}

function toOptions(values: Record<string, unknown>): NsqadminOptions {
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) if (!NOT_OPTIONS.has(k)) o[k] = v;
  const opts = o as unknown as NsqadminOptions;
  opts.basePath = normalizeBasePath(opts.basePath);
  return opts;
}

/** The built-in defaults (no flags, no config file). */
export function defaultNsqadminOptions(): NsqadminOptions {
  const values: Record<string, unknown> = {};
  for (const s of nsqadminFlagSpecs()) values[fieldOf(s)] = Array.isArray(s.default) ? [...s.default] : s.default;
  return toOptions(values);
}

/** A setting that parses but is refused; the app logs `<message>` as FATAL and exits 1. */
export class OptionsValidationError extends FlagError {}

/**
 * The checks the original makes in `nsqadmin.New` that need no I/O (addresses are resolved and
 * certificate files read when the server starts). Throws OptionsValidationError.
 */
export function validateNsqadminOptions(o: NsqadminOptions): void {
  if (o.nsqdHttpAddresses.length === 0 && o.nsqlookupdHttpAddresses.length === 0) {
    throw new OptionsValidationError('--nsqd-http-address or --lookupd-http-address required');
  }
  if (o.nsqdHttpAddresses.length !== 0 && o.nsqlookupdHttpAddresses.length !== 0) {
    throw new OptionsValidationError('use --nsqd-http-address or --lookupd-http-address not both');
  }
  if (o.httpClientTlsCert !== '' && o.httpClientTlsKey === '') {
    throw new OptionsValidationError('--http-client-tls-key must be specified with --http-client-tls-cert');
  }
  if (o.httpClientTlsKey !== '' && o.httpClientTlsCert === '') {
    throw new OptionsValidationError('--http-client-tls-cert must be specified with --http-client-tls-key');
  }
  if (o.proxyGraphite) {
    try {
      new URL(o.graphiteUrl);
    } catch {
      throw new OptionsValidationError(`failed to parse --graphite-url (${o.graphiteUrl}) - invalid URL`);
    }
  }
  if (o.allowConfigFromCidr !== '' && parseCidr(o.allowConfigFromCidr) === undefined) {
    throw new OptionsValidationError(`failed to parse --allow-config-from-cidr (${o.allowConfigFromCidr}) - invalid CIDR address: ${o.allowConfigFromCidr}`);
  }
  if (o.chartSampleInterval < 0) throw new OptionsValidationError('--chart-sample-interval must not be negative');
}

/** Result of parsing nsqadmin's command line. */
export interface NsqadminArgs {
  options: NsqadminOptions;
  /** -h/--help was given: print nsqadminUsage() and exit 0. */
  help: boolean;
  /** --version was given: print the version line and exit 0. */
  version: boolean;
}

/**
 * Parses argv (without node and script), loads `--config`, resolves flag > config > default and
 * validates. Throws FlagError for syntax/config problems and OptionsValidationError for refused values.
 */
export function parseNsqadminArgs(argv: readonly string[]): NsqadminArgs {
  const parsed = resolveFlags(nsqadminFlagSpecs(), argv);
  const options = toOptions(parsed.values);
  if (parsed.help) return { options, help: true, version: false };
  const version = parsed.values.version === true;
  if (!version) validateNsqadminOptions(options);
  return { options, help: false, version };
}

/** `-h` text in the style of Go's flag package. */
export function nsqadminUsage(): string {
  return formatUsage('nsqadmin', nsqadminFlagSpecs());
}

/** What `--version` prints and the first log line says. */
export const VERSION_STRING = `nsqadmin v${NSQADMIN_VERSION} (built w/tsnsq node ${process.version})`;

const CONFIG_FIELDS: ReadonlyMap<string, { field: string; type: FlagSpec['type'] }> = (() => {
  const m = new Map<string, { field: string; type: FlagSpec['type'] }>();
  for (const s of nsqadminFlagSpecs()) {
    const key = configKeyOf(s);
    const field = fieldOf(s);
    if (key !== null && !NOT_OPTIONS.has(field)) m.set(key, { field, type: s.type });
  }
  return m;
})();

/**
 * The value GET /config/:opt returns: durations as integer nanoseconds, `log_level` 1..5,
 * strings as raw text, everything else as JSON. undefined for an unknown key (→ 400 INVALID_OPTION).
 */
export function nsqadminConfigValue(o: NsqadminOptions, key: string): { kind: 'json' | 'text'; value: unknown } | undefined {
  const entry = CONFIG_FIELDS.get(key);
  if (!entry) return undefined;
  if (key === 'log_level') return { kind: 'json', value: logLevelNumber(o.logLevel) };
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

/** The host name notifications carry in `via` (the original's os.Hostname()). */
export function viaHostname(): string {
  return hostname();
}
