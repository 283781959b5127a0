/**
 * Cluster discovery, stats and admin actions over nsqlookupd and nsqd HTTP APIs
 * (`internal/clusterinfo/data.go`). Reads fan out in parallel; writes go one by one.
 *
 * Error model, as upstream: when every upstream of a step failed the step throws ClusterError
 * (the API answers 502 `UPSTREAM_ERROR: …`); when only some failed, their errors (joined by
 * newlines) are pushed onto the caller's `warnings` and the step returns what it got.
 */

import type { UpstreamClient } from './upstream-client.js';
import {
  addChannel,
  emptyChannelAggregate,
  topicFromNsqd,
  type ChannelStats,
  type NsqdTopic,
  type StatsSource,
  type TopicStats,
} from './cluster-stats.js';
import {
  httpAddressOf,
  markOutOfDate,
  mergeLookupdNodes,
  mergeTopicProducers,
  sortByHostname,
  type LookupdPeer,
  type Producer,
} from './producers.js';
import type { Logger } from '../lib/logger.js';

/** Every upstream of a step failed. */
export class ClusterError extends Error {
  override readonly name = 'ClusterError';
}

/** Partial-failure texts collected while answering one request. */
export type Warnings = string[];

/** Where the cluster is: lookupd mode (lookupd addresses) or nsqd mode (nsqd addresses). */
export interface ClusterAddresses {
  lookupd: readonly string[];
  nsqd: readonly string[];
}

const q = encodeURIComponent;

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

interface FanOut<I, T> {
  results: Array<{ item: I; value: T }>;
  errors: string[];
}

/** Runs `fn` for every item (an address or a producer) at once; results keep item order. */
async function fanOut<I, T>(items: readonly I[], fn: (item: I) => Promise<T>): Promise<FanOut<I, T>> {
  const settled = await Promise.allSettled(items.map(async (item) => ({ item, value: await fn(item) })));
  const out: FanOut<I, T> = { results: [], errors: [] };
  for (const s of settled) {
    if (s.status === 'fulfilled') out.results.push(s.value);
    else out.errors.push(errText(s.reason));
  }
  return out;
}

/** Throws when all failed; records a partial failure otherwise. */
function judge(kind: 'nsqlookupd' | 'nsqd', total: number, errors: string[], w: Warnings): void {
  if (errors.length === total) throw new ClusterError(`failed to query any ${kind}: ${errors.join('\n')}`);
  if (errors.length > 0) w.push(errors.join('\n'));
}

interface NsqdInfo {
  version?: string;
  broadcast_address?: string;
  hostname?: string;
  http_port?: number;
  tcp_port?: number;
  topology_zone?: string;
  topology_region?: string;
}

interface NsqdStatsReply {
  topics?: NsqdTopic[] | null;
}

function splitAddr(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  let host = i < 0 ? addr : addr.slice(0, i);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return { host, port: i < 0 ? 0 : Number(addr.slice(i + 1)) || 0 };
}

function uniqSorted(list: string[]): string[] {
  return [...new Set(list)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Stats of a set of producers: per-node topics and per-channel aggregates. */
export interface NsqdStats {
  topics: TopicStats[];
  /** Keyed by channel name when a topic was selected, else `topic:channel`. */
  channels: Map<string, ChannelStats>;
}

/** The clusterinfo operations nsqadmin's API and sampler use. */
export class ClusterInfo {
  readonly client: UpstreamClient;
  #logger: Logger;
  /** Wall clock for client `connected` durations. */
  #now: () => number;

  constructor(client: UpstreamClient, logger: Logger, now: () => number = Date.now) {
    this.client = client;
    this.#logger = logger;
    this.#now = now;
  }

  #get<T>(url: string): Promise<T> {
    this.#logger.debug(`CI: querying ${url}`);
    return this.client.getJson<T>(url);
  }

  /** Union of every lookupd's /topics, sorted. */
  async lookupdTopics(lookupds: readonly string[], w: Warnings): Promise<string[]> {
    const r = await fanOut(lookupds, (a) => this.#get<{ topics?: string[] }>(`http://${a}/topics`));
    judge('nsqlookupd', lookupds.length, r.errors, w);
    return uniqSorted(r.results.flatMap((x) => x.value.topics ?? []));
  }

  /** Union of every lookupd's /channels?topic=, sorted. */
  async lookupdTopicChannels(topic: string, lookupds: readonly string[], w: Warnings): Promise<string[]> {
    const r = await fanOut(lookupds, (a) => this.#get<{ channels?: string[] }>(`http://${a}/channels?topic=${q(topic)}`));
    judge('nsqlookupd', lookupds.length, r.errors, w);
    return uniqSorted(r.results.flatMap((x) => x.value.channels ?? []));
  }

  /** Every nsqd known to any lookupd (/nodes). */
  async lookupdProducers(lookupds: readonly string[], w: Warnings): Promise<Producer[]> {
    const r = await fanOut(lookupds, (a) => this.#get<{ producers?: LookupdPeer[] }>(`http://${a}/nodes`));
    judge('nsqlookupd', lookupds.length, r.errors, w);
    return mergeLookupdNodes(r.results.map((x) => ({ lookupd: x.item, peers: x.value.producers ?? [] })));
  }

  /** The nsqd that have `topic` according to any lookupd (/lookup). */
  async lookupdTopicProducers(topic: string, lookupds: readonly string[], w: Warnings): Promise<Producer[]> {
    const r = await fanOut(lookupds, (a) => this.#get<{ producers?: LookupdPeer[] }>(`http://${a}/lookup?topic=${q(topic)}`));
    judge('nsqlookupd', lookupds.length, r.errors, w);
    return mergeTopicProducers(r.results.map((x) => x.value.producers ?? []));
  }

  /** Union of the topic names on every listed nsqd. */
  async nsqdTopics(nsqds: readonly string[], w: Warnings): Promise<string[]> {
    const r = await fanOut(nsqds, (a) => this.#get<NsqdStatsReply>(`http://${a}/stats?format=json&include_clients=false`));
    judge('nsqd', nsqds.length, r.errors, w);
    return uniqSorted(r.results.flatMap((x) => (x.value.topics ?? []).map((t) => t.topic_name)));
  }

  #producerFromInfo(addr: string, info: NsqdInfo, topics: string[]): Producer {
    const fallback = splitAddr(addr);
    const p = {
      remote_addresses: null,
      remote_address: '',
      hostname: info.hostname || fallback.host,
      broadcast_address: info.broadcast_address || fallback.host,
      tcp_port: info.tcp_port ?? 0,
      http_port: info.broadcast_address ? (info.http_port ?? 0) : fallback.port,
      version: info.version ?? '',
    } as Producer;
    if (info.topology_zone) p.topology_zone = info.topology_zone;
    if (info.topology_region) p.topology_region = info.topology_region;
    p.topics = topics.map((topic) => ({ topic, tombstoned: false }));
    p.out_of_date = false;
    return p;
  }

  /** nsqd mode: every listed nsqd as a producer (/info + /stats). */
  async nsqdProducers(nsqds: readonly string[], w: Warnings): Promise<Producer[]> {
    const r = await fanOut(nsqds, async (a) => {
      const info = await this.#get<NsqdInfo>(`http://${a}/info`);
      const stats = await this.#get<NsqdStatsReply>(`http://${a}/stats?format=json&include_clients=false`);
      return this.#producerFromInfo(a, info, (stats.topics ?? []).map((t) => t.topic_name));
    });
    judge('nsqd', nsqds.length, r.errors, w);
    const list = r.results.map((x) => x.value);
    markOutOfDate(list);
    return sortByHostname(list);
  }

  /** nsqd mode: the listed nsqd that have `topic`. */
  async nsqdTopicProducers(topic: string, nsqds: readonly string[], w: Warnings): Promise<Producer[]> {
    const r = await fanOut(nsqds, async (a) => {
      const stats = await this.#get<NsqdStatsReply>(`http://${a}/stats?format=json&topic=${q(topic)}&include_clients=false`);
      const names = (stats.topics ?? []).map((t) => t.topic_name);
      if (!names.includes(topic)) return undefined;
      const info = await this.#get<NsqdInfo>(`http://${a}/info`);
      return this.#producerFromInfo(a, info, names);
    });
    judge('nsqd', nsqds.length, r.errors, w);
    return r.results.flatMap((x) => (x.value ? [x.value] : []));
  }

  /** Producers of a topic in whichever mode is configured. */
  topicProducers(topic: string, c: ClusterAddresses, w: Warnings): Promise<Producer[]> {
    return c.lookupd.length > 0 ? this.lookupdTopicProducers(topic, c.lookupd, w) : this.nsqdTopicProducers(topic, c.nsqd, w);
  }

  /** Every producer in whichever mode is configured. */
  producers(c: ClusterAddresses, w: Warnings): Promise<Producer[]> {
    return c.lookupd.length > 0 ? this.lookupdProducers(c.lookupd, w) : this.nsqdProducers(c.nsqd, w);
  }

  /** Topic names in whichever mode is configured. */
  topics(c: ClusterAddresses, w: Warnings): Promise<string[]> {
    return c.lookupd.length > 0 ? this.lookupdTopics(c.lookupd, w) : this.nsqdTopics(c.nsqd, w);
  }

  /**
   * GetNSQDStats: /stats of every producer (filtered to `topic` when given), per-node topic rows
   * sorted by host, and channels aggregated across nodes.
   */
  async nsqdStats(producers: readonly Producer[], topic: string, includeClients: boolean, w: Warnings): Promise<NsqdStats> {
    const r = await fanOut(producers, (p) => {
      let url = `http://${httpAddressOf(p)}/stats?format=json`;
      if (topic !== '') url += `&topic=${q(topic)}`;
      if (!includeClients) url += '&include_clients=false';
      return this.#get<NsqdStatsReply>(url);
    });
    judge('nsqd', producers.length, r.errors, w);
    const now = this.#now();
    const topics: TopicStats[] = [];
    const channels = new Map<string, ChannelStats>();
    for (const { item: p, value } of r.results) {
      const src: StatsSource = { node: httpAddressOf(p), hostname: p.hostname, topologyRegion: p.topology_region ?? '', topologyZone: p.topology_zone ?? '' };
      for (const raw of value.topics ?? []) {
        if (topic !== '' && raw.topic_name !== topic) continue;
        const t = topicFromNsqd(raw, src, now);
        topics.push(t);
        for (const c of t.channels) {
          const key = topic !== '' ? c.channel_name : `${t.topic_name}:${c.channel_name}`;
          let agg = channels.get(key);
          if (!agg) channels.set(key, (agg = emptyChannelAggregate(t.topic_name, c.channel_name)));
          addChannel(agg, c);
        }
      }
    }
    topics.sort((a, b) => (a.topic_name !== b.topic_name ? (a.topic_name < b.topic_name ? -1 : 1) : a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : a.node < b.node ? -1 : 1));
    return { topics, channels };
  }

  /** POSTs `path?qs` to every lookupd in turn; failures are always partial (upstream nsqlookupdPOST). */
  async #lookupdPost(lookupds: readonly string[], path: string, qs: string, errs: string[]): Promise<void> {
    for (const a of lookupds) {
      const url = `http://${a}/${path}?${qs}`;
      this.#logger.debug(`CI: querying nsqlookupd ${url}`);
      await this.client.postV1(url).catch((e: unknown) => errs.push(errText(e)));
    }
  }

  /** POSTs `path?qs` to every producer in turn (upstream producersPOST). */
  async #producersPost(producers: readonly Producer[], path: string, qs: string, errs: string[]): Promise<void> {
    for (const p of producers) {
      const url = `http://${httpAddressOf(p)}/${path}?${qs}`;
      this.#logger.debug(`CI: querying nsqd ${url}`);
      await this.client.postV1(url).catch((e: unknown) => errs.push(errText(e)));
    }
  }

  /** Discovery for a write: hard failure propagates, partial failure joins `errs`. */
  async #producersFor(topic: string, c: ClusterAddresses, errs: string[]): Promise<Producer[]> {
    const w: Warnings = [];
    const list = await this.topicProducers(topic, c, w);
    errs.push(...w);
    return list;
  }

  #finishWrite(errs: string[], w: Warnings): void {
    if (errs.length > 0) w.push(errs.join('\n'));
  }

  /** Creates the topic (and channel) on every lookupd; the channel also on the topic's producers. */
  async createTopicChannel(topic: string, channel: string, lookupds: readonly string[], w: Warnings): Promise<void> {
    const errs: string[] = [];
    await this.#lookupdPost(lookupds, 'topic/create', `topic=${q(topic)}`, errs);
    if (channel !== '') {
      const qs = `topic=${q(topic)}&channel=${q(channel)}`;
      await this.#lookupdPost(lookupds, 'channel/create', qs, errs);
      const producers = await this.#producersFor(topic, { lookupd: lookupds, nsqd: [] }, errs);
      await this.#producersPost(producers, 'channel/create', qs, errs);
    }
    this.#finishWrite(errs, w);
  }

  /** Tombstones the topic for `node` on every lookupd, then deletes it on that nsqd. */
  async tombstoneNodeForTopic(topic: string, node: string, lookupds: readonly string[], w: Warnings): Promise<void> {
    const errs: string[] = [];
    await this.#lookupdPost(lookupds, 'topic/tombstone', `topic=${q(topic)}&node=${q(node)}`, errs);
    const pw: Warnings = [];
    const producers = await this.nsqdProducers([node], pw);
    errs.push(...pw);
    await this.#producersPost(producers, 'topic/delete', `topic=${q(topic)}`, errs);
    this.#finishWrite(errs, w);
  }

  /** Deletes the topic on every lookupd and on every nsqd that had it (found first). */
  async deleteTopic(topic: string, c: ClusterAddresses, w: Warnings): Promise<void> {
    const errs: string[] = [];
    const producers = await this.#producersFor(topic, c, errs);
    const qs = `topic=${q(topic)}`;
    await this.#lookupdPost(c.lookupd, 'topic/delete', qs, errs);
    await this.#producersPost(producers, 'topic/delete', qs, errs);
    this.#finishWrite(errs, w);
  }

  /** Deletes the channel on every lookupd and on the topic's producers. */
  async deleteChannel(topic: string, channel: string, c: ClusterAddresses, w: Warnings): Promise<void> {
    const errs: string[] = [];
    const producers = await this.#producersFor(topic, c, errs);
    const qs = `topic=${q(topic)}&channel=${q(channel)}`;
    await this.#lookupdPost(c.lookupd, 'channel/delete', qs, errs);
    await this.#producersPost(producers, 'channel/delete', qs, errs);
    this.#finishWrite(errs, w);
  }

  /** pause/unpause/empty a topic (`channel` empty) or channel on every producer of the topic. */
  async topicChannelAction(action: 'pause' | 'unpause' | 'empty', topic: string, channel: string, c: ClusterAddresses, w: Warnings): Promise<void> {
    const errs: string[] = [];
    const producers = await this.#producersFor(topic, c, errs);
    const path = channel === '' ? `topic/${action}` : `channel/${action}`;
    const qs = channel === '' ? `topic=${q(topic)}` : `topic=${q(topic)}&channel=${q(channel)}`;
    await this.#producersPost(producers, path, qs, errs);
    this.#finishWrite(errs, w);
  }
}
