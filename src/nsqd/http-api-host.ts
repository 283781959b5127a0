import type { Logger } from '../lib/logger.js';
import type { LookupManager } from './lookup-manager.js';
import type { NsqdOptions } from './options.js';
import type { StatsSource } from './stats-source.js';
import type { QueueExtensions } from './queue-extensions.js';
import type { Topic } from './topic.js';

/**
 * The part of nsqd that its HTTP API drives: topics to create, empty or delete, the bound and
 * broadcast ports for /info and /config, metadata persistence after admin changes and the
 * lookupd peers that PUT /config/nsqlookupd_tcp_addresses replaces. `Nsqd` provides it; the
 * API depends on this interface rather than the class so the two modules do not import each
 * other.
 */
export interface NsqdHttpHost extends StatsSource {
  readonly options: NsqdOptions;
  readonly logger: Logger;
  isHealthy(): boolean;
  tcpPort(): number;
  httpPort(): number;
  httpsPort(): number;
  broadcastTcpPort(): number;
  broadcastHttpPort(): number;
  lookup(): LookupManager | null;
  getTopic(name: string): Topic;
  deleteExistingTopic(name: string): boolean;
  /** Resolves once a topic restored from disk is ready for writes; null when it already is. */
  topicReady(topic: Topic): Promise<void> | null;
  persistMetadata(now?: boolean): void;
  /** Opt-in queue extensions and drain (docs/extensions.md). */
  readonly extensions: QueueExtensions;
}
