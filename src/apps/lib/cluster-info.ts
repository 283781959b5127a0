/**
 * The slice of the original's `internal/clusterinfo` the utilities need: topic lists and producers
 * from nsqlookupd, channel counters from nsqd `/stats`, summed over nodes like nsqadmin does.
 */
import { httpRequest } from './http-request.js';
import type { ChannelCounters } from './stat-table.js';

/** Timeouts for every query (`--http-client-connect-timeout`, `--http-client-request-timeout`). */
export interface ClusterInfoOptions {
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  userAgent?: string;
}

/** A failed cluster query; `message` reads like the original's clusterinfo errors. */
export class ClusterInfoError extends Error {
  override readonly name = 'ClusterInfoError';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `host:port` with IPv6 hosts bracketed (Go's net.JoinHostPort). */
export function joinHostPort(host: string, port: number | string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Prepends `http://` unless the address carries a scheme. */
function endpoint(addr: string, pathAndQuery: string): string {
  return (/^https?:\/\//.test(addr) ? addr : `http://${addr}`) + pathAndQuery;
}

/** Queries nsqlookupd and nsqd HTTP APIs with bounded timeouts. */
export class ClusterInfo {
  readonly #opts: ClusterInfoOptions;

  constructor(opts: ClusterInfoOptions) {
    this.#opts = opts;
  }

  /** GETs JSON, accepting both the V1 shape and the legacy `{status_code, data}` envelope. */
  async getJson(url: string): Promise<unknown> {
    const res = await httpRequest(url, {
      connectTimeoutMs: this.#opts.connectTimeoutMs,
      requestTimeoutMs: this.#opts.requestTimeoutMs,
      headers: { Accept: 'application/vnd.nsq; version=1.0', ...(this.#opts.userAgent ? { 'User-Agent': this.#opts.userAgent } : {}) },
    });
    const text = res.body.toString('utf8');
    if (res.status !== 200) throw new ClusterInfoError(`got response ${res.status} ${JSON.stringify(text)}`);
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new ClusterInfoError(`invalid JSON from ${url} - ${(err as Error).message}`);
    }
    if (res.headers['x-nsq-content-type'] !== 'nsq; version=1.0' && isObject(data) && 'data' in data && 'status_code' in data) {
      data = data.data;
    }
    return data;
  }

  /** Union of `/topics` over every lookupd; fails only when no lookupd answered. */
  async getLookupdTopics(lookupds: readonly string[]): Promise<string[]> {
    const topics = new Set<string>();
    const errs: string[] = [];
    await Promise.all(
      lookupds.map(async (addr) => {
        try {
          const data = await this.getJson(endpoint(addr, '/topics'));
          const list = isObject(data) ? data.topics : undefined;
          if (Array.isArray(list)) for (const t of list) if (typeof t === 'string') topics.add(t);
        } catch (err) {
          errs.push((err as Error).message);
        }
      }),
    );
    if (errs.length > 0 && errs.length === lookupds.length) {
      throw new ClusterInfoError(`Failed to query any nsqlookupd: ${errs.join('\n')}`);
    }
    return [...topics].sort();
  }

  /** nsqd HTTP addresses (`broadcast_address:http_port`) producing `topic`, per lookupd `/lookup`. */
  async getLookupdTopicProducers(topic: string, lookupds: readonly string[]): Promise<string[]> {
    const producers = new Set<string>();
    const errs: string[] = [];
    await Promise.all(
      lookupds.map(async (addr) => {
        try {
          const data = await this.getJson(endpoint(addr, `/lookup?topic=${encodeURIComponent(topic)}`));
          const list = isObject(data) ? data.producers : undefined;
          if (!Array.isArray(list)) return;
          for (const p of list) {
            if (isObject(p) && typeof p.broadcast_address === 'string' && typeof p.http_port === 'number') {
              producers.add(joinHostPort(p.broadcast_address, p.http_port));
            }
          }
        } catch (err) {
          errs.push((err as Error).message);
        }
      }),
    );
    if (errs.length > 0) {
      if (errs.length === lookupds.length) throw new ClusterInfoError(`Failed to query any nsqlookupd: ${errs.join('\n')}`);
      throw new ClusterInfoError(errs.join('\n'));
    }
    return [...producers].sort();
  }

  /** The given nsqd HTTP addresses that currently have `topic`. */
  async getNsqdTopicProducers(topic: string, nsqds: readonly string[]): Promise<string[]> {
    const producers: string[] = [];
    const errs: string[] = [];
    await Promise.all(
      nsqds.map(async (addr) => {
        try {
          const data = await this.getJson(endpoint(addr, `/stats?format=json&topic=${encodeURIComponent(topic)}&include_clients=false`));
          const topics = isObject(data) ? data.topics : undefined;
          if (Array.isArray(topics) && topics.some((t) => isObject(t) && t.topic_name === topic)) producers.push(addr);
        } catch (err) {
          errs.push((err as Error).message);
        }
      }),
    );
    if (errs.length > 0) {
      if (errs.length === nsqds.length) throw new ClusterInfoError(`Failed to query any nsqd: ${errs.join('\n')}`);
      throw new ClusterInfoError(errs.join('\n'));
    }
    return producers.sort();
  }

  /** The channel's counters summed over `producers`, or undefined when no node has the channel. */
  async getChannelCounters(producers: readonly string[], topic: string, channel: string): Promise<ChannelCounters | undefined> {
    let sum: ChannelCounters | undefined;
    const errs: string[] = [];
    const q = `/stats?format=json&topic=${encodeURIComponent(topic)}&channel=${encodeURIComponent(channel)}&include_clients=false`;
    const perNode = await Promise.all(
      producers.map(async (addr) => {
        try {
          return channelFromStats(await this.getJson(endpoint(addr, q)), topic, channel);
        } catch (err) {
          errs.push((err as Error).message);
          return undefined;
        }
      }),
    );
    if (errs.length > 0) throw new ClusterInfoError(errs.join('\n'));
    for (const c of perNode) {
      if (!c) continue;
      sum = sum ? addCounters(sum, c) : c;
    }
    return sum;
  }
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : 0;
}

/** Picks one channel out of an nsqd `/stats` document (memory depth = depth − backend depth). */
export function channelFromStats(stats: unknown, topic: string, channel: string): ChannelCounters | undefined {
  const topics = isObject(stats) ? stats.topics : undefined;
  if (!Array.isArray(topics)) return undefined;
  for (const t of topics) {
    if (!isObject(t) || t.topic_name !== topic || !Array.isArray(t.channels)) continue;
    for (const c of t.channels) {
      if (!isObject(c) || c.channel_name !== channel) continue;
      const depth = num(c.depth);
      const backendDepth = num(c.backend_depth);
      return {
        depth,
        memoryDepth: depth - backendDepth,
        backendDepth,
        inFlightCount: num(c.in_flight_count),
        deferredCount: num(c.deferred_count),
        requeueCount: num(c.requeue_count),
        timeoutCount: num(c.timeout_count),
        messageCount: num(c.message_count),
        clientCount: typeof c.client_count === 'number' ? c.client_count : Array.isArray(c.clients) ? c.clients.length : 0,
      };
    }
  }
  return undefined;
}

/** Field-wise sum (nsqadmin's ChannelStats.Add). */
export function addCounters(a: ChannelCounters, b: ChannelCounters): ChannelCounters {
  return {
    depth: a.depth + b.depth,
    memoryDepth: a.memoryDepth + b.memoryDepth,
    backendDepth: a.backendDepth + b.backendDepth,
    inFlightCount: a.inFlightCount + b.inFlightCount,
    deferredCount: a.deferredCount + b.deferredCount,
    requeueCount: a.requeueCount + b.requeueCount,
    timeoutCount: a.timeoutCount + b.timeoutCount,
    messageCount: a.messageCount + b.messageCount,
    clientCount: a.clientCount + b.clientCount,
  };
}
