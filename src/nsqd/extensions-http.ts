/**
 * HTTP endpoints and /stats keys of the opt-in queue extensions (docs/extensions.md):
 * `POST|GET /topic/config`, `POST|GET /channel/config`, `POST /drain`. Errors follow the
 * original's API style (status + upper-case code).
 */
import { HttpApiError } from '../http/api-error.js';
import type { HttpContext, Router } from '../http/router.js';
import { isValidChannelName, isValidTopicName } from '../protocol/names.js';
import { remaining } from './drain.js';
import type { NsqdHttpHost } from './http-api-host.js';
import {
  applyChannelArgs,
  applyTopicArgs,
  type ChannelConfig,
  channelConfigJson,
  NO_LIMITS,
  QueueConfigError,
  type QueueLimits,
  type RawArgs,
  type TopicConfig,
  topicConfigJson,
} from './queue-config.js';
import type { StatsJson } from './stats.js';

const err = (status: number, text: string) => new HttpApiError(status, text);

/** Query args merged with a JSON object body (the body wins); a body that is not an object is 400 INVALID_BODY. */
async function configArgs(ctx: HttpContext, maxBodySize: number): Promise<RawArgs> {
  const url = ctx.req.url ?? '';
  const q = url.indexOf('?');
  const args: RawArgs = {};
  for (const [k, v] of new URLSearchParams(q === -1 ? '' : url.slice(q + 1))) args[k] = v;
  const { body, tooBig } = await ctx.readBody(maxBodySize).catch(() => {
    throw err(500, 'INTERNAL_ERROR');
  });
  if (tooBig) throw err(413, 'BODY_TOO_BIG');
  if (body.length === 0) return args;
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw err(400, 'INVALID_BODY');
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw err(400, 'INVALID_BODY');
  return { ...args, ...(json as RawArgs) };
}

function limitsJson(l: QueueLimits, channel: boolean): RawArgs {
  const o: RawArgs = channel ? { max_attempts: l.maxAttempts, dead_letter_topic: l.deadLetterTopic } : {};
  return { ...o, msg_ttl_ms: l.msgTtlMs, max_depth: l.maxDepth, max_depth_policy: l.dropOldest ? 'drop-oldest' : 'reject' };
}

function configError(e: unknown): never {
  if (e instanceof QueueConfigError) throw err(400, e.message);
  throw e;
}

/** Registers the extension routes on nsqd's router. */
export function registerExtensionRoutes(r: Router, nsqd: NsqdHttpHost): void {
  const ext = nsqd.extensions;

  const topicOf = (ctx: HttpContext) => {
    const t = ctx.query().get('topic');
    if (t === undefined) throw err(400, 'MISSING_ARG_TOPIC');
    if (!isValidTopicName(t)) throw err(400, 'INVALID_ARG_TOPIC');
    const topic = nsqd.getExistingTopic(t);
    if (topic === undefined) throw err(404, 'TOPIC_NOT_FOUND');
    return topic;
  };
  const channelOf = (ctx: HttpContext) => {
    const topic = topicOf(ctx);
    const c = ctx.query().get('channel');
    if (c === undefined) throw err(400, 'MISSING_ARG_CHANNEL');
    if (!isValidChannelName(c)) throw err(400, 'INVALID_ARG_CHANNEL');
    const ch = topic.getExistingChannel(c);
    if (ch === undefined) throw err(404, 'CHANNEL_NOT_FOUND');
    return ch;
  };

  const topicReply = (name: string) => {
    const t = nsqd.getExistingTopic(name);
    return { topic: name, config: topicConfigJson(ext.topicConfig(name)), effective: limitsJson(t?.limits ?? NO_LIMITS, false) };
  };
  r.get('/topic/config', (ctx) => topicReply(topicOf(ctx).name));
  r.post('/topic/config', async (ctx) => {
    const t = topicOf(ctx);
    const args = await configArgs(ctx, nsqd.options.maxBodySize);
    let c: TopicConfig;
    try {
      c = applyTopicArgs(ext.topicConfig(t.name), args);
    } catch (e) {
      configError(e);
    }
    ext.setTopicConfig(t, c);
    nsqd.persistMetadata(true);
    nsqd.logger.info(`TOPIC(${t.name}): config ${JSON.stringify(topicConfigJson(c))}`);
    return topicReply(t.name);
  });

  const channelReply = (ch: { topicName: string; name: string; limits: QueueLimits }) => ({
    topic: ch.topicName,
    channel: ch.name,
    config: channelConfigJson(ext.channelConfig(ch.topicName, ch.name)),
    effective: limitsJson(ch.limits, true),
  });
  r.get('/channel/config', (ctx) => channelReply(channelOf(ctx)));
  r.post('/channel/config', async (ctx) => {
    const ch = channelOf(ctx);
    const args = await configArgs(ctx, nsqd.options.maxBodySize);
    let c: ChannelConfig;
    try {
      c = applyChannelArgs(ext.channelConfig(ch.topicName, ch.name), args);
    } catch (e) {
      configError(e);
    }
    ext.setChannelConfig(ch, c);
    nsqd.persistMetadata(true);
    nsqd.logger.info(`CHANNEL(${ch.name}): config ${JSON.stringify(channelConfigJson(c))}`);
    return channelReply(ch);
  });

  r.post('/drain', () => {
    const drain = ext.drain;
    if (drain === null) throw err(500, 'INTERNAL_ERROR');
    drain.start();
    const p = drain.progress();
    return { draining: true, remaining: remaining(p), depth: p.depth, in_flight_count: p.inFlight, deferred_count: p.deferred };
  });
}

/**
 * Appends the extension keys to a /stats JSON object, after the original's keys so existing
 * parsers keep working: per channel / topic only where an extension applies or has counted
 * something, and `draining` + `drain_remaining` at the top while draining.
 */
export function withExtensionStats(s: StatsJson, nsqd: NsqdHttpHost): StatsJson {
  for (const tj of s.topics ?? []) {
    const t = nsqd.getExistingTopic(tj.topic_name);
    if (t === undefined) continue;
    if (t.limits !== NO_LIMITS || t.rejectedCount !== 0 || t.droppedCount !== 0) {
      Object.assign(tj, { rejected_count: t.rejectedCount, dropped_count: t.droppedCount });
    }
    for (const cj of tj.channels) {
      const ch = t.getExistingChannel(cj.channel_name);
      if (ch === undefined) continue;
      if (ch.limits !== NO_LIMITS || ch.deadLetteredCount !== 0 || ch.expiredCount !== 0 || ch.droppedCount !== 0) {
        Object.assign(cj, { dead_lettered_count: ch.deadLetteredCount, expired_count: ch.expiredCount, dropped_count: ch.droppedCount });
      }
    }
  }
  const drain = nsqd.extensions.drain;
  if (drain?.active) Object.assign(s, { draining: true, drain_remaining: remaining(drain.progress()) });
  return s;
}
