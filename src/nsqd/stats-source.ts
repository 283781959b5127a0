import type { CorruptionTally } from '../diskqueue/corruption-tally.js';
import type { ClientV2 } from './client-v2.js';
import type { NsqdOptions } from './options.js';
import type { Topic } from './topic.js';

/**
 * What /stats, the statsd pusher and the Prometheus view read from nsqd: the topics, the
 * connected clients and a few identity fields. Stats code depends on this narrow view, not on
 * the `Nsqd` class, so that nsqd.ts can use the stats code without an import cycle.
 */
export interface StatsSource {
  readonly options: Pick<NsqdOptions, 'e2eProcessingLatencyPercentiles' | 'diskChecksums'>;
  readonly version: string;
  /** Process start, epoch ms. */
  readonly startTime: number;
  readonly clients: ReadonlyMap<number, ClientV2>;
  /** Damaged disk-queue bytes skipped per queue (shown with --disk-checksums). */
  readonly corruptionTally: CorruptionTally;
  /** `OK` or `NOK - <last disk error>`. */
  health(): string;
  topics(): Topic[];
  getExistingTopic(name: string): Topic | undefined;
}
