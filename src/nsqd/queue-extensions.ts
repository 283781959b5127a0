/**
 * The runtime side of the opt-in queue extensions (docs/extensions.md): holds the per-topic and
 * per-channel settings, hands each topic and channel its resolved limits, admits or refuses
 * publishes (max depth, drain), and moves messages out of their attempts to a dead-letter topic.
 * With no flag and no setting every topic and channel gets NO_LIMITS and nothing here runs on the
 * message paths.
 */
import type { Logger } from '../lib/logger.js';
import type { Message } from '../protocol/message.js';
import { isValidTopicName } from '../protocol/names.js';
import type { Drain } from './drain.js';
import type { QueueChannelView, QueueHooks, QueueTopicView } from './queue-hooks.js';
import {
  type ChannelConfig,
  channelConfigFromJson,
  channelConfigJson,
  type QueueDefaults,
  queuedDepth,
  type QueueLimits,
  type RawArgs,
  resolveChannelLimits,
  resolveTopicLimits,
  type TopicConfig,
  topicConfigFromJson,
  topicConfigJson,
} from './queue-config.js';
import { PutError, type Topic } from './topic.js';

/** A publish refused by an extension (drain, full topic): TCP `E_PUB_FAILED <message>`, HTTP 503 `httpText`. */
export class PublishRefusedError extends PutError {
  readonly httpText: string;
  constructor(message: string, httpText: string) {
    super(message);
    this.httpText = httpText;
  }
}

/** The daemon as the extensions see it. */
export interface QueueExtensionsHost {
  readonly options: QueueDefaults;
  readonly logger: Logger;
  topics(): Topic[];
  getTopic(name: string): Topic;
}

const channelKey = (topic: string, channel: string) => `${topic}:${channel}`;

/** Settings registry, admission and dead-lettering for one nsqd. */
export class QueueExtensions implements QueueHooks {
  readonly #host: QueueExtensionsHost;
  readonly #topicCfg = new Map<string, TopicConfig>();
  readonly #channelCfg = new Map<string, ChannelConfig>();
  /** Set by the daemon; publishes are refused while it is active. */
  drain: Drain | null = null;

  constructor(host: QueueExtensionsHost) {
    this.#host = host;
  }

  topicLimits(topic: string): QueueLimits {
    return resolveTopicLimits(this.#host.options, this.#topicCfg.get(topic));
  }

  channelLimits(topic: string, channel: string): QueueLimits {
    return resolveChannelLimits(this.#host.options, topic, this.#topicCfg.get(topic), this.#channelCfg.get(channelKey(topic, channel)));
  }

  topicConfig(topic: string): TopicConfig {
    return this.#topicCfg.get(topic) ?? {};
  }

  channelConfig(topic: string, channel: string): ChannelConfig {
    return this.#channelCfg.get(channelKey(topic, channel)) ?? {};
  }

  /** Replaces a topic's settings and re-resolves the limits of the topic and its channels. */
  setTopicConfig(t: Topic, c: TopicConfig): void {
    this.#topicCfg.set(t.name, c);
    t.limits = this.topicLimits(t.name);
    for (const ch of t.channels()) ch.limits = this.channelLimits(t.name, ch.name);
  }

  setChannelConfig(ch: QueueChannelView, c: ChannelConfig): void {
    this.#channelCfg.set(channelKey(ch.topicName, ch.name), c);
    ch.limits = this.channelLimits(ch.topicName, ch.name);
  }

  /** Settings read from nsqd.dat, applied before the topic or channel is created. */
  restore(topic: string, channel: string | null, json: unknown): void {
    if (channel === null) {
      const c = topicConfigFromJson(json);
      if (c !== undefined) this.#topicCfg.set(topic, c);
    } else {
      const c = channelConfigFromJson(json);
      if (c !== undefined) this.#channelCfg.set(channelKey(topic, channel), c);
    }
  }

  /** The extra nsqd.dat key of a topic or channel; undefined when it has no settings. */
  persisted(topic: string, channel: string | null): RawArgs | undefined {
    const json = channel === null ? topicConfigJson(this.topicConfig(topic)) : channelConfigJson(this.channelConfig(topic, channel));
    return Object.keys(json).length === 0 ? undefined : json;
  }

  /** Forgets the settings of a deleted topic (and its channels) or channel. */
  forget(topic: string, channel?: string): void {
    if (channel !== undefined) {
      this.#channelCfg.delete(channelKey(topic, channel));
      return;
    }
    this.#topicCfg.delete(topic);
    const prefix = channelKey(topic, '');
    for (const k of [...this.#channelCfg.keys()]) if (k.startsWith(prefix)) this.#channelCfg.delete(k);
  }

  admit(topic: QueueTopicView, count: number): void {
    if (this.drain?.active) {
      topic.rejectedCount += count;
      throw new PublishRefusedError('draining', 'DRAINING');
    }
    const lim = topic.limits;
    if (lim.maxDepth === 0 || lim.dropOldest) return;
    if (queuedDepth(topic) + count > lim.maxDepth) {
      topic.rejectedCount += count;
      throw new PublishRefusedError(`topic ${topic.name} is full`, 'TOPIC_FULL');
    }
  }

  deadLetter(ch: QueueChannelView, m: Message): boolean {
    const name = ch.limits.deadLetterTopic;
    const log = this.#host.logger;
    if (name === ch.topicName || !isValidTopicName(name)) {
      log.error(`CHANNEL(${ch.name}): cannot dead-letter message ${m.id} to invalid topic ${JSON.stringify(name)} - requeued; set dead_letter_topic with POST /channel/config`);
      return false;
    }
    m.clientId = 0;
    m.deferMs = 0;
    try {
      this.#host.getTopic(name).putMessage(m, true);
    } catch (err) {
      log.error(`CHANNEL(${ch.name}): failed to dead-letter message ${m.id} to ${name} - ${(err as Error).message} - requeued`);
      return false;
    }
    log.info(`CHANNEL(${ch.name}): message ${m.id} dead-lettered to topic ${name} after ${m.attempts} attempts`);
    return true;
  }
}
