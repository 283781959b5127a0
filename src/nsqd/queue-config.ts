/**
 * Per-topic and per-channel settings of the opt-in queue extensions (docs/extensions.md): max
 * attempts with a dead-letter topic (nsq#974), message TTL and bounded depth (nsq#302, nsq#549).
 * Pure: parsing of the HTTP arguments, the nsqd.dat form, and the resolution of what applies to
 * one topic or channel from its own settings, its topic's and the daemon flags.
 */
import { DurationError, parseDuration } from '../lib/duration.js';
import { isValidTopicName } from '../protocol/names.js';

/** What a full topic does with one more publish: refuse it, or make room by dropping the oldest. */
export type DepthPolicy = 'reject' | 'drop-oldest';

/** Settings set on one topic through POST /topic/config; an absent field follows the flag. */
export interface TopicConfig {
  msgTtlMs?: number;
  maxDepth?: number;
  maxDepthPolicy?: DepthPolicy;
}

/** Settings set on one channel through POST /channel/config; an absent field follows topic and flags. */
export interface ChannelConfig {
  maxAttempts?: number;
  deadLetterTopic?: string;
  msgTtlMs?: number;
}

/** The daemon flags the settings default to (a subset of NsqdOptions). */
export interface QueueDefaults {
  maxAttempts: number;
  deadLetterTopicSuffix: string;
  msgTtl: number;
  maxDepth: number;
  maxDepthPolicy: string;
}

/** What applies to one topic or channel right now; 0 means off. */
export interface QueueLimits {
  readonly maxAttempts: number;
  readonly deadLetterTopic: string;
  readonly msgTtlMs: number;
  readonly maxDepth: number;
  readonly dropOldest: boolean;
}

/** Every extension off: the original's behaviour. Compared by identity on the hot paths. */
export const NO_LIMITS: QueueLimits = Object.freeze({ maxAttempts: 0, deadLetterTopic: '', msgTtlMs: 0, maxDepth: 0, dropOldest: false });

/** A config argument that cannot be used; the text is the HTTP error message. */
export class QueueConfigError extends Error {}

function limits(l: QueueLimits): QueueLimits {
  return l.maxAttempts === 0 && l.msgTtlMs === 0 && l.maxDepth === 0 ? NO_LIMITS : Object.freeze(l);
}

/** The limits of a topic (its backlog and the publish admission). */
export function resolveTopicLimits(d: QueueDefaults, tc: TopicConfig | undefined): QueueLimits {
  return limits({
    maxAttempts: 0,
    deadLetterTopic: '',
    msgTtlMs: tc?.msgTtlMs ?? d.msgTtl,
    maxDepth: tc?.maxDepth ?? d.maxDepth,
    dropOldest: (tc?.maxDepthPolicy ?? d.maxDepthPolicy) === 'drop-oldest',
  });
}

/**
 * The limits of a channel. The --max-attempts default does not apply to the channels of a
 * dead-letter topic (a name ending in the suffix), or every DLQ would grow its own DLQ; a value
 * set on such a channel does apply.
 */
export function resolveChannelLimits(d: QueueDefaults, topic: string, tc: TopicConfig | undefined, cc: ChannelConfig | undefined): QueueLimits {
  const isDlq = d.deadLetterTopicSuffix !== '' && topic.endsWith(d.deadLetterTopicSuffix);
  const t = resolveTopicLimits(d, tc);
  return limits({
    maxAttempts: cc?.maxAttempts ?? (isDlq ? 0 : d.maxAttempts),
    deadLetterTopic: cc?.deadLetterTopic ?? topic + d.deadLetterTopicSuffix,
    msgTtlMs: cc?.msgTtlMs ?? t.msgTtlMs,
    maxDepth: t.maxDepth,
    dropOldest: t.dropOldest,
  });
}

/** Whether a message published at `tsHi:tsLo` (ns since the epoch) is older than `ttlMs` at `nowMs`. */
export function isExpired(tsHi: number, tsLo: number, ttlMs: number, nowMs: number): boolean {
  return (tsHi * 4294967296 + (tsLo >>> 0)) / 1e6 + ttlMs <= nowMs;
}

// ---- arguments ------------------------------------------------------------------------------

/** Raw argument values as the query string or a JSON body gives them. */
export type RawArgs = Record<string, unknown>;

function intArg(v: unknown, key: string): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 0) throw new QueueConfigError(`INVALID_${key.toUpperCase()}`);
  return n;
}

/** A duration: a Go duration string (`30s`) or an integer number of milliseconds, as the flags. */
function durationArg(v: unknown, key: string): number {
  if (typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v))) return intArg(v, key);
  if (typeof v === 'string') {
    try {
      const ms = parseDuration(v);
      if (ms >= 0) return Math.round(ms);
    } catch (err) {
      if (!(err instanceof DurationError)) throw err;
    }
  }
  throw new QueueConfigError(`INVALID_${key.toUpperCase()}`);
}

export function parseDepthPolicy(v: unknown): DepthPolicy {
  if (v === 'reject' || v === 'drop-oldest') return v;
  throw new QueueConfigError('INVALID_MAX_DEPTH_POLICY');
}

/** Applies the known keys of `args` to a copy of `base`; unknown keys are an error (typos must not pass silently). */
export function applyTopicArgs(base: TopicConfig, args: RawArgs): TopicConfig {
  const out = { ...base };
  for (const [k, v] of Object.entries(args)) {
    if (k === 'topic') continue;
    if (k === 'msg_ttl') out.msgTtlMs = durationArg(v, k);
    else if (k === 'max_depth') out.maxDepth = intArg(v, k);
    else if (k === 'max_depth_policy') out.maxDepthPolicy = parseDepthPolicy(v);
    else throw new QueueConfigError(`INVALID_ARG_${k.toUpperCase()}`);
  }
  return out;
}

/** As applyTopicArgs for a channel; `dead_letter_topic` must be a valid topic name. */
export function applyChannelArgs(base: ChannelConfig, args: RawArgs): ChannelConfig {
  const out = { ...base };
  for (const [k, v] of Object.entries(args)) {
    if (k === 'topic' || k === 'channel') continue;
    if (k === 'max_attempts') {
      out.maxAttempts = intArg(v, k);
      // Attempts travel as a uint16 in the message header.
      if (out.maxAttempts > 65535) throw new QueueConfigError('INVALID_MAX_ATTEMPTS');
    } else if (k === 'dead_letter_topic') {
      if (typeof v !== 'string' || !isValidTopicName(v)) throw new QueueConfigError('INVALID_DEAD_LETTER_TOPIC');
      out.deadLetterTopic = v;
    } else if (k === 'msg_ttl') out.msgTtlMs = durationArg(v, k);
    else throw new QueueConfigError(`INVALID_ARG_${k.toUpperCase()}`);
  }
  return out;
}

// ---- nsqd.dat and replies -------------------------------------------------------------------

/** The JSON form, in nsqd.dat (an extra key the original ignores) and in the config replies. */
export function topicConfigJson(c: TopicConfig): RawArgs {
  const o: RawArgs = {};
  if (c.msgTtlMs !== undefined) o['msg_ttl_ms'] = c.msgTtlMs;
  if (c.maxDepth !== undefined) o['max_depth'] = c.maxDepth;
  if (c.maxDepthPolicy !== undefined) o['max_depth_policy'] = c.maxDepthPolicy;
  return o;
}

export function channelConfigJson(c: ChannelConfig): RawArgs {
  const o: RawArgs = {};
  if (c.maxAttempts !== undefined) o['max_attempts'] = c.maxAttempts;
  if (c.deadLetterTopic !== undefined) o['dead_letter_topic'] = c.deadLetterTopic;
  if (c.msgTtlMs !== undefined) o['msg_ttl_ms'] = c.msgTtlMs;
  return o;
}

/** Reads back topicConfigJson; a malformed value is dropped (the daemon starts with the flag default). */
export function topicConfigFromJson(v: unknown): TopicConfig | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const o = v as RawArgs;
  const c: TopicConfig = {};
  if (typeof o['msg_ttl_ms'] === 'number' && o['msg_ttl_ms'] >= 0) c.msgTtlMs = o['msg_ttl_ms'];
  if (typeof o['max_depth'] === 'number' && o['max_depth'] >= 0) c.maxDepth = o['max_depth'];
  if (o['max_depth_policy'] === 'reject' || o['max_depth_policy'] === 'drop-oldest') c.maxDepthPolicy = o['max_depth_policy'];
  return c;
}

export function channelConfigFromJson(v: unknown): ChannelConfig | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const o = v as RawArgs;
  const c: ChannelConfig = {};
  if (typeof o['max_attempts'] === 'number' && o['max_attempts'] >= 0) c.maxAttempts = o['max_attempts'];
  if (typeof o['dead_letter_topic'] === 'string' && isValidTopicName(o['dead_letter_topic'])) c.deadLetterTopic = o['dead_letter_topic'];
  if (typeof o['msg_ttl_ms'] === 'number' && o['msg_ttl_ms'] >= 0) c.msgTtlMs = o['msg_ttl_ms'];
  return c;
}

// ---- depth ----------------------------------------------------------------------------------

/** The fullest queue of a topic: its own backlog or its fullest channel (memory and disk). */
export function queuedDepth(t: { depth(): number; channels(): readonly { depth(): number }[] }): number {
  let d = t.depth();
  for (const ch of t.channels()) d = Math.max(d, ch.depth());
  return d;
}

/**
 * Drop-oldest: removes the oldest records until `depth() <= max` (0 = unbounded); returns how many.
 * The memory queue holds the older messages (the disk takes the overflow), so it goes first.
 */
export function trimOldest(mem: { readonly length: number; shift(): unknown }, backend: { depth(): number; peek(): unknown; advance(): void }, max: number): number {
  if (max === 0) return 0;
  let dropped = 0;
  while (mem.length + backend.depth() > max) {
    if (mem.length > 0) mem.shift();
    else if (backend.peek() !== null) backend.advance();
    else break;
    dropped++;
  }
  return dropped;
}
