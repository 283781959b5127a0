/**
 * nsqlookupd's options: every flag of the original with its default and config-file key
 * (upstream `nsqlookupd/options.go`, `apps/nsqlookupd/main.go`), resolved flag > config file > default like nsqd.
 *
 * Naming: field = camelCase of the flag name; durations are milliseconds.
 */

import { hostname } from 'node:os';
import { formatUsage, resolveFlags, fieldOf, type FlagSpec } from '../lib/flags.js';
import { parseLogLevel, type LogLevel } from '../lib/logger.js';

export const NSQLOOKUPD_VERSION = '1.3.0';

/** Every resolved nsqlookupd setting. Durations are in milliseconds. */
export interface NsqlookupdOptions {
  logLevel: LogLevel;
  logPrefix: string;
  tcpAddress: string;
  httpAddress: string;
  broadcastAddress: string;
  /** A producer silent for longer is hidden from /lookup and /nodes. */
  inactiveProducerTimeout: number;
  /** How long a tombstoned producer stays hidden from /lookup. */
  tombstoneLifetime: number;
}

function parseLogLevelFlag(s: string): LogLevel {
  const l = parseLogLevel(s);
  if (!l) throw new Error(`invalid log level '${s}' (debug, info, warn, error, fatal)`);
  return l;
}

function nsqlookupdFlagSpecs(host: string): FlagSpec[] {
  return [
    { name: 'version', type: 'bool', default: false, usage: 'print version string', configKey: null },
    { name: 'config', type: 'string', default: '', usage: 'path to config file', configKey: null },
    { name: 'log-level', type: 'string', default: 'info', usage: 'set log verbosity: debug, info, warn, error, or fatal', parse: parseLogLevelFlag, typeName: 'value', defaultText: 'INFO' },
    { name: 'log-prefix', type: 'string', default: '[nsqlookupd] ', usage: 'log message prefix' },
    { name: 'verbose', type: 'bool', default: false, usage: '[deprecated] has no effect, use --log-level', configKey: null },
    { name: 'tcp-address', type: 'string', default: '0.0.0.0:4160', usage: '<addr>:<port> to listen on for TCP clients' },
    { name: 'http-address', type: 'string', default: '0.0.0.0:4161', usage: '<addr>:<port> to listen on for HTTP clients' },
    { name: 'broadcast-address', type: 'string', default: host, usage: 'address of this lookupd node, (default to the OS hostname)' },
    { name: 'inactive-producer-timeout', type: 'duration', default: 300000, usage: 'duration of time a producer will remain in the active list since its last ping' },
    { name: 'tombstone-lifetime', type: 'duration', default: 45000, usage: 'duration of time a producer will remain tombstoned if registration remains' },
  ];
}

const NOT_OPTIONS = new Set(['version', 'config', 'verbose']);

function toOptions(values: Record<string, unknown>): NsqlookupdOptions {
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) if (!NOT_OPTIONS.has(k)) o[k] = v;
  return o as unknown as NsqlookupdOptions;
}

/** The built-in defaults (no flags, no config file). */
export function defaultNsqlookupdOptions(): NsqlookupdOptions {
  const values: Record<string, unknown> = {};
  for (const s of nsqlookupdFlagSpecs(hostname())) values[fieldOf(s)] = s.default;
  return toOptions(values);
}

/** Result of parsing nsqlookupd's command line. */
export interface NsqlookupdArgs {
  options: NsqlookupdOptions;
  /** -h/--help was given: print nsqlookupdUsage() and exit 0. */
  help: boolean;
  /** --version was given: print `nsqlookupd v1.3.0 (built w/<node version>)` and exit 0. */
  version: boolean;
}

/**
 * Parses argv (without node and script), loads `--config`, resolves flag > config > default.
 * Throws FlagError (unknown flag, bad value, unreadable or bad config file).
 */
export function parseNsqlookupdArgs(argv: readonly string[]): NsqlookupdArgs {
  const parsed = resolveFlags(nsqlookupdFlagSpecs(hostname()), argv);
  return { options: toOptions(parsed.values), help: parsed.help, version: !parsed.help && parsed.values.version === true };
}

/** `-h` text in the style of Go's flag package. */
export function nsqlookupdUsage(): string {
  return formatUsage('nsqlookupd', nsqlookupdFlagSpecs(hostname()));
}
