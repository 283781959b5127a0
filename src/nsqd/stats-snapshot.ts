// The read-only view of nsqd's counters that statsd and Prometheus render (both are views on
// counters the core keeps, not separate collectors). Built by the daemon without client details.
import type { E2eResult } from '../lib/quantile.js';

/** One channel's figures at snapshot time. */
export interface ChannelStatsSnapshot {
  name: string;
  depth: number;
  backendDepth: number;
  inFlightCount: number;
  deferredCount: number;
  messageCount: number;
  requeueCount: number;
  timeoutCount: number;
  clientCount: number;
  paused?: boolean;
  /** Queue extensions (docs/extensions.md); 0 while off. */
  deadLetteredCount?: number;
  expiredCount?: number;
  droppedCount?: number;
  /** Damaged disk-queue bytes skipped; present only with --disk-checksums. */
  diskCorruptBytes?: number;
  e2e: E2eResult;
}

/** One topic's figures; `channels` sorted by name. */
export interface TopicStatsSnapshot {
  name: string;
  depth: number;
  backendDepth: number;
  messageCount: number;
  messageBytes: number;
  paused?: boolean;
  /** Queue extensions (docs/extensions.md); 0 while off. */
  rejectedCount?: number;
  droppedCount?: number;
  /** Damaged disk-queue bytes skipped; present only with --disk-checksums. */
  diskCorruptBytes?: number;
  e2e: E2eResult;
  channels: ChannelStatsSnapshot[];
}

/** The `memory` figures of /stats (Go runtime names; a Node port maps what it can, 0 otherwise). */
export interface MemStatsSnapshot {
  heapObjects: number;
  heapIdleBytes: number;
  heapInUseBytes: number;
  heapReleasedBytes: number;
  gcPauseUsec100: number;
  gcPauseUsec99: number;
  gcPauseUsec95: number;
  nextGcBytes: number;
  gcTotalRuns: number;
}

/** Everything a metrics push needs; `topics` sorted by name. */
export interface StatsSnapshot {
  topics: TopicStatsSnapshot[];
  /** --disk-checksums is on: the disk corruption counters are rendered. */
  diskChecksums?: boolean;
  memory?: MemStatsSnapshot;
}
