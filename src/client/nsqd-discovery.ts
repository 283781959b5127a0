/**
 * Which nsqd nodes a consumer connects to, and when it tries again (go-nsq `consumer.go`
 * ConnectToNSQLookupd / lookupdLoop / queryLookupd / onConnClose): lookupd polling after a random
 * initial jitter, the nsqd addresses given directly, and their reconnects with a doubling delay.
 * Connecting itself is the consumer's; this module only decides where and when.
 */
import type { Logger } from '../lib/logger.js';
import { lookupUrl, queryLookupd } from './lookupd.js';

/** Discovery settings (durations in ms; see ConsumerOptions). */
export interface DiscoveryOptions {
  topic: string;
  nsqdTcpAddresses: string[];
  lookupdHttpAddresses: string[];
  lookupdPollInterval: number;
  lookupdPollJitter: number;
  lookupdPollTimeout: number;
  reconnectDelay: number;
  /** Bearer token for lookupd queries (go-nsq sends the auth secret). */
  authSecret: string;
}

/** What discovery needs of its consumer. */
export interface DiscoveryHost {
  readonly log: Logger;
  /** `[topic/channel]`, the prefix of log lines. */
  readonly logPrefix: string;
  /** True while discovery should go on. */
  isRunning(): boolean;
  /** Connects to an nsqd (a no-op when connected or dialling); never rejects. */
  connect(address: string, direct: boolean): Promise<void>;
}

/**
 * The delay before reconnect attempt `failures + 1` to a direct nsqd: `base × 2^failures`, capped
 * at the lookupd poll interval (go-nsq always waits the poll interval; the nsq.io client guide
 * recommends growing delays).
 */
export function reconnectDelay(base: number, failures: number, cap: number): number {
  return Math.min(base * 2 ** failures, cap);
}

/** Finds the nsqd nodes of a topic and brings dropped ones back. */
export class NsqdDiscovery {
  readonly #o: DiscoveryOptions;
  readonly #host: DiscoveryHost;
  readonly #lookupdUrls: string[];
  readonly #directAddresses: string[];
  readonly #reconnects = new Map<string, { timer: NodeJS.Timeout | null; failures: number }>();
  #pollTimer: NodeJS.Timeout | null = null;
  #lookupRunning: Promise<void> | null = null;

  constructor(opts: DiscoveryOptions, host: DiscoveryHost) {
    this.#o = opts;
    this.#host = host;
    this.#lookupdUrls = opts.lookupdHttpAddresses.map((a) => lookupUrl(a, opts.topic));
    this.#directAddresses = [...opts.nsqdTcpAddresses];
  }

  /**
   * Connects to the direct addresses and runs the first lookupd query, then polls every
   * interval after a random delay of up to `jitter × interval` (so consumers restarted together
   * do not all query at once). Resolves when the first attempts are done.
   */
  start(): Promise<void> {
    const work: Promise<void>[] = this.#o.nsqdTcpAddresses.map((a) => this.#host.connect(a, true));
    if (this.#lookupdUrls.length > 0) {
      work.push(this.#queryLookupds());
      const jitter = Math.random() * this.#o.lookupdPollJitter * this.#o.lookupdPollInterval;
      this.#pollTimer = setTimeout(() => this.#pollLoop(), jitter);
    }
    return Promise.all(work).then(() => undefined);
  }

  /** go-nsq `ConnectToNSQD` adds the address to the direct ones, which are reconnected when dropped. */
  addDirect(address: string): void {
    if (!this.#directAddresses.includes(address)) this.#directAddresses.push(address);
  }

  /** An nsqd is connected: its reconnect backoff starts over. */
  connected(address: string): void {
    this.#reconnects.delete(address);
  }

  /** A dial to a direct nsqd failed: try again later. */
  dialFailed(address: string): void {
    this.#scheduleReconnect(address);
  }

  /** A connection dropped: a direct nsqd is redialled; a discovered one is looked up again at once. */
  dropped(address: string): void {
    if (this.#directAddresses.includes(address)) this.#scheduleReconnect(address);
    else if (this.#lookupdUrls.length > 0) void this.#queryLookupds();
  }

  /** Stops polling and reconnects; resolves when a lookup under way is done. */
  async stop(): Promise<void> {
    if (this.#pollTimer !== null) clearTimeout(this.#pollTimer);
    for (const r of this.#reconnects.values()) if (r.timer !== null) clearTimeout(r.timer);
    this.#reconnects.clear();
    if (this.#lookupRunning !== null) await this.#lookupRunning;
  }

  #scheduleReconnect(address: string): void {
    if (!this.#host.isRunning()) return;
    const r = this.#reconnects.get(address) ?? { timer: null, failures: 0 };
    if (r.timer !== null) return;
    const delay = reconnectDelay(this.#o.reconnectDelay, r.failures, this.#o.lookupdPollInterval);
    r.failures++;
    r.timer = setTimeout(() => {
      r.timer = null;
      void this.#host.connect(address, true);
    }, delay);
    this.#reconnects.set(address, r);
  }

  #pollLoop(): void {
    if (!this.#host.isRunning()) return;
    void this.#queryLookupds().finally(() => {
      if (this.#host.isRunning()) this.#pollTimer = setTimeout(() => this.#pollLoop(), this.#o.lookupdPollInterval);
    });
  }

  // Queries every lookupd and connects to each nsqd any of them lists (the union over lookupds,
  // as the nsq.io client guide describes; go-nsq rotates one per tick, which converges to it).
  #queryLookupds(): Promise<void> {
    if (this.#lookupRunning !== null) return this.#lookupRunning;
    this.#lookupRunning = (async () => {
      const found = new Set<string>();
      await Promise.all(
        this.#lookupdUrls.map(async (url) => {
          try {
            for (const a of await queryLookupd(url, this.#o.lookupdPollTimeout, this.#o.authSecret)) found.add(a);
          } catch (err) {
            this.#host.log.warn(`${this.#host.logPrefix} ${(err as Error).message}`);
          }
        }),
      );
      await Promise.all([...found].map((a) => this.#host.connect(a, false)));
    })().finally(() => (this.#lookupRunning = null));
    return this.#lookupRunning;
  }
}
