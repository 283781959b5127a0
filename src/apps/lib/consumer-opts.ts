/**
 * `--consumer-opt` / `--producer-opt key,value` (go-nsq `Config.Set` keys) turned into client
 * library options. Durations take Go syntax or integer milliseconds, booleans Go's ParseBool;
 * `-` is accepted for `_` in keys. A bare `key` means `true`.
 */
import { parseDuration } from '../../lib/duration.js';
import { parseGoBool, parseGoFloat, parseGoInt } from '../../lib/flags.js';

/** An unknown key or a value of the wrong kind; message like go-nsq's. */
export class ClientOptError extends Error {
  override readonly name = 'ClientOptError';
}

type Kind = 'duration' | 'int' | 'float' | 'bool' | 'string';

/** go-nsq key → [client option field, kind]. */
const KEYS: ReadonlyMap<string, readonly [string, Kind]> = new Map([
  ['dial_timeout', ['dialTimeout', 'duration']],
  ['read_timeout', ['readTimeout', 'duration']],
  ['write_timeout', ['writeTimeout', 'duration']],
  ['lookupd_poll_interval', ['lookupdPollInterval', 'duration']],
  ['lookupd_poll_jitter', ['lookupdPollJitter', 'float']],
  ['default_requeue_delay', ['defaultRequeueDelay', 'duration']],
  ['max_backoff_duration', ['maxBackoffDuration', 'duration']],
  ['backoff_multiplier', ['backoffMultiplier', 'duration']],
  ['max_attempts', ['maxAttempts', 'int']],
  ['client_id', ['clientId', 'string']],
  ['hostname', ['hostname', 'string']],
  ['user_agent', ['userAgent', 'string']],
  ['heartbeat_interval', ['heartbeatInterval', 'duration']],
  ['sample_rate', ['sampleRate', 'int']],
  ['tls_v1', ['tls', 'bool']],
  ['deflate', ['deflate', 'bool']],
  ['deflate_level', ['deflateLevel', 'int']],
  ['snappy', ['snappy', 'bool']],
  ['output_buffer_size', ['outputBufferSize', 'int']],
  ['output_buffer_timeout', ['outputBufferTimeout', 'duration']],
  ['max_in_flight', ['maxInFlight', 'int']],
  ['msg_timeout', ['msgTimeout', 'duration']],
  ['auth_secret', ['authSecret', 'string']],
]);

function coerce(key: string, kind: Kind, raw: string): unknown {
  try {
    switch (kind) {
      case 'string':
        return raw;
      case 'int':
        return parseGoInt(raw, false);
      case 'float':
        return parseGoFloat(raw);
      case 'bool': {
        const b = parseGoBool(raw);
        if (b === undefined) throw new Error('invalid syntax');
        return b;
      }
      case 'duration':
        return /^-?[0-9]+$/.test(raw) ? Number(raw) : parseDuration(raw);
    }
  } catch (err) {
    throw new ClientOptError(`failed to set ${key} (${raw}) - ${(err as Error).message}`);
  }
}

/** Parses every `key,value` entry into an options object for the client library. */
export function parseClientOpts(entries: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const entry of entries) {
    const comma = entry.indexOf(',');
    const key = (comma < 0 ? entry : entry.slice(0, comma)).trim().replace(/-/g, '_');
    const raw = comma < 0 ? 'true' : entry.slice(comma + 1);
    const spec = KEYS.get(key);
    if (!spec) throw new ClientOptError(`invalid option ${key}`);
    out[spec[0]] = coerce(key, spec[1], raw);
  }
  return out;
}
