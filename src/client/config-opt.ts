/**
 * go-nsq `Config.Set` for the tools' `--consumer-opt` / `--producer-opt key,value` flags: maps
 * go-nsq option names (`max_in_flight`, `tls_v1`, `lookupd_poll_interval`, … with `-` accepted
 * for `_`) onto this library's options, with go-nsq's value coercion and range checks.
 */
import { readFileSync } from 'node:fs';
import type * as tls from 'node:tls';
import { parseDuration } from '../lib/duration.js';
import { parseGoBool } from '../lib/flags.js';
import type { ConsumerOptions } from './consumer-options.js';
import type { ProducerOptions } from './producer.js';

/** Everything a tool can set through a client option. */
export type ClientOptions = ConsumerOptions & ProducerOptions;

/** A rejected option; `message` reads like go-nsq's. */
export class ConfigOptionError extends Error {
  override readonly name = 'ConfigOptionError';
}

type Kind = 'duration' | 'int' | 'float' | 'bool' | 'string';

interface OptionSpec {
  kind: Kind;
  /** Field of ClientOptions set directly; absent for the TLS file options handled below. */
  field?: keyof ClientOptions;
  min?: number;
  max?: number;
}

const MIN = 60000;
const SPECS: Record<string, OptionSpec> = {
  dial_timeout: { kind: 'duration', field: 'dialTimeout' },
  read_timeout: { kind: 'duration', field: 'readTimeout', min: 100, max: 5 * MIN },
  write_timeout: { kind: 'duration', field: 'writeTimeout', min: 100, max: 5 * MIN },
  local_addr: { kind: 'string', field: 'localAddress' },
  lookupd_poll_interval: { kind: 'duration', field: 'lookupdPollInterval', min: 10, max: 5 * MIN },
  lookupd_poll_jitter: { kind: 'float', field: 'lookupdPollJitter', min: 0, max: 1 },
  lookupd_poll_timeout: { kind: 'duration', field: 'lookupdPollTimeout' },
  max_requeue_delay: { kind: 'duration', field: 'maxRequeueDelay', min: 0, max: 60 * MIN },
  default_requeue_delay: { kind: 'duration', field: 'defaultRequeueDelay', min: 0, max: 60 * MIN },
  backoff_strategy: { kind: 'string', field: 'backoffStrategy' },
  max_backoff_duration: { kind: 'duration', field: 'maxBackoffDuration', min: 0, max: 60 * MIN },
  backoff_multiplier: { kind: 'duration', field: 'backoffMultiplier', min: 0, max: 60 * MIN },
  max_attempts: { kind: 'int', field: 'maxAttempts', min: 0, max: 65535 },
  low_rdy_idle_timeout: { kind: 'duration', field: 'lowRdyIdleTimeout', min: 1000, max: 5 * MIN },
  low_rdy_timeout: { kind: 'duration', field: 'lowRdyTimeout', min: 1000, max: 5 * MIN },
  rdy_redistribute_interval: { kind: 'duration', field: 'rdyRedistributeInterval', min: 1, max: 5000 },
  client_id: { kind: 'string', field: 'clientId' },
  hostname: { kind: 'string', field: 'hostname' },
  user_agent: { kind: 'string', field: 'userAgent' },
  topology_region: { kind: 'string', field: 'topologyRegion' },
  topology_zone: { kind: 'string', field: 'topologyZone' },
  heartbeat_interval: { kind: 'duration', field: 'heartbeatInterval' },
  sample_rate: { kind: 'int', field: 'sampleRate', min: 0, max: 99 },
  tls_v1: { kind: 'bool' },
  tls_root_ca_file: { kind: 'string' },
  tls_insecure_skip_verify: { kind: 'bool' },
  tls_cert: { kind: 'string' },
  tls_key: { kind: 'string' },
  tls_min_version: { kind: 'string' },
  deflate: { kind: 'bool', field: 'deflate' },
  deflate_level: { kind: 'int', field: 'deflateLevel', min: 1, max: 9 },
  snappy: { kind: 'bool', field: 'snappy' },
  output_buffer_size: { kind: 'int', field: 'outputBufferSize' },
  output_buffer_timeout: { kind: 'duration', field: 'outputBufferTimeout' },
  max_in_flight: { kind: 'int', field: 'maxInFlight', min: 0 },
  msg_timeout: { kind: 'duration', field: 'msgTimeout', min: 0 },
  max_msg_size: { kind: 'int', field: 'maxMsgSize', min: 0 },
  auth_secret: { kind: 'string', field: 'authSecret' },
};

const TLS_VERSIONS: Record<string, tls.SecureVersion> = {
  'tls1.0': 'TLSv1',
  'tls1.1': 'TLSv1.1',
  'tls1.2': 'TLSv1.2',
  'tls1.3': 'TLSv1.3',
};

function coerce(name: string, kind: Kind, raw: string): number | boolean | string {
  switch (kind) {
    case 'string':
      return raw;
    case 'bool': {
      const b = parseGoBool(raw);
      if (b === undefined) throw new ConfigOptionError(`failed to coerce option ${name} (${raw}) - strconv.ParseBool: parsing ${JSON.stringify(raw)}: invalid syntax`);
      return b;
    }
    case 'int':
    case 'float': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n) || (kind === 'int' && !Number.isInteger(n))) {
        throw new ConfigOptionError(`failed to coerce option ${name} (${raw}) - invalid ${kind === 'int' ? 'integer' : 'number'}`);
      }
      return n;
    }
    case 'duration': {
      // Go duration syntax, or a bare integer meaning milliseconds (go-nsq coerceDuration on ints).
      if (/^-?\d+$/.test(raw)) return Number(raw);
      try {
        return parseDuration(raw);
      } catch (err) {
        throw new ConfigOptionError(`failed to coerce option ${name} (${raw}) - ${(err as Error).message}`);
      }
    }
  }
}

function tlsObject(o: ClientOptions): tls.ConnectionOptions {
  if (typeof o.tls !== 'object') o.tls = {};
  return o.tls as tls.ConnectionOptions;
}

/** Applies one `key,value` (or bare `key` = true) option to `target`. Throws ConfigOptionError. */
export function applyClientOption(target: ClientOptions, opt: string): void {
  const comma = opt.indexOf(',');
  const name = (comma < 0 ? opt : opt.slice(0, comma)).replace(/-/g, '_');
  const raw = comma < 0 ? 'true' : opt.slice(comma + 1);
  const spec = SPECS[name];
  if (spec === undefined) throw new ConfigOptionError(`invalid option ${name}`);
  const v = coerce(name, spec.kind, raw);
  if (typeof v === 'number') {
    if (spec.min !== undefined && v < spec.min) throw new ConfigOptionError(`invalid ${name} ! ${raw} < ${spec.min}`);
    if (spec.max !== undefined && v > spec.max) throw new ConfigOptionError(`invalid ${name} ! ${raw} > ${spec.max}`);
  }
  if (name === 'backoff_strategy' && v !== 'exponential' && v !== 'full_jitter') {
    throw new ConfigOptionError(`failed to coerce option backoff_strategy (${raw}) - unknown backoff strategy ${raw}`);
  }
  if (spec.field !== undefined) {
    (target as Record<string, unknown>)[spec.field] = v;
    return;
  }
  try {
    switch (name) {
      case 'tls_v1':
        if (v === true) tlsObject(target);
        else target.tls = false;
        return;
      case 'tls_root_ca_file':
        tlsObject(target).ca = readFileSync(v as string);
        return;
      case 'tls_insecure_skip_verify':
        tlsObject(target).rejectUnauthorized = !(v as boolean);
        return;
      case 'tls_cert':
        tlsObject(target).cert = readFileSync(v as string);
        return;
      case 'tls_key':
        tlsObject(target).key = readFileSync(v as string);
        return;
      case 'tls_min_version': {
        const ver = TLS_VERSIONS[(v as string).toLowerCase()];
        if (ver === undefined) throw new ConfigOptionError(`unknown tls_min_version: ${v as string}`);
        tlsObject(target).minVersion = ver;
        return;
      }
    }
  } catch (err) {
    if (err instanceof ConfigOptionError) throw err;
    throw new ConfigOptionError(`failed to set option ${name} (${raw}) - ${(err as Error).message}`);
  }
}

/** Applies every option in order. */
export function applyClientOptions(target: ClientOptions, opts: readonly string[]): ClientOptions {
  for (const o of opts) applyClientOption(target, o);
  return target;
}
