/**
 * Feeds the live charts: every interval, discover the nsqd nodes and read each one's
 * `/stats?format=json&include_clients=false` at once, then hand the counters to TimeSeries.
 * One sample at a time (the next is scheduled when the previous finished); the timer is
 * unref'd so it never keeps the process alive, and stop() ends it.
 */

import type { Logger } from '../lib/logger.js';
import type { ClusterAddresses, ClusterInfo, Warnings } from './cluster-info.js';
import { httpAddressOf } from './producers.js';
import { nodeSamples, type NodeSample, type SampledTopic, TimeSeries } from './timeseries.js';

/** Periodic sampler owning the TimeSeries it fills. */
export class ChartSampler {
  readonly series: TimeSeries;
  #cluster: ClusterInfo;
  #addresses: () => ClusterAddresses;
  #logger: Logger;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #inFlight: Promise<void> | undefined;

  constructor(cluster: ClusterInfo, addresses: () => ClusterAddresses, intervalMs: number, logger: Logger) {
    this.series = new TimeSeries(intervalMs);
    this.#cluster = cluster;
    this.#addresses = addresses;
    this.#logger = logger;
  }

  /** Takes a first sample now, then one per interval. */
  start(): void {
    if (this.#running || this.series.intervalMs <= 0) return;
    this.#running = true;
    this.#tick();
  }

  #tick(): void {
    if (!this.#running) return;
    this.#inFlight = this.sampleOnce().finally(() => {
      this.#inFlight = undefined;
      if (!this.#running) return;
      this.#timer = setTimeout(() => this.#tick(), this.series.intervalMs);
      this.#timer.unref();
    });
  }

  /** One sample; failures are logged at debug level (the API already reports them). */
  async sampleOnce(): Promise<void> {
    const t = Date.now();
    const w: Warnings = [];
    try {
      const producers = await this.#cluster.producers(this.#addresses(), w);
      const results = await Promise.allSettled(
        producers.map(async (p) => {
          const node = httpAddressOf(p);
          const stats = await this.#cluster.client.getJson<{ topics?: SampledTopic[] | null }>(`http://${node}/stats?format=json&include_clients=false`);
          return nodeSamples(node, stats.topics ?? []);
        }),
      );
      const samples: NodeSample[] = [];
      for (const r of results) {
        if (r.status === 'fulfilled') samples.push(...r.value);
        else w.push(r.reason instanceof Error ? r.reason.message : String(r.reason));
      }
      this.series.ingest(t, samples);
    } catch (err) {
      w.push(err instanceof Error ? err.message : String(err));
    }
    if (w.length > 0) this.#logger.debug(`chart sample incomplete - ${w.join('; ')}`);
  }

  /** Stops sampling and waits for a sample in progress. */
  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#inFlight;
  }
}
