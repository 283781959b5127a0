import type { Message } from '../protocol/message.js';
import type { QueueLimits } from './queue-config.js';

/** A topic as the queue extensions see it (kept structural so topic.ts and the extensions do not import each other). */
export interface QueueTopicView {
  readonly name: string;
  readonly limits: QueueLimits;
  rejectedCount: number;
  depth(): number;
  channels(): readonly { depth(): number }[];
}

/** A channel as the queue extensions see it. */
export interface QueueChannelView {
  readonly topicName: string;
  readonly name: string;
  limits: QueueLimits;
}

/** What topics and channels ask of the opt-in queue extensions (NsqdContext.extensions, docs/extensions.md). */
export interface QueueHooks {
  topicLimits(topic: string): QueueLimits;
  channelLimits(topic: string, channel: string): QueueLimits;
  /** Throws a PutError when `count` more messages may not be published to `topic` (draining, full). */
  admit(topic: QueueTopicView, count: number): void;
  /** Publishes `m` (out of attempts on `ch`) to the channel's dead-letter topic; false if it could not. */
  deadLetter(ch: QueueChannelView, m: Message): boolean;
}
