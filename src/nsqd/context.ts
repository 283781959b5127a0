import type { BackendQueue } from '../diskqueue/backend-queue.js';
import type { GroupCommit } from '../diskqueue/group-commit.js';
import type { WriteBatch } from '../diskqueue/write-batch.js';
import type { Logger } from '../lib/logger.js';
import type { NsqdOptions } from './options.js';
import type { E2eLatency } from '../lib/quantile.js';
import type { QueueHooks } from './queue-hooks.js';
import type { InflightJournals } from './inflight-journals.js';

/** What the daemon lends to its topics and channels: options, logging, storage and notifications. */
export interface NsqdContext {
  readonly options: NsqdOptions;
  readonly logger: Logger;
  /** The daemon's disk-write batch: flushed before a publish is acknowledged. */
  readonly writeBatch: WriteBatch;
  /** The daemon's group commit: with --sync-every=1 a publish is acknowledged once it is durable. */
  readonly groupCommit: GroupCommit;
  /** A disk queue for `name` (topic or `topic:channel`), or a dropping one for ephemeral names. */
  makeBackend(name: string, ephemeral: boolean): BackendQueue;
  /** A topic or channel was created or deleted (lookupd registration + metadata persistence). */
  notify(event: 'create' | 'delete', topic: string, channel?: string): void;
  /** Records the outcome of a disk write for /ping health (upstream `nsqd/nsqd.go` SetHealth). */
  setHealth(err: Error | null): void;
  /** A per-channel e2e latency sketch when percentiles are configured. */
  makeE2eLatency(): E2eLatency | null;
  /** Epoch ms, cached per event-loop turn where possible. */
  now(): number;
  /** The opt-in queue extensions (docs/extensions.md); absent, topics and channels behave as the original's. */
  readonly extensions?: QueueHooks;
  /** Opens each durable channel's in-flight journal (--durable-inflight, docs/extensions.md); absent, none is read or written. */
  readonly inflightJournals?: InflightJournals;
}

/**
 * The consumer side of a subscribed connection, as a channel sees it.
 * Implemented by the V2 protocol client; kept narrow so channels can be tested with real sockets
 * or with any other consumer.
 */
export interface Consumer {
  readonly id: number;
  readonly msgTimeoutMs: number;
  readonly sampleRate: number;
  /**
   * Topology-aware consumption (the upstream experiment, `nsqd/channel.go`): the connection's IDENTIFY zone / region equals the
   * node's. Always false unless the experiment is enabled.
   */
  readonly zoneLocal: boolean;
  readonly regionLocal: boolean;
  /** May this consumer take one more message right now? */
  isReady(): boolean;
  /** Write the message frame (buffered). The channel has already made it in flight. */
  deliver(m: import('../protocol/message.js').Message): void;
  /** One of this consumer's in-flight messages timed out or was dropped by an empty. */
  inFlightReleased(count: number): void;
  /** The channel is going away: close the connection without an error frame. */
  closeForChannel(): void;
}
